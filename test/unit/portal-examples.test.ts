import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { firstSignInExample } from '../../src/http/pages/portal-examples.ts';
import type { Application, ResourceServer } from '../../src/domain/model.ts';

const api = { identifier: 'https://notes.example/api/', name: 'Notes' } as ResourceServer;
const entry = { api, scopes: [{ value: 'read:notes' }, { value: 'write:notes' }], offlineAccess: true };
const app = (fields: Partial<Application>) => ({ client_id: 'tpc_abc', callbacks: ["https://app.example/cb?team='x'"], token_endpoint_auth_method: 'none', ...fields }) as Application;

describe('the first sign-in shown to a developer', () => {
  it('asks for the default grant\'s scopes and offline access, for the API, with a matching S256 pair', () => {
    const example = firstSignInExample('https://id.example', app({}), entry);
    const url = new URL(example.authorizeUrl);
    expect(url.origin + url.pathname).toBe('https://id.example/authorize');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code', client_id: 'tpc_abc', redirect_uri: "https://app.example/cb?team='x'", scope: 'read:notes write:notes offline_access',
      resource: api.identifier, code_challenge_method: 'S256', code_challenge: createHash('sha256').update(example.verifier).digest('base64url'),
    });
  });

  it('quotes the redirect URI for the shell and keeps the secret a variable', () => {
    const publicClient = firstSignInExample('https://id.example', app({}), entry);
    expect(publicClient.tokenRequest).toContain(`--data-urlencode redirect_uri='https://app.example/cb?team='\\''x'\\'''`);
    expect(publicClient.tokenRequest).not.toContain('client_secret');
    const confidential = firstSignInExample('https://id.example', app({ token_endpoint_auth_method: 'client_secret_post' }), { ...entry, offlineAccess: false });
    expect(confidential.tokenRequest).toContain('-d client_secret="$CLIENT_SECRET"');
    expect(confidential.refreshRequest).toBeUndefined();
  });
});
