import { beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { CALLBACK, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, isConsentPage, pageOf, signIn } from '../support/flow.ts';
import { insecure, oauthTestbed, USER } from '../support/oauth4webapi.ts';

/** Pushed authorization requests (RFC 9126), driven by oauth4webapi against Gatehouse on loopback. */
describe('pushed authorization requests', () => {
  const testbed = oauthTestbed({ registration: { rate_limit_per_second: 100, rate_limit_per_ip_per_minute: 100, rate_limit_per_claimed_identity_per_hour: 100, max_applications: 100, idle_cleanup_days: 0 } });
  const { email, password } = USER;

  /** Pushes the parameters, then sends the browser to /authorize with the request_uri alone. */
  async function pushAndAuthorize(client: oauth.Client, auth: oauth.ClientAuth, parameters: Record<string, string>) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const pushed = await oauth.pushedAuthorizationRequest(testbed.as, client, auth, {
      response_type: 'code', redirect_uri: CALLBACK, state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...parameters,
    }, insecure);
    const { request_uri } = await oauth.processPushedAuthorizationResponse(testbed.as, client, pushed);
    const browser = new Browser(testbed.live.origin);
    let outcome = await signIn(browser, await browser.open(`/authorize?${new URLSearchParams({ client_id: client.client_id, request_uri })}`), email, password);
    const consent = isConsentPage(outcome);
    if (consent) outcome = await browser.submit(pageOf(outcome), { action: 'accept' });
    const callback = oauth.validateAuthResponse(testbed.as, client, callbackOf(outcome), state);
    const tokens = await oauth.processAuthorizationCodeResponse(testbed.as, client,
      await oauth.authorizationCodeGrantRequest(testbed.as, client, auth, callback, CALLBACK, verifier, insecure), { expectedNonce: parameters.nonce ?? oauth.expectNoNonce });
    return { tokens, consent };
  }

  it('are advertised in discovery', () => {
    expect(testbed.as.pushed_authorization_request_endpoint).toBe(`${testbed.live.origin}/oauth/par`);
  });

  it('work for a first-party application, with the scope it pushed', async () => {
    const { app, secret } = await thirdPartyApp(testbed.live.gatehouse.stores, { is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `fp_par_${Date.now()}` });
    const nonce = oauth.generateRandomNonce();
    const { tokens, consent } = await pushAndAuthorize({ client_id: app.client_id }, oauth.ClientSecretPost(secret), { scope: 'openid email read:notes offline_access', audience: testbed.api.identifier, nonce });
    expect(consent).toBe(false);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: testbed.api.identifier, scope: 'read:notes' });
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ email, nonce });
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('work for a dynamically registered (strict third-party, public) application, which consents to the pushed scopes', async () => {
    const settings = (await testbed.live.gatehouse.stores.durable.settings.get('tenant'))!;
    await testbed.live.gatehouse.stores.durable.settings.update('tenant', { set: { flags: { ...settings.flags, enable_dynamic_client_registration: true } } });
    await createGrant(testbed.live.gatehouse.stores, { default_for: 'third_party_clients', audience: testbed.api.identifier, scope: ['read:notes'] });
    const registered = await fetch(`${testbed.live.origin}/oidc/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'PAR agent', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
    });
    expect(registered.status).toBe(201);
    const { client_id } = await registered.json() as { client_id: string };
    const { tokens, consent } = await pushAndAuthorize({ client_id, token_endpoint_auth_method: 'none' }, oauth.None(), { scope: 'read:notes offline_access', resource: testbed.api.identifier });
    expect(consent).toBe(true);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: testbed.api.identifier, scope: 'read:notes', client_id });
    expect(tokens.id_token).toBeUndefined();
  });

  describe('from a strict third-party application', () => {
    let client: oauth.Client;
    let auth: oauth.ClientAuth;
    beforeAll(async () => {
      const { app, secret } = await thirdPartyApp(testbed.live.gatehouse.stores);
      await createGrant(testbed.live.gatehouse.stores, { client_id: app.client_id, audience: testbed.api.identifier, scope: ['read:notes', 'write:notes'] });
      client = { client_id: app.client_id };
      auth = oauth.ClientSecretPost(secret);
    });

    const push = async (parameters: Record<string, string>) => {
      const res = await oauth.pushedAuthorizationRequest(testbed.as, client, auth, { response_type: 'code', redirect_uri: CALLBACK, audience: testbed.api.identifier, scope: 'read:notes', ...parameters }, insecure);
      return { status: res.status, body: await res.json() as Record<string, string> };
    };

    it('get the rules of a direct request, applied to what they push', async () => {
      const challenge = { code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: 'S256' };
      expect(await push({})).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('PKCE') } });
      expect(await push({ ...challenge, claims: '{}' })).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'parameter claims is not allowed for third-party applications' } });
      expect(await push({ ...challenge, response_mode: 'fragment' })).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'response_mode fragment is not allowed for third-party applications' } });
      expect(await push({ ...challenge, scope: 'openid delete:notes' })).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
      expect(await push({ ...challenge, 'ext-campaign': 'spring' })).toMatchObject({ status: 201 });
    });

    it('get only API scopes, and the consent page, for what they pushed', async () => {
      const { tokens, consent } = await pushAndAuthorize(client, auth, { scope: 'openid profile read:notes', audience: testbed.api.identifier });
      expect(consent).toBe(true);
      expect(decodeJwt(tokens.access_token).scope).toBe('read:notes');
      expect(tokens.id_token).toBeUndefined();
    });
  });
});
