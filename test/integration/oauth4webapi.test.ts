import { beforeAll, describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import type { Application } from '../../src/domain/model.ts';
import { CALLBACK, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, signIn } from '../support/flow.ts';
import { insecure, oauthTestbed, USER } from '../support/oauth4webapi.ts';

/**
 * Issue 18's end-to-end run with oauth4webapi: authorization code with PKCE, pushed through PAR, sender-constrained
 * with DPoP, then refresh, introspection and revocation, all against Gatehouse on loopback.
 */
describe('oauth4webapi end to end', () => {
  const testbed = oauthTestbed();
  let app: Application;
  let client: oauth.Client;
  let auth: oauth.ClientAuth;

  beforeAll(async () => {
    let secret: string;
    ({ app, secret } = await thirdPartyApp(testbed.live.gatehouse.stores, { is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `o4w_${Date.now()}` }));
    client = { client_id: app.client_id };
    auth = oauth.ClientSecretBasic(secret);
  });

  it('runs code + PKCE + DPoP + PAR, refreshes, introspects and revokes', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP(client, keyPair);
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));

    // PAR, bound to the DPoP key (RFC 9449 §10), with PKCE.
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const pushed = await oauth.pushedAuthorizationRequest(testbed.as, client, auth, {
      response_type: 'code', redirect_uri: CALLBACK, scope: 'openid read:notes offline_access', audience: testbed.api.identifier, state, nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }, { ...insecure, DPoP: dpop });
    const { request_uri } = await oauth.processPushedAuthorizationResponse(testbed.as, client, pushed);

    const browser = new Browser(testbed.live.origin);
    const redirect = callbackOf(await signIn(browser, await browser.open(`/authorize?${new URLSearchParams({ client_id: client.client_id, request_uri })}`), USER.email, USER.password));
    const params = oauth.validateAuthResponse(testbed.as, client, redirect, state);

    const tokens = await oauth.processAuthorizationCodeResponse(testbed.as, client,
      await oauth.authorizationCodeGrantRequest(testbed.as, client, auth, params, CALLBACK, verifier, { ...insecure, DPoP: dpop }), { expectedNonce: nonce });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: testbed.api.identifier, scope: 'read:notes', cnf: { jkt } });
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ aud: client.client_id, nonce });
    const refreshToken = tokens.refresh_token as string;

    // A DPoP-bound refresh token needs the same key.
    const refreshed = await oauth.processRefreshTokenResponse(testbed.as, client, await oauth.refreshTokenGrantRequest(testbed.as, client, auth, refreshToken, { ...insecure, DPoP: dpop }));
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ cnf: { jkt }, scope: 'read:notes' });
    const current = refreshed.refresh_token ?? refreshToken;

    const introspect = async (token: string) => oauth.processIntrospectionResponse(testbed.as, client, await oauth.introspectionRequest(testbed.as, client, auth, token, insecure));
    expect(await introspect(current)).toMatchObject({ active: true, client_id: client.client_id, scope: expect.stringContaining('read:notes'), sub: expect.any(String) });

    await oauth.processRevocationResponse(await oauth.revocationRequest(testbed.as, client, auth, current, insecure));
    expect(await introspect(current)).toEqual({ active: false });
    await expect(oauth.processRefreshTokenResponse(testbed.as, client, await oauth.refreshTokenGrantRequest(testbed.as, client, auth, current, { ...insecure, DPoP: dpop })))
      .rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
