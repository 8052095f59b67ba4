import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { SignJWT } from 'jose';
import request from 'supertest';
import type { ResourceServer } from '../../src/domain/model.ts';
import { protectedResourceMetadata } from '../../src/http/resource-server.ts';
import { createApi, createGrant } from '../support/fixtures.ts';
import { createUser } from '../support/flow.ts';
import { insertApplication, ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { managementCaller } from '../support/management.ts';

describe('discovery advertises what applications can use', () => {
  let test: TestGatehouse;
  let api: ResourceServer;
  let metadata: Record<string, unknown>;
  const stores = () => test.gatehouse.stores;

  beforeAll(async () => {
    test = await startGatehouse();
    api = await createApi(stores());
    metadata = (await request(test.app).get('/.well-known/openid-configuration').expect(200)).body;
  });
  afterAll(async () => {
    await test.close();
  });

  it('builds every endpoint under the issuer, whatever Host header a request sends (no cache poisoning)', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const forged = (await request(test.app).get(path).set('Host', 'evil.example').expect(200)).body as Record<string, unknown>;
      const urls = Object.entries(forged).filter(([key, value]) => key.endsWith('_endpoint') || key === 'jwks_uri' ? typeof value === 'string' : false);
      expect(urls.length).toBeGreaterThan(5);
      for (const [key, url] of urls) expect([key, String(url).startsWith(`${ISSUER}/`)]).toEqual([key, true]);
    }
  });

  /** A machine-to-machine application with this authentication method, allowed to reach the API. */
  async function machine(method: 'client_secret_basic' | 'client_secret_post') {
    const { app, secret } = await insertApplication(stores(), { app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [], token_endpoint_auth_method: method });
    await createGrant(stores(), { client_id: app.client_id, audience: api.identifier, subject_type: 'client', scope: ['read:notes'] });
    return { app, secret };
  }
  const tokenRequest = () => request(test.app).post('/oauth/token').type('form');

  it('lists only the client authentication methods applications have, and each of them works', async () => {
    // private_key_jwt: clients described by a metadata document, with keys from their jwks_uri (issue 14; tested in cimd.test.ts).
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(['none', 'client_secret_post', 'client_secret_basic', 'private_key_jwt']);
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA']);
    const basic = await machine('client_secret_basic');
    const viaBasic = await tokenRequest().auth(basic.app.client_id, basic.secret).send({ grant_type: 'client_credentials', audience: api.identifier });
    expect(viaBasic.status).toBe(200);
    const post = await machine('client_secret_post');
    const viaPost = await tokenRequest().send({ grant_type: 'client_credentials', client_id: post.app.client_id, client_secret: post.secret, audience: api.identifier });
    expect(viaPost.status).toBe(200);
    // A client assertion (private_key_jwt / client_secret_jwt) is no way in: applications register no keys, and secrets are stored hashed.
    const assertion = await new SignJWT({ jti: 'a1' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(post.app.client_id).setSubject(post.app.client_id)
      .setAudience(`${ISSUER}/oauth/token`).setIssuedAt().setExpirationTime('1m').sign(new TextEncoder().encode(post.secret));
    const viaAssertion = await tokenRequest().send({
      grant_type: 'client_credentials', client_id: post.app.client_id, audience: api.identifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    expect(viaAssertion.body.error).toBe('invalid_client');
  });

  it('lists the grant types applications can be configured for (password, implicit and device code: first-party only, tested with their flows)', () => {
    expect([...metadata.grant_types_supported as string[]].sort()).toEqual(
      ['authorization_code', 'client_credentials', 'implicit', 'password', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    );
  });

  it('lists the DPoP proof algorithms that the token endpoint and requireAccessToken both accept', async () => {
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256', 'Ed25519', 'EdDSA']);
    const resource = express().use(protectedResourceMetadata({ resource: api.identifier, authorizationServers: [ISSUER] }));
    const document = (await request(resource).get('/.well-known/oauth-protected-resource').expect(200)).body;
    expect(document.dpop_signing_alg_values_supported).toEqual(metadata.dpop_signing_alg_values_supported);
  });
});

describe('responses carrying tokens or secrets are never cached (Cache-Control: no-store, Pragma: no-cache)', () => {
  let test: TestGatehouse;
  beforeAll(async () => {
    test = await startGatehouse();
  });
  afterAll(async () => {
    await test.close();
  });
  const expectNoStore = (res: request.Response) => expect([res.status, res.headers['cache-control'], res.headers.pragma]).toEqual([res.status, 'no-store', 'no-cache']);

  it('at the token, introspection and userinfo endpoints', async () => {
    const stores = test.gatehouse.stores;
    const api = await createApi(stores);
    const user = await createUser(stores, 'nico@example.com', 'nico password 123');
    const { app, secret } = await insertApplication(stores, { grant_types: ['password'] });
    const tokens = await request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'password', username: user.email, password: 'nico password 123', audience: api.identifier, scope: 'openid read:notes', client_id: app.client_id, client_secret: secret,
    });
    expect(tokens.status).toBe(200);
    expectNoStore(tokens);
    const refused = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'password', username: user.email, password: 'wrong', client_id: app.client_id, client_secret: secret });
    expectNoStore(refused);
    expectNoStore(await request(test.app).post('/oauth/introspect').type('form').send({ token: tokens.body.access_token, client_id: app.client_id, client_secret: secret }));
    expectNoStore(await request(test.app).get('/userinfo').set('Authorization', `Bearer ${tokens.body.access_token}`));
  });

  it('on Management API answers that hold a client secret (create, rotate-secret), and only those', async () => {
    const api = await managementCaller(test);
    const created = await api('post', '/clients', { name: 'Cached?', app_type: 'regular_web', callbacks: ['https://cached.example.com/cb'] });
    expect(created.body.client_secret).toEqual(expect.any(String));
    expectNoStore(created);
    expectNoStore(await api('post', `/clients/${created.body.client_id}/rotate-secret`));
    const read = await api('get', `/clients/${created.body.client_id}`);
    expect([read.status, read.body.client_secret, read.headers.pragma]).toEqual([200, undefined, undefined]);
    const spa = await api('post', '/clients', { name: 'Public', app_type: 'spa', callbacks: ['https://spa.example.com/cb'] });
    expect([spa.body.client_secret, spa.headers.pragma]).toEqual([undefined, undefined]);
  });

  it('on dynamic registration (RFC 7591)', async () => {
    const api = await managementCaller(test);
    await api('patch', '/tenants/settings', { flags: { enable_dynamic_client_registration: true } }).expect(200);
    const registered = await request(test.app).post('/oidc/register').send({ client_name: 'Agent', redirect_uris: ['https://agent.example.com/cb'] });
    expect(registered.status).toBe(201);
    expectNoStore(registered);
  });
});
