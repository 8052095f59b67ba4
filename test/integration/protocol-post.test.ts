import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import request from 'supertest';
import type { Application, ResourceServer } from '../../src/domain/model.ts';
import { startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { authorizeQuery, CALLBACK, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, formOf, pageOf, signIn } from '../support/flow.ts';

/** OIDC Core §3.1.2.1 and RP-Initiated Logout §2: the authorization and logout endpoints accept POST as well as GET. */
describe('POST to the authorization and logout endpoints', () => {
  let test: TestGatehouse;
  let api: ResourceServer;
  let app: Application;
  let secret: string;
  const email = 'poster@example.com';
  const password = 'correct horse battery';

  beforeAll(async () => {
    test = await startGatehouse({ config: { trustProxy: true } });
    api = await createApi(test.gatehouse.stores);
    ({ app, secret } = await thirdPartyApp(test.gatehouse.stores, {
      is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `fp_post_${Date.now()}`,
      allowed_logout_urls: ['https://app.example.com/signed-out'],
    }));
    await createUser(test.gatehouse.stores, email, password);
  });
  afterAll(async () => {
    await test.close();
  });

  /** Signs in through a form-posted authorization request and returns the ID token. */
  async function signInByPost(browser: Browser) {
    const { path, verifier } = authorizeQuery(app, { audience: api.identifier, scope: 'openid read:notes', nonce: 'n-post' });
    const form = Object.fromEntries(new URL(path, 'http://x').searchParams);
    const callback = callbackOf(await signIn(browser, await browser.post('/authorize', form), email, password));
    expect(callback.searchParams.get('state')).toBe('st4te');
    const token = await request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: CALLBACK, code_verifier: verifier, client_id: app.client_id, client_secret: secret,
    });
    expect(token.status).toBe(200);
    return token.body as { id_token: string; access_token: string };
  }

  it('run an authorization request sent as a form', async () => {
    const tokens = await signInByPost(new Browser(test.app));
    expect(decodeJwt(tokens.id_token)).toMatchObject({ nonce: 'n-post', aud: app.client_id });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: api.identifier, scope: 'read:notes' });
  });

  it('apply the same rules to a posted request (strict third-party allow-list)', async () => {
    const { app: partner } = await thirdPartyApp(test.gatehouse.stores, { token_endpoint_auth_method: 'none' });
    await createGrant(test.gatehouse.stores, { client_id: partner.client_id, audience: api.identifier, scope: ['read:notes'] });
    const form = Object.fromEntries(new URL(authorizeQuery(partner, { audience: api.identifier, scope: 'read:notes', claims: '{}' }).path, 'http://x').searchParams);
    const refused = pageOf(await new Browser(test.app).post('/authorize', form));
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('parameter claims is not allowed for third-party applications');
  });

  it('sign out through a logout request sent as a form, back to an allowed logout URL', async () => {
    const browser = new Browser(test.app);
    const { id_token } = await signInByPost(browser);
    const confirm = pageOf(await browser.post('/oidc/logout', { id_token_hint: id_token, post_logout_redirect_uri: 'https://app.example.com/signed-out', state: 'bye' }));
    expect(confirm.status).toBe(200);
    expect(new URL(formOf(confirm.text).action).pathname).toBe('/oidc/logout/confirm');
    const back = callbackOf(await browser.submit(confirm, { logout: 'yes' }));
    expect(back.toString()).toBe('https://app.example.com/signed-out?state=bye');
    // The session is gone: a new authorization request asks for a sign-in again.
    expect(pageOf(await browser.open(authorizeQuery(app, { scope: 'openid', nonce: 'n' }).path)).text).toContain('name="password"');
  });

  it('send the session cookie cross-site (SameSite=None; Secure) over https, and Lax over plain http, where it cannot be Secure', async () => {
    const sessionCookie = (res: request.Response) => [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('_session='));
    const https = await request(test.app).get(`/oidc/logout?client_id=${app.client_id}`).set('X-Forwarded-Proto', 'https');
    expect(sessionCookie(https)).toMatch(/; samesite=none/i);
    expect(sessionCookie(https)).toMatch(/; secure/i);
    const http = await request(test.app).get(`/oidc/logout?client_id=${app.client_id}`);
    expect(sessionCookie(http)).toMatch(/; samesite=lax/i);
    expect(sessionCookie(http)).not.toMatch(/; secure/i);
  });
});
