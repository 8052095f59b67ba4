import { describe, expect, it } from '@jest/globals';
import type { ResourceServer } from '../../src/domain/model.ts';
import { checkNotSystem, draftResourceServer, patchResourceServer } from '../../src/domain/resource-server-rules.ts';
import { systemResourceServer } from '../../src/domain/system-api.ts';
import { outcome } from '../support/rules.ts';

const now = '2026-01-01T00:00:00.000Z';
const later = '2026-02-01T00:00:00.000Z';

describe('draftResourceServer', () => {
  it('applies Auth0\'s defaults: RS256, a day, no refresh tokens, user access for all, client access per grant', () => {
    expect(draftResourceServer({ identifier: 'https://api.example.com/' }, 'rs1', now)).toEqual({
      id: 'rs1', identifier: 'https://api.example.com/', name: 'https://api.example.com/', is_system: false, scopes: [],
      signing_alg: 'RS256', token_lifetime: 86400, token_lifetime_for_web: 7200, token_dialect: 'access_token', allow_offline_access: false,
      skip_consent_for_verifiable_first_party_clients: false,
      subject_type_authorization: { user: { policy: 'allow_all' }, client: { policy: 'require_client_grant' } },
      created_at: now, updated_at: now,
    });
  });

  it('keeps the web token lifetime within a shorter token lifetime', () => {
    expect(draftResourceServer({ identifier: 'x', token_lifetime: 600 }, 'rs1', now).token_lifetime_for_web).toBe(600);
    expect(outcome(() => draftResourceServer({ identifier: 'x', token_lifetime: 600, token_lifetime_for_web: 601 }, 'rs1', now)))
      .toBe('invalid: invalid_body: token_lifetime_for_web (601) cannot be longer than token_lifetime (600)');
  });

  it('sets each subject type\'s policy on its own', () => {
    const api = draftResourceServer({ identifier: 'x', subject_type_authorization: { client: { policy: 'deny_all' } } }, 'rs1', now);
    expect(api.subject_type_authorization).toEqual({ user: { policy: 'allow_all' }, client: { policy: 'deny_all' } });
  });

  it('refuses a scope defined twice', () => {
    expect(outcome(() => draftResourceServer({ identifier: 'x', scopes: [{ value: 'read' }, { value: 'read', description: 'again' }] }, 'rs1', now)))
      .toBe('invalid: invalid_body: Scope read is defined twice in scopes');
  });
});

describe('patchResourceServer', () => {
  const api: ResourceServer = draftResourceServer({ identifier: 'https://api.example.com/', scopes: [{ value: 'read' }] }, 'rs1', now);

  it('replaces fields, merges policies per subject type and stamps the update', () => {
    const next = patchResourceServer(api, { name: 'API', allow_offline_access: true, subject_type_authorization: { user: { policy: 'require_client_grant' } } }, later);
    expect(next).toEqual({
      ...api, name: 'API', allow_offline_access: true, updated_at: later,
      subject_type_authorization: { user: { policy: 'require_client_grant' }, client: { policy: 'require_client_grant' } },
    });
  });

  it('checks the API it would produce', () => {
    expect(outcome(() => patchResourceServer(api, { token_lifetime: 60 }, later))).toMatch(/token_lifetime_for_web \(7200\) cannot be longer than token_lifetime \(60\)/);
  });

  it('never changes or deletes the system API (400, as Auth0 answers)', () => {
    const system = systemResourceServer('https://id.example.com', now);
    expect(outcome(() => patchResourceServer(system, { name: 'Mine' }, later))).toBe(
      'not_supported: operation_not_supported: The resource server https://id.example.com/api/v2/ is a system API: it cannot be changed or deleted',
    );
    expect(outcome(() => checkNotSystem(system))).toMatch(/^not_supported: /);
    expect(outcome(() => checkNotSystem(api))).toBe('ok');
  });

  it('lets the system API\'s token lifetimes change, and nothing else with them', () => {
    const system = systemResourceServer('https://id.example.com', now);
    expect(patchResourceServer(system, { token_lifetime: 900, token_lifetime_for_web: 600 }, later)).toEqual({ ...system, token_lifetime: 900, token_lifetime_for_web: 600, updated_at: later });
    expect(outcome(() => patchResourceServer(system, { token_lifetime: 60 }, later))).toMatch(/token_lifetime_for_web \(7200\) cannot be longer than token_lifetime \(60\)/);
    expect(outcome(() => patchResourceServer(system, { token_lifetime: 900, scopes: [] }, later))).toMatch(/^not_supported: .* is a system API/);
  });
});

describe('signing secrets (HS256 APIs)', () => {
  const secret = () => 'generated-secret-0123456789abcdef';

  it('an HS256 API has the secret sent, else a new one; without a way to make one it is refused', () => {
    expect(draftResourceServer({ identifier: 'x', signing_alg: 'HS256' }, 'rs1', now, secret).signing_secret).toBe('generated-secret-0123456789abcdef');
    expect(draftResourceServer({ identifier: 'x', signing_alg: 'HS256', signing_secret: 'sent by the administrator' }, 'rs1', now, secret).signing_secret).toBe('sent by the administrator');
    expect(outcome(() => draftResourceServer({ identifier: 'x', signing_alg: 'HS256' }, 'rs1', now))).toBe('invalid: invalid_body: signing_secret is required when signing_alg is HS256');
  });

  it('no other API has one', () => {
    expect(draftResourceServer({ identifier: 'x' }, 'rs1', now, secret)).not.toHaveProperty('signing_secret');
    expect(outcome(() => draftResourceServer({ identifier: 'x', signing_secret: 'sent by the administrator' }, 'rs1', now, secret)))
      .toBe('invalid: invalid_body: signing_secret is used only when signing_alg is HS256');
  });

  it('a patch keeps it, rotates it when sent, drops it when the API leaves HS256, makes one when it comes to HS256', () => {
    const hs = draftResourceServer({ identifier: 'x', signing_alg: 'HS256', signing_secret: 'the first secret, long enough' }, 'rs1', now, secret);
    expect(patchResourceServer(hs, { name: 'Renamed' }, later, secret).signing_secret).toBe('the first secret, long enough');
    expect(patchResourceServer(hs, { signing_secret: 'the second secret, long enough' }, later, secret).signing_secret).toBe('the second secret, long enough');
    const rs = patchResourceServer(hs, { signing_alg: 'ES256' }, later, secret);
    expect(rs).not.toHaveProperty('signing_secret');
    expect(patchResourceServer(rs, { signing_alg: 'HS256' }, later, secret).signing_secret).toBe('generated-secret-0123456789abcdef');
  });
});
