import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { draftUser } from '../../src/domain/user-rules.ts';
import { hashPassword } from '../../src/services/passwords.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores, type Stores } from '../../src/store/index.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.ts';
import { formOf } from '../support/flow.ts';
import { CookieJar, insertApplication, pathOf, pkcePair, startGatehouse, type TestGatehouse } from '../support/harness.ts';

const PASSWORD = 'shared password 1';

describe('two Gatehouse processes sharing Redis and the durable store', () => {
  let durable: ReturnType<typeof openEmbeddedStore>;
  const redisStores: RedisStore[] = [];
  const instances: TestGatehouse[] = [];
  let stores: Stores[];

  beforeAll(async () => {
    durable = openEmbeddedStore({ dataDir: null }); // stands in for MongoDB: one durable store both processes reach
    const prefix = `multi:${randomUUID()}:`;
    for (let i = 0; i < 2; i += 1) redisStores.push(await openRedisStore({ url: process.env.REDIS_URL as string, keyPrefix: prefix }));
    stores = redisStores.map((redis) => combineStores(durable, redis, redis.client));
    for (const shared of stores) instances.push(await startGatehouse({ stores: shared }));
    const user = draftUser({ connection: 'Username-Password-Authentication', email: 'u@example.com', password: PASSWORD, email_verified: true }, 'auth0|shared-user', await hashPassword(PASSWORD), new Date().toISOString());
    await durable.users.insert(user);
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
    for (const redis of redisStores) await redis.close();
    await durable.close();
  });

  it('completes an authorization code + PKCE flow whose steps alternate between them, then refreshes on either', async () => {
    const [a, b] = instances.map((i) => i.app) as [Express, Express];
    const { app: client, secret } = await insertApplication(stores[0]!);
    const { verifier, challenge } = pkcePair();
    const jar = new CookieJar();
    const step = async (app: Express, path: string) => {
      const res = await request(app).get(path).set('Cookie', jar.header());
      jar.store(res.headers['set-cookie']);
      return res;
    };
    /** Posts the page's form (the real login or consent page, with its CSRF token) to the other process. */
    const submit = async (app: Express, page: request.Response, values: Record<string, string>) => {
      const { action, fields } = formOf(page.text);
      const res = await request(app).post(pathOf(action)).type('form').set('Cookie', jar.header()).send({ ...fields, ...values });
      jar.store(res.headers['set-cookie']);
      return res;
    };

    const query = new URLSearchParams({
      client_id: client.client_id, response_type: 'code', redirect_uri: 'https://app.example.com/callback', scope: 'openid offline_access read:messages',
      audience: 'https://api.example.com/', code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz', prompt: 'consent',
    });
    let res = await step(a, `/authorize?${query}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/\/u\/login\?state=/);
    const login = await step(b, pathOf(res.headers.location as string)); // the login page from B
    expect(login.status).toBe(200);
    expect(login.text).toContain('name="password"');
    res = await submit(a, login, { email: 'U@example.com', password: PASSWORD }); // signed in on A
    expect(res.status).toBe(303);
    res = await step(b, pathOf(res.headers.location as string)); // resume on B
    expect(res.headers.location).toMatch(/\/u\/consent\?state=/);
    const consent = await step(a, pathOf(res.headers.location as string)); // the consent page from A
    expect(consent.status).toBe(200);
    expect(consent.text).toContain('Read your messages');
    res = await submit(b, consent, { action: 'accept' }); // accepted on B
    expect(res.status).toBe(303);
    res = await step(a, pathOf(res.headers.location as string)); // resume on A: back to the client
    const callback = new URL(res.headers.location as string);
    expect(callback.origin + callback.pathname).toBe('https://app.example.com/callback');
    expect(callback.searchParams.get('state')).toBe('xyz');
    const code = callback.searchParams.get('code') as string;

    const token = await request(b).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/callback', code_verifier: verifier,
      client_id: client.client_id, client_secret: secret,
    });
    expect(token.status).toBe(200);
    expect(decodeJwt(token.body.access_token)).toMatchObject({ aud: 'https://api.example.com/', sub: 'auth0|shared-user', scope: 'read:messages' });
    expect(token.body.refresh_token).toEqual(expect.any(String));

    const refreshed = await request(a).post('/oauth/token').type('form').send({
      grant_type: 'refresh_token', refresh_token: token.body.refresh_token, client_id: client.client_id, client_secret: secret,
    });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token).scope).toBe('read:messages');

    // Replaying the code on the other process is caught, and revokes the grant there too: the refresh token dies.
    const replay = await request(a).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/callback', code_verifier: verifier,
      client_id: client.client_id, client_secret: secret,
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    const afterReplay = await request(b).post('/oauth/token').type('form').send({
      grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token ?? token.body.refresh_token, client_id: client.client_id, client_secret: secret,
    });
    expect(afterReplay.body.error).toBe('invalid_grant');
  });
});
