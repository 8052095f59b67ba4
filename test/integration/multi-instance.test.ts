import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { decodeJwt } from 'jose';
import request from 'supertest';
import type { Gatehouse } from '../../src/gatehouse.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores, type Stores } from '../../src/store/index.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.ts';
import { CookieJar, insertApplication, pathOf, pkcePair, startGatehouse, type TestGatehouse } from '../support/harness.ts';

/** Minimal interaction handlers (the real login and consent pages are tested elsewhere): log in a fixed user, consent to what is asked. */
function testInteractions(userId: string) {
  return (app: Express, gatehouse: Gatehouse) => {
    app.get('/u/:prompt', async (req, res) => {
      const { provider } = gatehouse;
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        return void await provider.interactionFinished(req, res, { login: { accountId: userId } }, { mergeWithLastSubmission: false });
      }
      const { missingOIDCScope = [], missingResourceScopes = {} } = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const grant = (details.grantId && await provider.Grant.find(details.grantId))
        || new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
      grant.addOIDCScope(missingOIDCScope.join(' '));
      for (const [indicator, scopes] of Object.entries(missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      return void await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    });
  };
}

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
    for (const shared of stores) {
      const now = new Date().toISOString();
      await durable.users.insert({ user_id: 'auth0|shared-user', email: 'u@example.com', email_verified: true, connection: 'Username-Password-Authentication', blocked: false, logins_count: 0, created_at: now, updated_at: now, password_hash: 'x' })
        .catch(() => undefined);
      instances.push(await startGatehouse({ stores: shared, before: testInteractions('auth0|shared-user') }));
    }
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

    const query = new URLSearchParams({
      client_id: client.client_id, response_type: 'code', redirect_uri: 'https://app.example.com/callback', scope: 'openid offline_access read:messages',
      audience: 'https://api.example.com/', code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz', prompt: 'consent',
    });
    let res = await step(a, `/authorize?${query}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/\/u\/login\?state=/);
    res = await step(b, pathOf(res.headers.location as string)); // login on B
    res = await step(a, pathOf(res.headers.location as string)); // resume on A
    expect(res.headers.location).toMatch(/\/u\/consent\?state=/);
    res = await step(b, pathOf(res.headers.location as string)); // consent on B
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
