import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import type { Application, ResourceServer } from '../../src/domain/model.ts';
import { startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';
import { CALLBACK, createApi, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, signIn } from '../support/flow.ts';

const insecure = { [oauth.allowInsecureRequests]: true };

/**
 * Issue 18's end-to-end run with oauth4webapi: authorization code with PKCE, pushed through PAR, sender-constrained
 * with DPoP, then refresh, introspection and revocation, all against Gatehouse on loopback.
 */
describe('oauth4webapi end to end', () => {
  let live: LiveGatehouse;
  let as: oauth.AuthorizationServer;
  let api: ResourceServer;
  let app: Application;
  let client: oauth.Client;
  let auth: oauth.ClientAuth;
  const email = 'o4w@example.com';
  const password = 'correct horse battery';

  beforeAll(async () => {
    live = await startLiveGatehouse();
    const issuer = new URL(live.origin);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    api = await createApi(live.gatehouse.stores);
    await createUser(live.gatehouse.stores, email, password);
    let secret: string;
    ({ app, secret } = await thirdPartyApp(live.gatehouse.stores, { is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `o4w_${Date.now()}` }));
    client = { client_id: app.client_id };
    auth = oauth.ClientSecretBasic(secret);
  });
  afterAll(async () => {
    await live.close();
  });

  it('runs code + PKCE + DPoP + PAR, refreshes, introspects and revokes', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP(client, keyPair);
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));

    // PAR, bound to the DPoP key (RFC 9449 §10), with PKCE.
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const pushed = await oauth.pushedAuthorizationRequest(as, client, auth, {
      response_type: 'code', redirect_uri: CALLBACK, scope: 'openid read:notes offline_access', audience: api.identifier, state, nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }, { ...insecure, DPoP: dpop });
    const { request_uri } = await oauth.processPushedAuthorizationResponse(as, client, pushed);

    const browser = new Browser(live.origin);
    const redirect = callbackOf(await signIn(browser, await browser.open(`/authorize?${new URLSearchParams({ client_id: client.client_id, request_uri })}`), email, password));
    const params = oauth.validateAuthResponse(as, client, redirect, state);

    const tokens = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, CALLBACK, verifier, { ...insecure, DPoP: dpop }), { expectedNonce: nonce });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: api.identifier, scope: 'read:notes', cnf: { jkt } });
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ aud: client.client_id, nonce });
    const refreshToken = tokens.refresh_token as string;

    // A DPoP-bound refresh token needs the same key.
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, { ...insecure, DPoP: dpop }));
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ cnf: { jkt }, scope: 'read:notes' });
    const current = refreshed.refresh_token ?? refreshToken;

    const introspect = async (token: string) => oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, token, insecure));
    expect(await introspect(current)).toMatchObject({ active: true, client_id: client.client_id, scope: expect.stringContaining('read:notes'), sub: expect.any(String) });

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, current, insecure));
    expect(await introspect(current)).toEqual({ active: false });
    await expect(oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, current, { ...insecure, DPoP: dpop })))
      .rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
