import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { startHostApp, type HostApp } from '../../examples/host-app/server.ts';
import { actionOf, FetchBrowser, hidden } from '../support/fetch-browser.ts';
import { memoryStores } from '../support/harness.ts';

describe('the example host app (Gatehouse as middleware)', () => {
  let host: HostApp;
  let adminToken: string;
  beforeAll(async () => {
    host = await startHostApp({ port: 0, stores: memoryStores() });
    const { client_id, client_secret } = host.gatehouse.adminCredentials;
    const token = await fetch(`${host.origin}/auth/oauth/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret: client_secret as string, audience: `${host.origin}/auth/api/v2/` }),
    });
    adminToken = ((await token.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => {
    await host.close();
  });

  it('leaves the host app alone: its own routes get none of Gatehouse\'s headers, its settings are unchanged', async () => {
    const home = await fetch(`${host.origin}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-security-policy')).toBeNull();
    expect(home.headers.get('x-request-id')).toBeNull();
    const missing = await fetch(`${host.origin}/nowhere`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('text/html'); // Express's own 404, not Gatehouse's JSON one
    const browserMissing = await fetch(`${host.origin}/nowhere`, { headers: { accept: 'text/html' } });
    expect(await browserMissing.text()).not.toContain('Page not found'); // nor Gatehouse's page
  });

  it('puts the start page at the issuer\'s path, and answers unknown paths only under it', async () => {
    const accept = { accept: 'text/html,*/*;q=0.8' };
    const start = await fetch(`${host.origin}/auth/`, { headers: accept });
    expect(start.status).toBe(200);
    const html = await start.text();
    expect(html).toContain('Welcome to Notes Inc.');
    for (const href of ['/auth/u/apps', '/auth/developers', `${host.origin}/auth/.well-known/openid-configuration`, '/auth/u/assets/favicon.svg']) expect(html).toContain(`href="${href}"`);
    const unknown = await fetch(`${host.origin}/auth/nowhere`, { headers: accept });
    expect([unknown.status, await unknown.text()]).toEqual([404, expect.stringContaining('href="/auth/"')]);
    const api = await fetch(`${host.origin}/auth/nowhere`);
    expect([api.status, await api.json()]).toEqual([404, { statusCode: 404, error: 'Not Found', message: 'No route for GET /nowhere' }]);
  });

  it('lets an agent discover, register, sign in through the host, call the API, and be refused a scope it was not granted', async () => {
    const { origin } = host;
    // The administrator turns on dynamic registration through the Management API, under the mount path.
    const settings = await fetch(`${origin}/auth/api/v2/tenants/settings`, {
      method: 'PATCH', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ flags: { enable_dynamic_client_registration: true } }),
    });
    expect(settings.status).toBe(200);

    // Discovery, as an MCP client does it: 401 challenge → protected-resource metadata → RFC 8414 metadata at the root.
    const challenge = await fetch(`${origin}/api/notes`);
    expect(challenge.status).toBe(401);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')?.[1];
    expect(metadataUrl).toBe(`${origin}/.well-known/oauth-protected-resource/api/notes`);
    const resource = await (await fetch(metadataUrl as string)).json() as { resource: string; authorization_servers: string[] };
    expect(resource).toMatchObject({ resource: `${origin}/api/notes`, authorization_servers: [`${origin}/auth`] });
    const asUrl = new URL(resource.authorization_servers[0] as string);
    const as = await (await fetch(`${asUrl.origin}/.well-known/oauth-authorization-server${asUrl.pathname}`)).json() as Record<string, string>;
    expect(as).toMatchObject({ issuer: `${origin}/auth`, token_endpoint: `${origin}/auth/oauth/token`, registration_endpoint: `${origin}/auth/oidc/register` });

    const registration = await fetch(as.registration_endpoint as string, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Notes agent', redirect_uris: ['http://127.0.0.1:7777/callback'], token_endpoint_auth_method: 'none' }),
    });
    expect(registration.status).toBe(201);
    const { client_id } = await registration.json() as { client_id: string };

    const verifier = randomBytes(32).toString('base64url');
    const authorize = `${as.authorization_endpoint}?${new URLSearchParams({
      client_id, response_type: 'code', redirect_uri: 'http://127.0.0.1:7777/callback', scope: 'read:notes write:notes', resource: resource.resource,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', state: 's1',
    })}`;
    const browser = new FetchBrowser();
    const hostLogin = await browser.follow(authorize, origin);
    expect(new URL(hostLogin.url || '', origin).pathname).toBe('/login'); // sent to the host's own sign-in
    const loginPage = await hostLogin.text();
    const consent = await browser.follow(`${origin}/login`, origin, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...hidden(loginPage), email: 'ada@example.com', password: 'ada-password' }),
    });
    const consentPage = await consent.text();
    expect(consentPage).toContain('Notes agent');
    expect(consentPage).toContain('registered itself');
    expect(consentPage).toContain('Read your notes');
    expect(consentPage).not.toContain('Write notes for you'); // the default grant allows read:notes only
    const callback = await browser.follow(new URL(actionOf(consentPage), origin).toString(), origin, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...hidden(consentPage), action: 'accept' }),
    });
    const code = new URL(callback.headers.get('location') as string).searchParams.get('code') as string;
    const tokens = await (await fetch(as.token_endpoint as string, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:7777/callback', code_verifier: verifier, client_id, resource: resource.resource }),
    })).json() as { access_token: string };
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: `${origin}/api/notes`, scope: 'read:notes', sub: 'host-users|u-1' });

    const read = await fetch(`${origin}/api/notes`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({ notes: ['Buy milk'], for: 'host-users|u-1' });
    const write = await fetch(`${origin}/api/notes`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' }, body: '{"text":"x"}' });
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    // Step-up (issue 14): the challenge names the scope the token has and the one missing, so re-authorizing keeps both.
    expect(write.headers.get('www-authenticate')).toContain('scope="read:notes write:notes"');
    const forged = await fetch(`${origin}/api/notes`, { headers: { authorization: `Bearer ${tokens.access_token.slice(0, -4)}AAAA` } });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('error="invalid_token"');

    // The administrator revokes the consent: the host's API refuses the token within seconds.
    const grants = await (await fetch(`${origin}/auth/api/v2/grants?client_id=${client_id}`, { headers: { authorization: `Bearer ${adminToken}` } })).json() as { id: string }[];
    expect(grants).toHaveLength(1);
    expect((await fetch(`${origin}/auth/api/v2/grants/${grants[0]?.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(204);
    const deadline = Date.now() + 5000;
    let afterRevocation = await fetch(`${origin}/api/notes`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    while (afterRevocation.status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      afterRevocation = await fetch(`${origin}/api/notes`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    }
    expect(afterRevocation.status).toBe(401);
    expect(afterRevocation.headers.get('www-authenticate')).toContain('error_description="the access token was revoked"');
  });
});
