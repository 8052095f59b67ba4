import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { adminToken, startGatehouse, type TestGatehouse } from '../support/harness.ts';

/** Malformed requests to every surface: each must get a clear 4xx in its protocol's format, never a 500. */
describe('bad input', () => {
  let test: TestGatehouse;
  let token: string;
  beforeAll(async () => {
    test = await startGatehouse();
    token = await adminToken(test);
  });
  afterAll(async () => {
    await test.close();
  });

  const junk = ['', '{', '[]', 'null', '"x"', '{"a":{"b":{"c":[1,2,{"d":null}]}}}', 'a=1&a=2&b[]=3', '\u0000\u0001', 'x'.repeat(70_000)];
  const types = ['application/json', 'application/x-www-form-urlencoded', 'text/plain'];

  it.each([
    ['post', '/oauth/token'], ['post', '/oauth/revoke'], ['post', '/oauth/introspect'], ['post', '/oidc/register'], ['post', '/u/login'],
    ['post', '/u/consent'], ['post', '/u/apps/remove'], ['post', '/developers/register'], ['post', '/oauth/par'],
    ['post', '/authorize'], ['post', '/oidc/logout'], ['post', '/oauth/device/code'], ['post', '/activate'],
  ] as const)('%s %s', async (method, path) => {
    for (const body of junk) {
      for (const type of types) {
        const res = await request(test.app)[method](path).set('Content-Type', type).send(body);
        expect({ path, type, body: body.slice(0, 20), status: res.status }).toEqual({ path, type, body: body.slice(0, 20), status: expect.any(Number) });
        expect(res.status).toBeLessThan(500);
      }
    }
  });

  it.each([
    '/authorize', '/authorize?client_id=', '/authorize?client_id=x&client_id=y', '/authorize?response_type=code&client_id=%00',
    '/authorize/unknown-uid', '/u/login', '/u/login?state=nope', '/u/consent?state=nope', '/u/apps/callback?error=x',
    '/userinfo', '/.well-known/oauth-authorization-server/extra', '/oidc/logout?id_token_hint=garbage', '/developers?x[y]=z',
    '/activate', '/activate?user_code=%00', '/activate/unknown-uid', '/v2/logout', '/v2/logout?client_id=nope&returnTo=javascript:x',
    '/v2/logout?client_id=a&client_id=b&returnTo[x]=y', '/authorize?client_id=x&response_mode=web_message',
  ])('GET %s', async (path) => {
    const res = await request(test.app).get(path);
    expect(res.status).toBeLessThan(500);
  });

  it('the Management API answers junk in Auth0 shape', async () => {
    for (const [method, path] of [['post', '/api/v2/clients'], ['patch', '/api/v2/tenants/settings'], ['post', '/api/v2/client-grants'], ['post', '/api/v2/network-acls'], ['post', '/api/v2/users']] as const) {
      for (const body of junk) {
        const res = await request(test.app)[method](path).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(body);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.body).toMatchObject({ statusCode: res.status, error: expect.any(String), message: expect.any(String) });
      }
    }
    const odd = await request(test.app).get('/api/v2/clients?per_page=1e400&page=-1&include_totals=maybe').set('Authorization', `Bearer ${token}`);
    expect(odd.status).toBe(400);
    const encoded = await request(test.app).get('/api/v2/resource-servers/%E0%A4%A').set('Authorization', `Bearer ${token}`);
    expect(encoded.status).toBeLessThan(500);
  });
});
