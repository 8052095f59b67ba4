import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import express from 'express';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { pino } from 'pino';
import request from 'supertest';
import { resourceServerResponse } from '../../src/http/management/schemas.ts';
import { requireAccessToken } from '../../src/http/resource-server.ts';
import { clientCredentialsToken, ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, expectConforms, managementCaller, type ManagementCaller } from '../support/management.ts';

describe('APIs signing their tokens with HS256 (Auth0\'s signing_secret)', () => {
  let test: TestGatehouse;
  let api: ManagementCaller;
  const logLines: string[] = [];

  beforeAll(async () => {
    const logs = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
    test = await startGatehouse({ logger: pino({ level: 'trace' }, logs) });
    api = await managementCaller(test);
  });
  afterAll(async () => {
    await test.close();
  });

  /** An HS256 API and a machine-to-machine application allowed to reach it. */
  async function hs256Api(identifier: string, fields: object = {}) {
    const created = await api('post', '/resource-servers', { identifier, signing_alg: 'HS256', scopes: [{ value: 'read:data' }], ...fields });
    expect(created.status).toBe(201);
    const { body: app } = await api('post', '/clients', { name: `M2M for ${identifier}`, app_type: 'non_interactive' }).expect(201);
    await api('post', '/client-grants', { client_id: app.client_id, audience: identifier, scope: ['read:data'] }).expect(201);
    const token = async () => (await clientCredentialsToken(test.app, app.client_id, app.client_secret, identifier)).body.access_token as string;
    return { created, token };
  }

  it('generates a secret on create, returns it on create, get and update (never cached), and not in lists', async () => {
    const { created } = await hs256Api('https://hs.example.com/');
    expectConforms(created.body, resourceServerResponse);
    expect(created.body.signing_secret).toMatch(/^[\w-]{43}$/);
    expect([created.headers['cache-control'], created.headers.pragma]).toEqual(['no-store', 'no-cache']);
    const read = await api('get', `/resource-servers/${created.body.id}`).expect(200);
    expect([read.body.signing_secret, read.headers.pragma]).toEqual([created.body.signing_secret, 'no-cache']);
    const renamed = await api('patch', `/resource-servers/${created.body.id}`, { name: 'Renamed' }).expect(200);
    expect(renamed.body.signing_secret).toBe(created.body.signing_secret);
    const listed = (await api('get', '/resource-servers?per_page=100').expect(200)).body as { id: string; signing_secret?: string }[];
    expect(listed.find((entry) => entry.id === created.body.id)).toEqual(expect.objectContaining({ signing_alg: 'HS256' }));
    expect(listed.filter((entry) => 'signing_secret' in entry)).toEqual([]);
    const rs256 = await api('get', '/resource-servers/https%3A%2F%2Fapi.example.com%2F').expect(200);
    expect([rs256.body.signing_secret, rs256.headers.pragma]).toEqual([undefined, undefined]);
  });

  it('takes a secret that is sent (16 characters at least, HS256 only), and drops it when the API leaves HS256', async () => {
    const chosen = 'a secret of mine, 32 characters!';
    const { created } = await hs256Api('https://hs-chosen.example.com/', { signing_secret: chosen });
    expect(created.body.signing_secret).toBe(chosen);
    expectApiError(await api('post', '/resource-servers', { identifier: 'https://short.example.com/', signing_alg: 'HS256', signing_secret: 'too short' }), 400, 'invalid_body', /signing_secret/);
    expectApiError(await api('post', '/resource-servers', { identifier: 'https://rs.example.com/', signing_secret: chosen }), 400, 'invalid_body', 'signing_secret is used only when signing_alg is HS256');
    const switched = await api('patch', `/resource-servers/${created.body.id}`, { signing_alg: 'RS256' }).expect(200);
    expect(switched.body).not.toHaveProperty('signing_secret');
    const back = await api('patch', `/resource-servers/${created.body.id}`, { signing_alg: 'HS256' }).expect(200);
    expect(back.body.signing_secret).toMatch(/^[\w-]{43}$/);
    expect(back.body.signing_secret).not.toBe(chosen);
  });

  it('signs the API\'s tokens with it, which requireAccessToken verifies with its secret option; other APIs and the JWKS are unchanged', async () => {
    const { created, token } = await hs256Api('https://hs-tokens.example.com/');
    const secret = created.body.signing_secret as string;
    const accessToken = await token();
    expect(decodeProtectedHeader(accessToken)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    const { payload } = await jwtVerify(accessToken, new TextEncoder().encode(secret), { issuer: ISSUER, audience: 'https://hs-tokens.example.com/', typ: 'at+jwt' });
    expect(payload.scope).toBe('read:data');

    const resource = express();
    resource.get('/with-secret', requireAccessToken({ issuer: ISSUER, audience: 'https://hs-tokens.example.com/', jwks: { keys: [] }, secret }), (req, res) => void res.json({ sub: req.auth?.subject }));
    resource.get('/without', requireAccessToken({ issuer: ISSUER, audience: 'https://hs-tokens.example.com/', jwks: { keys: [] } }), (_req, res) => void res.end());
    resource.get('/wrong-secret', requireAccessToken({ issuer: ISSUER, audience: 'https://hs-tokens.example.com/', jwks: { keys: [] }, secret: 'another secret, 32 characters!!' }), (_req, res) => void res.end());
    expect((await request(resource).get('/with-secret').set('Authorization', `Bearer ${accessToken}`)).body).toEqual({ sub: decodeJwt(accessToken).sub });
    expect((await request(resource).get('/without').set('Authorization', `Bearer ${accessToken}`)).status).toBe(401);
    expect((await request(resource).get('/wrong-secret').set('Authorization', `Bearer ${accessToken}`)).status).toBe(401);

    const other = await clientCredentialsToken(test.app, test.gatehouse.adminCredentials.client_id, test.gatehouse.adminCredentials.client_secret as string, `${ISSUER}/api/v2/`);
    expect(decodeProtectedHeader(other.body.access_token).alg).toBe('RS256');
    const jwks = (await request(test.app).get('/.well-known/jwks.json').expect(200)).body as { keys: { kty: string }[] };
    expect(new Set(jwks.keys.map((key) => key.kty))).toEqual(new Set(['EC', 'RSA'])); // asymmetric keys only: never the HS256 secret
    const discovery = (await request(test.app).get('/.well-known/openid-configuration').expect(200)).body;
    expect(discovery.id_token_signing_alg_values_supported).not.toContain('HS256');
  });

  it('are introspected while the secret verifies them; a rotation ends the old tokens', async () => {
    const { created, token } = await hs256Api('https://hs-rotate.example.com/');
    const accessToken = await token();
    const claims = decodeJwt(accessToken);
    const { body: app } = await api('get', `/clients/${claims.client_id}`);
    const secret = (await api('post', `/clients/${app.client_id}/rotate-secret`).expect(200)).body.client_secret as string;
    const introspect = (value: string) => request(test.app).post('/oauth/introspect').type('form').send({ token: value, client_id: app.client_id, client_secret: secret });
    expect((await introspect(accessToken)).body).toMatchObject({ active: true, aud: 'https://hs-rotate.example.com/', scope: 'read:data' });
    await api('patch', `/resource-servers/${created.body.id}`, { signing_secret: 'the rotated secret, long enough' }).expect(200);
    expect((await introspect(accessToken)).body).toEqual({ active: false });
  });

  it('never logs a signing secret', async () => {
    const { created } = await hs256Api('https://hs-logs.example.com/');
    await api('get', `/resource-servers/${created.body.id}`).expect(200);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((line) => line.includes(created.body.signing_secret))).toEqual([]);
  });
});
