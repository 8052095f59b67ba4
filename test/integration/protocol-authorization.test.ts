import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import request from 'supertest';
import type { Application, ResourceServer } from '../../src/domain/model.ts';
import { startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { authorizeQuery, CALLBACK, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, isConsentPage, pageOf, signIn } from '../support/flow.ts';

describe('the authorization endpoint', () => {
  let test: TestGatehouse;
  let api: ResourceServer;
  const password = 'correct horse battery';
  let email: string;

  beforeAll(async () => {
    test = await startGatehouse();
    api = await createApi(test.gatehouse.stores);
    email = (await createUser(test.gatehouse.stores, 'alice@example.com', password)).email;
  });
  afterAll(async () => {
    await test.close();
  });

  const stores = () => test.gatehouse.stores;

  async function exchange(app: Application, code: string, verifier: string, secret?: string) {
    return request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: app.client_id, ...(secret ? { client_secret: secret } : {}),
    });
  }

  describe('for a strict third-party application', () => {
    let app: Application;
    beforeAll(async () => {
      ({ app } = await thirdPartyApp(stores(), { token_endpoint_auth_method: 'none' }));
      await createGrant(stores(), { client_id: app.client_id, audience: api.identifier, scope: ['read:notes', 'write:notes'] });
    });

    it('runs login, consent, code and token with PKCE: API scopes only, no ID token, a refresh token', async () => {
      const browser = new Browser(test.app);
      const { path, verifier } = authorizeQuery(app, { audience: api.identifier, scope: 'openid profile read:notes delete:notes offline_access' });
      const consent = await signIn(browser, await browser.open(path), email, password);
      expect(isConsentPage(consent)).toBe(true);
      const consentPage = pageOf(consent);
      expect(consentPage.text).toContain('Read your notes');
      expect(consentPage.text).not.toContain('Delete your notes'); // outside the client grant: never even asked
      expect(consentPage.text).toContain('Keeps access when you are not using it');
      expect(consentPage.text).toContain('app.example.com');
      expect(consentPage.text).toContain('A third-party application');
      const callback = callbackOf(await browser.submit(consentPage, { action: 'accept' }));
      expect(callback.searchParams.get('state')).toBe('st4te');
      const token = await exchange(app, callback.searchParams.get('code') as string, verifier);
      expect(token.status).toBe(200);
      expect(token.body.id_token).toBeUndefined();
      expect(token.body.refresh_token).toEqual(expect.any(String));
      expect(decodeJwt(token.body.access_token)).toMatchObject({ aud: api.identifier, scope: 'read:notes', client_id: app.client_id });
      const userinfo = await request(test.app).get('/userinfo').set('Authorization', `Bearer ${token.body.access_token}`);
      expect(userinfo.status).toBe(401);

      // Consent is remembered: the next authorization for the same scopes goes straight back to the application…
      const again = authorizeQuery(app, { audience: api.identifier, scope: 'read:notes offline_access' });
      const second = callbackOf(await browser.open(again.path));
      expect((await exchange(app, second.searchParams.get('code') as string, again.verifier)).status).toBe(200);
      // …unless the application asks for more, or for prompt=consent.
      expect(isConsentPage(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes write:notes' }).path))).toBe(true);
      expect(isConsentPage(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes', prompt: 'consent' }).path))).toBe(true);
      // prompt=none cannot skip consent it does not have (and the error stays on Gatehouse's page).
      const none = pageOf(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'write:notes', prompt: 'none' }).path));
      expect(none.status).toBe(400);
      expect(none.text).toContain('consent_required');
    });

    it('refuses a request without PKCE on its own page, never redirecting', async () => {
      const res = pageOf(await new Browser(test.app).open(authorizeQuery(app, { audience: api.identifier, pkce: false }).path));
      expect(res.status).toBe(400);
      expect(res.text).toContain('invalid_request');
      expect(res.headers.location).toBeUndefined();
    });

    it.each(['claims', 'id_token_hint', 'request', 'request_uri', 'screen_hint', 'organization'])('rejects the %s parameter with invalid_request', async (parameter) => {
      const res = pageOf(await new Browser(test.app).open(authorizeQuery(app, { audience: api.identifier, [parameter]: parameter === 'claims' ? '{}' : 'x' }).path));
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/invalid_request|request_not_supported|request_uri_not_supported/);
    });

    it('accepts custom ext-* parameters and response_mode=form_post', async () => {
      const browser = new Browser(test.app);
      const res = pageOf(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes', 'ext-campaign': 'x', response_mode: 'form_post' }).path));
      expect(res.text).toContain('name="password"');
    });

    it('allows only response_type=code', async () => {
      const res = pageOf(await new Browser(test.app).open(authorizeQuery(app, { audience: api.identifier, response_type: 'id_token token', nonce: 'n' }).path));
      expect(res.status).toBe(400);
      expect(res.text).toContain('invalid_request');
      expect(res.text).toContain('requested response_type is not allowed for this client');
    });

    it('refuses an API it has no grant for, whatever the API policy', async () => {
      const open = await createApi(stores(), { user: 'allow_all' });
      const res = pageOf(await new Browser(test.app).open(authorizeQuery(app, { audience: open.identifier, scope: 'read:notes' }).path));
      expect(res.status).toBe(400);
      expect(res.text).toContain('unauthorized_client');
      expect(res.text).toContain('default_for: third_party_clients');
    });

    it('treats `resource` like `audience`, and refuses the two naming different APIs', async () => {
      const browser = new Browser(test.app);
      expect(pageOf(await browser.open(authorizeQuery(app, { resource: api.identifier, scope: 'read:notes' }).path)).text).toContain('name="password"');
      const conflict = pageOf(await browser.open(authorizeQuery(app, { resource: api.identifier, audience: 'https://other.example.com/' }).path));
      expect(conflict.text).toContain('invalid_target');
    });
  });

  describe('scopes', () => {
    it('come from the default third-party grant, or only from the per-app grant when there is one', async () => {
      const shared = await createApi(stores(), { user: 'require_client_grant' });
      await createGrant(stores(), { default_for: 'third_party_clients', audience: shared.identifier, scope: ['read:notes', 'write:notes'] });
      const { app: withDefault } = await thirdPartyApp(stores(), { token_endpoint_auth_method: 'none' });
      const { app: withOwn } = await thirdPartyApp(stores(), { token_endpoint_auth_method: 'none' });
      await createGrant(stores(), { client_id: withOwn.client_id, audience: shared.identifier, scope: ['delete:notes'] });
      const scopesFor = async (app: Application) => {
        const browser = new Browser(test.app);
        const { path, verifier } = authorizeQuery(app, { audience: shared.identifier, scope: 'read:notes write:notes delete:notes' });
        const consent = await signIn(browser, await browser.open(path), email, password);
        const callback = callbackOf(await browser.submit(pageOf(consent), { action: 'accept' }));
        return decodeJwt((await exchange(app, callback.searchParams.get('code') as string, verifier)).body.access_token).scope;
      };
      expect(await scopesFor(withDefault)).toBe('read:notes write:notes');
      expect(await scopesFor(withOwn)).toBe('delete:notes');
    });

    it('must name one: a request with nothing grantable is refused up front, listing what can be asked for', async () => {
      const { app } = await thirdPartyApp(stores(), { token_endpoint_auth_method: 'none' });
      await createGrant(stores(), { client_id: app.client_id, audience: api.identifier, scope: ['read:notes'] });
      for (const scope of [undefined, 'openid profile', 'delete:notes']) {
        const res = pageOf(await new Browser(test.app).open(authorizeQuery(app, { audience: api.identifier, scope }).path));
        expect(res.status).toBe(400);
        expect(res.text).toContain('invalid_scope');
        expect(res.text).toContain(`${api.identifier}: read:notes`);
      }
    });
  });

  describe('for a first-party application', () => {
    it('skips consent, and issues ID tokens and userinfo', async () => {
      const { app, secret } = await thirdPartyApp(stores(), { is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `fp_${Date.now()}` });
      const browser = new Browser(test.app);
      const { path, verifier } = authorizeQuery(app, { audience: api.identifier, scope: 'openid email read:notes', nonce: 'n1' });
      const callback = callbackOf(await signIn(browser, await browser.open(path), email, password));
      const token = await exchange(app, callback.searchParams.get('code') as string, verifier, secret);
      expect(token.status).toBe(200);
      expect(decodeJwt(token.body.id_token)).toMatchObject({ email, nonce: 'n1', aud: app.client_id });
      expect(decodeJwt(token.body.access_token).scope).toBe('read:notes');
    });

    it('may use the legacy implicit flow only when configured for it', async () => {
      const { app: implicit } = await thirdPartyApp(stores(), { is_first_party: true, third_party_security_mode: undefined, client_id: `imp_${Date.now()}`, grant_types: ['implicit'], app_type: 'spa', token_endpoint_auth_method: 'none' });
      const browser = new Browser(test.app);
      await browser.open(authorizeQuery(implicit, { scope: 'openid', pkce: false, response_type: 'id_token', nonce: 'n' }).path).then((o) => signIn(browser, o, email, password));
      const outcome = await browser.open(authorizeQuery(implicit, { audience: api.identifier, scope: 'openid read:notes', pkce: false, response_type: 'id_token token', nonce: 'n2' }).path);
      const fragment = new URLSearchParams(callbackOf(outcome).hash.slice(1));
      expect(decodeJwt(fragment.get('access_token') as string).scope).toBe('read:notes');
      expect(decodeJwt(fragment.get('id_token') as string).nonce).toBe('n2');

      const { app: codeOnly } = await thirdPartyApp(stores(), { is_first_party: true, third_party_security_mode: undefined, client_id: `co_${Date.now()}` });
      const refused = callbackOf(await browser.open(authorizeQuery(codeOnly, { scope: 'openid', pkce: false, response_type: 'id_token token', nonce: 'n' }).path));
      expect(refused.searchParams.size ? refused.toString() : refused.hash).toContain('error=invalid_request');
    });
  });

  describe('for a permissive third-party application', () => {
    it('follows the API policy like a first-party app, keeps OIDC, but still asks for consent', async () => {
      const { app, secret } = await thirdPartyApp(stores(), { third_party_security_mode: 'permissive', redirection_policy: undefined, client_id: `perm_${Date.now()}` });
      const browser = new Browser(test.app);
      const { path, verifier } = authorizeQuery(app, { audience: api.identifier, scope: 'openid read:notes', nonce: 'n', pkce: undefined });
      const consent = await signIn(browser, await browser.open(path), email, password);
      expect(isConsentPage(consent)).toBe(true);
      const callback = callbackOf(await browser.submit(pageOf(consent), { action: 'accept' }));
      const token = await exchange(app, callback.searchParams.get('code') as string, verifier, secret);
      expect(token.body.id_token).toEqual(expect.any(String));
      expect(decodeJwt(token.body.access_token).scope).toBe('read:notes');
    });

    it('never shows, stores or grants a scope nothing delivers (address): one answer for the policy, the page and the grant', async () => {
      const { app, secret } = await thirdPartyApp(stores(), { third_party_security_mode: 'permissive', redirection_policy: undefined, client_id: `addr_${Date.now()}` });
      const browser = new Browser(test.app);
      const { path, verifier } = authorizeQuery(app, { audience: api.identifier, scope: 'openid email address phone read:notes', nonce: 'n' });
      const consent = pageOf(await signIn(browser, await browser.open(path), email, password));
      expect(consent.text).toContain('email address');
      expect(consent.text).toContain('Read your notes');
      expect(consent.text).not.toContain('postal address');
      expect(consent.text).not.toContain('phone number');
      const callback = callbackOf(await browser.submit(consent, { action: 'accept' }));
      const [stored] = await stores().durable.userGrants.find({ clientID: app.client_id });
      expect(stored?.scope.sort()).toEqual(['email', 'openid', 'read:notes']);
      const token = await exchange(app, callback.searchParams.get('code') as string, verifier, secret);
      expect(token.status).toBe(200);
      expect(decodeJwt(token.body.access_token).scope).toBe('read:notes');
      expect(decodeJwt(token.body.id_token)).toMatchObject({ email });
      const grant = await test.gatehouse.provider.Grant.find(stored!.oidc_grant_ids[0]!);
      expect(grant?.getOIDCScope().split(' ').sort()).toEqual(['email', 'openid']);
      // The stored consent covers the same request next time: no dialog.
      const again = await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'openid email address phone read:notes', nonce: 'n' }).path);
      expect(callbackOf(again).searchParams.get('code')).toEqual(expect.any(String));
      // Asking for nothing but an undeliverable scope is asking for nothing.
      const nothing = await browser.open(authorizeQuery(app, { scope: 'address' }).path);
      expect(callbackOf(nothing).searchParams.get('error')).toBe('invalid_scope');
    });
  });
});
