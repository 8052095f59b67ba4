import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Application, ResourceServer } from '../../src/domain/model.ts';
import { startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { authorizeQuery, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, formOf, pageOf, signIn } from '../support/flow.ts';

/** What Auth0's browser SDK (auth0-spa-js) sends besides standard OAuth: its telemetry, /v2/logout, web_message. */
describe('Auth0 SDK conventions', () => {
  let test: TestGatehouse;
  let api: ResourceServer;
  let spa: Application;
  const email = 'spa@example.com';
  const password = 'correct horse battery';
  const telemetry = Buffer.from(JSON.stringify({ name: 'auth0-spa-js', version: '2.27.0' })).toString('base64');

  beforeAll(async () => {
    test = await startGatehouse();
    api = await createApi(test.gatehouse.stores);
    await createUser(test.gatehouse.stores, email, password);
    ({ app: spa } = await thirdPartyApp(test.gatehouse.stores, {
      is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `spa_${Date.now()}`, app_type: 'spa',
      token_endpoint_auth_method: 'none', callbacks: ['https://spa.example.com/'], web_origins: ['https://spa.example.com'],
      allowed_logout_urls: ['https://spa.example.com/bye', 'https://spa.example.com/'],
    }));
  });
  afterAll(async () => {
    await test.close();
  });

  it('ignores the auth0Client telemetry parameter, even for strict third-party applications', async () => {
    const { app: partner } = await thirdPartyApp(test.gatehouse.stores, { token_endpoint_auth_method: 'none' });
    await createGrant(test.gatehouse.stores, { client_id: partner.client_id, audience: api.identifier, scope: ['read:notes'] });
    const page = pageOf(await new Browser(test.app).open(authorizeQuery(partner, { audience: api.identifier, scope: 'openid read:notes', auth0Client: telemetry }).path));
    expect(page.text).toContain('name="password"');
  });

  it('answers silent authentication with response_mode=web_message: a page framed only by the web origin, its script a file', async () => {
    const browser = new Browser(test.app);
    await signIn(browser, await browser.open(authorizeQuery(spa, { scope: 'openid', nonce: 'n' }).path), email, password);
    const silent = authorizeQuery(spa, { scope: 'openid', nonce: 'n2', prompt: 'none', response_mode: 'web_message', auth0Client: telemetry });
    const res = await request(test.app).get(silent.path).set('Cookie', browser.jar.header());
    expect(res.status).toBe(200);
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain('frame-ancestors https://spa.example.com;');
    expect(res.headers['content-security-policy']).toContain("script-src 'self';");
    expect(res.text).toMatch(/<script src="\/u\/assets\/web-message\.js"><\/script>/);
    expect(res.text).not.toMatch(/<script>/);
    const response = JSON.parse(/data-response="([^"]*)"/.exec(res.text)?.[1]?.replaceAll('&quot;', '"') ?? '{}') as Record<string, string>;
    expect(response).toMatchObject({ code: expect.any(String), state: 'st4te' });
    expect((await request(test.app).get('/u/assets/web-message.js')).text).toContain("type: 'authorization_response'");

    const noSession = await request(test.app).get(authorizeQuery(spa, { scope: 'openid', nonce: 'n3', prompt: 'none', response_mode: 'web_message' }).path);
    expect(noSession.text).toContain('login_required');
  });

  it('refuses web_message when the redirect URI\'s origin is not a web origin of the application', async () => {
    const { app: noOrigins } = await thirdPartyApp(test.gatehouse.stores, {
      is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `spa2_${Date.now()}`, token_endpoint_auth_method: 'none',
    });
    const res = await request(test.app).get(authorizeQuery(noOrigins, { scope: 'openid', response_mode: 'web_message', prompt: 'none' }).path);
    // The error itself goes back the way the application asked, to its registered callback's origin only.
    expect(res.text).toContain('web_origins');
    expect(res.headers['content-security-policy']).toContain('frame-ancestors https://app.example.com;');
  });

  it('sends /v2/logout (Auth0\'s logout) to the sign-out confirmation, then to returnTo when it is an allowed logout URL', async () => {
    const browser = new Browser(test.app);
    await signIn(browser, await browser.open(authorizeQuery(spa, { scope: 'openid', nonce: 'n' }).path), email, password);
    const confirm = pageOf(await browser.open(`/v2/logout?${new URLSearchParams({ client_id: spa.client_id, returnTo: 'https://spa.example.com/bye', auth0Client: telemetry })}`));
    expect(new URL(formOf(confirm.text).action).pathname).toBe('/oidc/logout/confirm');
    expect(callbackOf(await browser.submit(confirm, { logout: 'yes' })).toString()).toBe('https://spa.example.com/bye');

    const refused = pageOf(await browser.open(`/v2/logout?${new URLSearchParams({ client_id: spa.client_id, returnTo: 'https://evil.example.com/' })}`));
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('post_logout_redirect_uri not registered');
    const first = await request(test.app).get(`/v2/logout?client_id=${spa.client_id}`);
    expect(first.headers.location).toBe(`/oidc/logout?${new URLSearchParams({ client_id: spa.client_id, post_logout_redirect_uri: 'https://spa.example.com/bye' })}`);
    const anonymous = await request(test.app).get('/v2/logout?returnTo=https%3A%2F%2Fevil.example.com%2F');
    expect(anonymous.headers.location).toBe('/oidc/logout?');
  });
});
