import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { managementAuthentication, requireScope } from '../../src/http/guard.ts';
import { securityHeaders } from '../../src/http/router.ts';
import { managementAccess } from '../../src/services/access.ts';
import { MANAGEMENT_API_SCOPES } from '../../src/domain/system-api.ts';
import { rotateSigningKeys } from '../../src/oidc/keys.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores } from '../../src/store/index.ts';
import { tempDir } from '../support/backends.ts';
import { createGrant } from '../support/fixtures.ts';
import { ISSUER, adminToken, clientCredentialsToken, insertApplication, startGatehouse, testConfig, type TestGatehouse } from '../support/harness.ts';

describe('the drop-in IdP', () => {
  let test: TestGatehouse;
  beforeAll(async () => {
    test = await startGatehouse();
  });
  afterAll(async () => {
    await test.close();
  });

  it.each(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'])('serves discovery at %s with the Auth0 URL layout', async (path) => {
    const res = await request(test.app).get(path).expect(200);
    expect(res.body.issuer).toBe(ISSUER);
    expect(res.body.code_challenge_methods_supported).toEqual(['S256']);
    const endpoints = Object.fromEntries(['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'end_session_endpoint', 'jwks_uri']
      .map((key) => [key, new URL(res.body[key]).pathname]));
    expect(endpoints).toEqual({
      authorization_endpoint: '/authorize', token_endpoint: '/oauth/token', userinfo_endpoint: '/userinfo', revocation_endpoint: '/oauth/revoke',
      introspection_endpoint: '/oauth/introspect', end_session_endpoint: '/oidc/logout', jwks_uri: '/.well-known/jwks.json',
    });
  });

  it('publishes public signing keys only', async () => {
    const res = await request(test.app).get('/.well-known/jwks.json').expect(200);
    expect(res.body.keys.map((k: { alg: string }) => k.alg).sort()).toEqual(['ES256', 'PS256', 'RS256', 'RS512']); // one key per algorithm
    for (const key of res.body.keys) expect(key).not.toHaveProperty('d');
  });

  it('answers health and readiness', async () => {
    await request(test.app).get('/healthz').expect(200, { status: 'ok' });
    const res = await request(test.app).get('/readyz').expect(200);
    expect(res.body).toMatchObject({ status: 'ready', durable: 'embedded', ephemeral: 'embedded' });
  });

  it('answers unknown paths with a JSON 404 and echoes a request id', async () => {
    const res = await request(test.app).get('/nope').set('X-Request-Id', 'abc-123').expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect(res.headers['x-request-id']).toBe('abc-123');
  });

  it('answers unknown paths and / with a page to browsers, and keeps the JSON 404 for API clients', async () => {
    const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const page = await request(test.app).get('/nope').set('Accept', BROWSER).expect(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('Page not found');
    for (const accept of [undefined, '*/*', 'application/json']) {
      const call = request(test.app).get('/nope');
      const res = await (accept ? call.set('Accept', accept) : call).expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No route for GET /nope' });
    }
    const home = await request(test.app).get('/').set('Accept', BROWSER).expect(200);
    expect(home.text).toContain('<h1>Welcome to Gatehouse</h1>');
    expect(home.text).toContain(`href="${ISSUER}/.well-known/openid-configuration"`);
    expect((await request(test.app).get('/').expect(404)).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No route for GET /' });
    const icon = await request(test.app).get('/favicon.ico').expect(200);
    expect(icon.headers['content-type']).toBe('image/vnd.microsoft.icon');
  });

  it('sets security headers: no framing, a CSP', async () => {
    const res = await request(test.app).get('/healthz');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).toMatch(/style-src 'self'(;|$)/); // no inline style, no foreign stylesheet
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('gives the endpoints applications call the same protections, without the headers that only pages need', async () => {
    for (const path of ['/oauth/token', '/OAUTH//Token/', '/.well-known/openid-configuration', '/oidc/register']) {
      const res = await request(test.app).post(path).type('form').send({});
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-dns-prefetch-control']).toBeUndefined();
    }
    expect((await request(test.app).get('/healthz')).headers['x-dns-prefetch-control']).toBe('off');
  });

  it('adds Strict-Transport-Security to pages and API answers alike when the issuer is https', async () => {
    const app = express();
    app.use(securityHeaders(true));
    app.use((_req, res) => void res.json({}));
    const [api, page] = await Promise.all([request(app).post('/oauth/token'), request(app).get('/u/login')]);
    expect(api.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(api.headers['strict-transport-security']).toBe(page.headers['strict-transport-security']);
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    const plain = express().use(securityHeaders(false)).use((_req, res) => void res.json({}));
    expect((await request(plain).post('/oauth/token')).headers['strict-transport-security']).toBeUndefined();
  });

  it('gives the admin application a JWT for the system API with every Management API scope', async () => {
    const token = await adminToken(test);
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: ISSUER, aud: `${ISSUER}/api/v2/`, client_id: test.gatehouse.adminCredentials.client_id });
    expect(String(claims.scope).split(' ').sort()).toEqual([...MANAGEMENT_API_SCOPES].sort());
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
  });

  it('narrows the token to the scopes asked for', async () => {
    const claims = decodeJwt(await adminToken(test, 'read:clients read:users'));
    expect(claims.scope).toBe('read:clients read:users');
  });

  it('refuses a wrong secret, and a system API token to an application without a grant', async () => {
    const { client_id } = test.gatehouse.adminCredentials;
    const wrong = await clientCredentialsToken(test.app, client_id, 'not-the-secret', `${ISSUER}/api/v2/`);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const { app, secret } = await insertApplication(test.gatehouse.stores, { app_type: 'non_interactive', grant_types: ['client_credentials'] });
    const denied = await clientCredentialsToken(test.app, app.client_id, secret, `${ISSUER}/api/v2/`);
    expect(denied.status).toBe(400);
    expect(denied.body).toMatchObject({ error: 'unauthorized_client' });
    expect(denied.body.error_description).toContain('client grant');
  });

  it('requires an audience for client credentials when the tenant has no default', async () => {
    const { client_id, client_secret } = test.gatehouse.adminCredentials;
    const res = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'client_credentials', client_id, client_secret });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_target', error_description: 'no audience parameter was provided, and no default audience has been configured' });
  });

  it('seeds idempotently from config', async () => {
    const { durable } = test.gatehouse.stores;
    const again = await startGatehouse({ stores: test.gatehouse.stores });
    await again.close();
    expect(await durable.resourceServers.count({ identifier: 'https://api.example.com/' })).toBe(1);
    expect(await durable.resourceServers.count({ identifier: `${ISSUER}/api/v2/` })).toBe(1);
    expect(await durable.connections.count({ name: 'Username-Password-Authentication' })).toBe(1);
    expect(await durable.clientGrants.count({ default_for: 'third_party_clients' })).toBe(1);
    expect(await durable.applications.count({ registration_type: 'system' })).toBe(3); // the admin application, the account application of the connected-apps page, and the console
    const [connection] = await durable.connections.find({ name: 'Username-Password-Authentication' });
    expect(connection?.is_domain_connection).toBe(true);
  });
});

describe('seeded development users', () => {
  it('have their email normalised like any other user, so a mixed-case seed can sign in', async () => {
    const test = await startGatehouse({ config: { seed: { ...testConfig().seed, development_users: [{ email: 'Demo@Example.com', password: 'demo password 1', connection: 'Username-Password-Authentication' }] } } });
    const [user] = await test.gatehouse.stores.durable.users.find({ connection: 'Username-Password-Authentication' });
    expect(user?.email).toBe('demo@example.com');
    const { app, secret } = await insertApplication(test.gatehouse.stores, { grant_types: ['password'] });
    for (const username of ['Demo@Example.com', 'demo@example.com']) {
      const res = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'password', username, password: 'demo password 1', client_id: app.client_id, client_secret: secret, scope: 'openid' });
      expect({ username, status: res.status }).toEqual({ username, status: 200 });
    }
    // Seeding again finds the normalised user instead of adding a second one.
    const again = await startGatehouse({ stores: test.gatehouse.stores, config: test.gatehouse.config });
    await again.close();
    expect(await test.gatehouse.stores.durable.users.count({ email: 'demo@example.com' })).toBe(1);
    await test.close();
  });
});

describe('the Management API request guard', () => {
  let test: TestGatehouse;
  let guarded: express.Express;
  beforeAll(async () => {
    test = await startGatehouse();
    guarded = express();
    guarded.get('/clients', managementAuthentication(ISSUER, () => test.gatehouse.keys, managementAccess(test.gatehouse.stores.durable)), requireScope('read:clients'), (req, res) => {
      res.json({ caller: req.management?.clientId });
    });
  });
  afterAll(async () => {
    await test.close();
  });

  it('lets a token with the scope through and names the caller', async () => {
    const res = await request(guarded).get('/clients').set('Authorization', `Bearer ${await adminToken(test)}`).expect(200);
    expect(res.body.caller).toBe(test.gatehouse.adminCredentials.client_id);
  });

  it('answers 401 in Auth0 shape without a token or with a bad one', async () => {
    const missing = await request(guarded).get('/clients').expect(401);
    expect(missing.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', errorCode: 'missing_token' });
    const garbage = await request(guarded).get('/clients').set('Authorization', 'Bearer abc.def.ghi').expect(401);
    expect(garbage.body).toMatchObject({ statusCode: 401, errorCode: 'invalid_token' });
  });

  it('answers 401 for a token issued for another API', async () => {
    const { app, secret } = await insertApplication(test.gatehouse.stores, { app_type: 'non_interactive', grant_types: ['client_credentials'] });
    await createGrant(test.gatehouse.stores, { client_id: app.client_id, audience: 'https://api.example.com/', scope: ['read:messages'], subject_type: 'client' });
    const res = await clientCredentialsToken(test.app, app.client_id, secret, 'https://api.example.com/');
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).scope).toBe('read:messages');
    await request(guarded).get('/clients').set('Authorization', `Bearer ${res.body.access_token}`).expect(401);
  });

  it('answers 403 insufficient_scope naming the scope needed', async () => {
    const res = await request(guarded).get('/clients').set('Authorization', `Bearer ${await adminToken(test, 'read:users')}`).expect(403);
    expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected any of: read:clients', errorCode: 'insufficient_scope' });
  });
});

describe('signing keys', () => {
  it('persist across restarts, and rotation keeps old tokens verifiable', async () => {
    const dataDir = tempDir();
    const open = () => {
      const embedded = openEmbeddedStore({ dataDir });
      return combineStores(embedded, embedded);
    };
    let stores = open();
    let test = await startGatehouse({ stores });
    const { client_id, client_secret } = test.gatehouse.adminCredentials;
    const oldToken = await adminToken(test);
    const oldKid = decodeProtectedHeader(oldToken).kid;
    await test.close();
    await stores.close();

    stores = open();
    test = await startGatehouse({ stores });
    expect(test.gatehouse.adminCredentials).toEqual({ client_id });
    const jwks = await request(test.app).get('/.well-known/jwks.json');
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(oldKid);
    await stores.durable.keys.update('keys', { set: { signing: (await rotateSigningKeys(test.gatehouse.keys, Date.now())).signing } });
    await test.close();
    await stores.close();

    stores = open();
    test = await startGatehouse({ stores });
    const res = await clientCredentialsToken(test.app, client_id, client_secret as string, `${ISSUER}/api/v2/`);
    const newKid = decodeProtectedHeader(res.body.access_token).kid;
    expect(newKid).not.toBe(oldKid);
    const guarded = express().get('/', managementAuthentication(ISSUER, () => test.gatehouse.keys, managementAccess(test.gatehouse.stores.durable)), (_req, res2) => void res2.send('ok'));
    await request(guarded).get('/').set('Authorization', `Bearer ${oldToken}`).expect(200);
    await request(guarded).get('/').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
    await test.close();
    await stores.close();
  });
});

describe('signing keys supplied by a host', () => {
  it('are used instead of generated ones, and bad ones are refused by name', async () => {
    const { exportJWK, generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'host-key-1', alg: 'ES256' } as never;
    const test = await startGatehouse({ signingKeys: [jwk] });
    const jwks = await request(test.app).get('/.well-known/jwks.json');
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual(['host-key-1']);
    await test.close();
    const { d: _private, ...publicOnly } = jwk as Record<string, unknown>;
    await expect(startGatehouse({ signingKeys: [publicOnly as never] })).rejects.toThrow(/public key/);
  });
});
