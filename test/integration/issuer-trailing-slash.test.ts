import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { issuerBasePath, issuerUrl } from '../../src/domain/issuer.ts';
import { authorizeQuery, CALLBACK, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, signIn } from '../support/flow.ts';
import { clientCredentialsToken, startGatehouse, type TestGatehouse } from '../support/harness.ts';

describe('URLs under the issuer', () => {
  it.each([
    ['https://id.example.com', 'oauth/token', 'https://id.example.com/oauth/token'],
    ['https://id.example.com/', 'oauth/token', 'https://id.example.com/oauth/token'],
    ['https://id.example.com/', '/api/v2/', 'https://id.example.com/api/v2/'],
    ['https://example.com/auth/', '.well-known/jwks.json', 'https://example.com/auth/.well-known/jwks.json'],
  ])('%s + %s', (issuer, path, expected) => {
    expect(issuerUrl(issuer, path)).toBe(expected);
  });
  it('have one base path, with or without the trailing slash', () => {
    expect([issuerBasePath('https://id.example.com/'), issuerBasePath('https://id.example.com'), issuerBasePath('https://example.com/auth/')]).toEqual(['', '', '/auth']);
  });
});

/** Auth0's issuers end with `/` and its SDKs compare the ID token's `iss` with that: Gatehouse can be configured the same way. */
describe('an issuer with a trailing slash (Auth0 style)', () => {
  const issuer = 'http://gatehouse.test/';
  let test: TestGatehouse;
  beforeAll(async () => {
    test = await startGatehouse({ config: { issuer } });
  });
  afterAll(async () => {
    await test.close();
  });

  it('is the issuer of discovery, whose endpoints have no double slash', async () => {
    const discovery = (await request(test.app).get('/.well-known/openid-configuration').set('Host', 'gatehouse.test').expect(200)).body as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer, token_endpoint: 'http://gatehouse.test/oauth/token', jwks_uri: 'http://gatehouse.test/.well-known/jwks.json' });
    expect(JSON.stringify(discovery)).not.toMatch(/[^:]\/\//);
  });

  it('gives the Management API the audience http://gatehouse.test/api/v2/, as Auth0 does', async () => {
    const { client_id, client_secret } = test.gatehouse.adminCredentials;
    const token = await clientCredentialsToken(test.app, client_id, client_secret as string, 'http://gatehouse.test/api/v2/');
    expect(token.status).toBe(200);
    expect(decodeJwt(token.body.access_token)).toMatchObject({ iss: issuer, aud: 'http://gatehouse.test/api/v2/' });
    await request(test.app).get('/api/v2/clients').set('Authorization', `Bearer ${token.body.access_token}`).expect(200);
    const openapi = await request(test.app).get('/api/v2/openapi.json').expect(200);
    expect(JSON.stringify(openapi.body)).toContain('"tokenUrl":"http://gatehouse.test/oauth/token"');
  });

  it('signs ID tokens with that issuer, through the pages at /u', async () => {
    await createUser(test.gatehouse.stores, 'slash@example.com', 'correct horse battery');
    const { app, secret } = await thirdPartyApp(test.gatehouse.stores, { is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `slash_${Date.now()}` });
    const browser = new Browser(test.app);
    const { path, verifier } = authorizeQuery(app, { scope: 'openid', nonce: 'n' });
    const callback = callbackOf(await signIn(browser, await browser.open(path), 'slash@example.com', 'correct horse battery'));
    expect(callback.searchParams.get('iss')).toBe(issuer);
    const token = await request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: CALLBACK, code_verifier: verifier, client_id: app.client_id, client_secret: secret,
    }).expect(200);
    expect(decodeJwt(token.body.id_token).iss).toBe(issuer);
  });
});
