import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { Redis } from 'ioredis';
import { calculateJwkThumbprint, decodeJwt, exportJWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import request from 'supertest';
import type { Application, ResourceServer } from '../../src/domain/model.ts';
import { requireAccessToken, type RequireAccessTokenOptions } from '../../src/http/resource-server.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores } from '../../src/store/index.ts';
import { openRedisStore } from '../../src/store/redis/index.ts';
import { createApi, createGrant } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, signIn } from '../support/flow.ts';
import { insertApplication, ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';
import { discover, insecure } from '../support/oauth4webapi.ts';

const EMAIL = 'dee@example.com';
const PASSWORD = 'dee password 123';
const CALLBACK = 'https://app.example.com/callback';
const AUDIENCE = 'https://notes.dpop.example.com/';

type KeyPair = Awaited<ReturnType<typeof oauth.generateKeyPair>>;

/** A DPoP proof made by hand (a hostile or broken client), signed with `keys`, for whatever it claims. */
async function handmadeProof(keys: KeyPair, claims: { htm: string; htu: string; token?: string; iat?: number; jti?: string; nonce?: string }) {
  const { token, iat = Math.floor(Date.now() / 1000), jti = randomUUID(), ...rest } = claims;
  return new SignJWT({ ...rest, jti, ...(token ? { ath: createHash('sha256').update(token).digest('base64url') } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .setIssuedAt(iat)
    .sign(keys.privateKey);
}

describe('DPoP-bound access tokens at a resource server (requireAccessToken)', () => {
  let gatehouse: LiveGatehouse;
  let api: ResourceServer;
  let m2m: { app: Application; secret: string };
  let as: oauth.AuthorizationServer;
  const redisClients: Redis[] = [];
  const redisPrefix = `dpop-rs:${randomUUID()}:`;

  /** An API route: what requireAccessToken accepted. */
  const answer: RequestHandler = (req, res) => void res.json({ subject: req.auth?.subject, jkt: req.auth?.claims.cnf?.jkt });

  beforeAll(async () => {
    const redis = () => {
      const client = new Redis(process.env.REDIS_URL as string, { keyPrefix: redisPrefix });
      redisClients.push(client);
      return client;
    };
    gatehouse = await startLiveGatehouse({}, {
      before: (app, { config }) => {
        const protect = (extra: Partial<RequireAccessTokenOptions> = {}) => requireAccessToken({ issuer: config.issuer, audience: AUDIENCE, scopes: ['read:notes'], ...extra });
        app.get('/api/notes', protect(), answer);
        app.post('/api/notes', protect(), answer);
        app.get('/api/nonce', protect({ dpop: { nonceSecret: 'a nonce secret shared by the API processes' } }), answer);
        // Two processes of one API behind a load balancer, sharing Redis: requests alternate between them.
        const processes = [protect({ redis: redis() }), protect({ redis: redis() })];
        let turn = 0;
        app.get('/api/shared', (req, res, next) => processes[turn++ % 2]!(req, res, next), answer);
      },
    });
    const { stores } = gatehouse.gatehouse;
    api = await createApi(stores, { identifier: AUDIENCE });
    await createUser(stores, EMAIL, PASSWORD);
    m2m = await insertApplication(stores, { app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [] });
    await createGrant(stores, { client_id: m2m.app.client_id, audience: api.identifier, subject_type: 'client', scope: ['read:notes'] });
    as = await discover(gatehouse.origin);
  });
  afterAll(async () => {
    await gatehouse?.close();
    for (const client of redisClients) client.disconnect();
  });

  /** A DPoP-bound token for the machine-to-machine application, obtained by oauth4webapi, and its key. */
  async function boundToken() {
    const keys = await oauth.generateKeyPair('ES256');
    const client: oauth.Client = { client_id: m2m.app.client_id };
    const DPoP = oauth.DPoP(client, keys);
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(m2m.secret), { audience: api.identifier }, { DPoP, ...insecure });
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    return { keys, DPoP, tokens, token: tokens.access_token };
  }
  const url = (path: string) => new URL(`${gatehouse.origin}${path}`);
  const call = (token: string, path: string, DPoP: oauth.DPoPHandle, method = 'GET') =>
    oauth.protectedResourceRequest(token, method, url(path), new Headers(), null, { DPoP, ...insecure });
  const challengeOf = (res: request.Response) => res.headers['www-authenticate'] as string;

  it('oauth4webapi obtains a DPoP-bound token (client credentials) and calls the API with protectedResourceRequest', async () => {
    const { keys, DPoP, tokens, token } = await boundToken();
    expect(tokens.token_type).toBe('dpop');
    const thumbprint = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
    expect(decodeJwt(token)).toMatchObject({ aud: api.identifier, cnf: { jkt: thumbprint } });
    const res = await call(token, '/api/notes', DPoP);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ subject: m2m.app.client_id, jkt: thumbprint });
    const post = await call(token, '/api/notes', DPoP, 'POST');
    expect(post.status).toBe(200);
  });

  it('oauth4webapi runs authorization code + PKCE + DPoP through the login page, and the bound token works at the API', async () => {
    const { app, secret } = await insertApplication(gatehouse.gatehouse.stores, { callbacks: [CALLBACK] });
    const client: oauth.Client = { client_id: app.client_id };
    const keys = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, keys);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const authorize = new URL(as.authorization_endpoint as string);
    authorize.search = new URLSearchParams({
      client_id: app.client_id, response_type: 'code', redirect_uri: CALLBACK, scope: 'read:notes', audience: api.identifier, state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', dpop_jkt: await DPoP.calculateThumbprint(),
    }).toString();
    const browser = new Browser(gatehouse.app);
    const callback = callbackOf(await signIn(browser, await browser.open(`${authorize.pathname}${authorize.search}`), EMAIL, PASSWORD));
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretPost(secret), params, CALLBACK, verifier, { DPoP, ...insecure });
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    expect(tokens.token_type).toBe('dpop');
    const res = await call(tokens.access_token, '/api/notes', DPoP);
    expect(res.status).toBe(200);
    expect((await res.json() as { subject: string }).subject).toMatch(/^auth0\|/);
  });

  it('asks for its own nonce when configured (use_dpop_nonce), which oauth4webapi then sends', async () => {
    const { DPoP, token } = await boundToken();
    const error = await call(token, '/api/nonce', DPoP).catch((err: unknown) => err);
    expect(oauth.isDPoPNonceError(error)).toBe(true);
    const retried = await call(token, '/api/nonce', DPoP);
    expect(retried.status).toBe(200);
  });

  it('still takes unbound tokens as Bearer tokens, and refuses them under the DPoP scheme', async () => {
    const res = await request(gatehouse.app).post('/oauth/token').type('form')
      .send({ grant_type: 'client_credentials', client_id: m2m.app.client_id, client_secret: m2m.secret, audience: api.identifier });
    const unbound = res.body.access_token as string;
    expect(decodeJwt(unbound).cnf).toBeUndefined();
    await request(gatehouse.app).get('/api/notes').set('Authorization', `Bearer ${unbound}`).expect(200);
    const keys = await oauth.generateKeyPair('ES256');
    const asDpop = await request(gatehouse.origin).get('/api/notes').set('Authorization', `DPoP ${unbound}`)
      .set('DPoP', await handmadeProof(keys, { htm: 'GET', htu: url('/api/notes').href, token: unbound }));
    expect(asDpop.status).toBe(401);
    expect(challengeOf(asDpop)).toMatch(/^DPoP error="invalid_token"/);
  });

  it('offers both schemes, with the proof algorithms, when no token is sent', async () => {
    const res = await request(gatehouse.app).get('/api/notes');
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toMatch(/^Bearer resource_metadata="[^"]+", DPoP algs="ES256 Ed25519 EdDSA", resource_metadata="[^"]+"$/);
  });

  describe('refuses hostile or broken requests', () => {
    let bound: Awaited<ReturnType<typeof boundToken>>;
    beforeAll(async () => {
      bound = await boundToken();
    });
    // Sent to the listening server, so that the URL the API sees is the one the proofs name.
    const send = (proof: string | undefined, path = '/api/notes', scheme = 'DPoP', token = bound.token) => {
      const req = request(gatehouse.origin).get(path).set('Authorization', `${scheme} ${token}`);
      return proof === undefined ? req : req.set('DPoP', proof);
    };
    const expectRefusal = (res: request.Response, error: string, description: RegExp) => {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error, error_description: expect.stringMatching(description) });
      expect(challengeOf(res)).toMatch(new RegExp(`^DPoP error="${error}", error_description="[^"]+", algs="ES256 Ed25519 EdDSA", resource_metadata="`));
    };
    const proof = (claims: Partial<Parameters<typeof handmadeProof>[1]> = {}, keys = bound.keys) =>
      handmadeProof(keys, { htm: 'GET', htu: url('/api/notes').href, token: bound.token, ...claims });

    it('a bound token sent as a Bearer token', async () => {
      expectRefusal(await send(undefined, '/api/notes', 'Bearer'), 'invalid_token', /bound to a DPoP key/);
      expectRefusal(await send(await proof(), '/api/notes', 'Bearer'), 'invalid_token', /bound to a DPoP key/);
    });

    it('a missing proof, or two', async () => {
      expectRefusal(await send(undefined), 'invalid_dpop_proof', /exactly one/);
      // Node joins repeated headers with a comma, which no JWT contains.
      const twice = await request(gatehouse.origin).get('/api/notes').set('Authorization', `DPoP ${bound.token}`).set('DPoP', `${await proof()}, ${await proof()}`);
      expectRefusal(twice, 'invalid_dpop_proof', /exactly one/);
    });

    it('a proof for another URL or method (query and fragment do not count)', async () => {
      expectRefusal(await send(await proof({ htu: url('/api/other').href })), 'invalid_dpop_proof', /another URL/);
      expectRefusal(await send(await proof({ htu: 'http://elsewhere.example/api/notes' })), 'invalid_dpop_proof', /another URL/);
      expectRefusal(await send(await proof({ htm: 'POST' })), 'invalid_dpop_proof', /another HTTP method/);
      expect((await send(await proof({ htu: `${url('/api/notes').href}?x=1#y` }), '/api/notes?page=2')).status).toBe(200);
    });

    it('a proof for another token (ath), or signed with another key than the token is bound to', async () => {
      const other = await boundToken();
      expectRefusal(await send(await proof({ token: other.token })), 'invalid_dpop_proof', /another access token/);
      expectRefusal(await send(await proof({}, other.keys)), 'invalid_token', /bound to another key/);
    });

    it('a proof too old or from the future, without jti, or not a DPoP proof at all', async () => {
      const now = Math.floor(Date.now() / 1000);
      expectRefusal(await send(await proof({ iat: now - 301 })), 'invalid_dpop_proof', /not recent/);
      expectRefusal(await send(await proof({ iat: now + 301 })), 'invalid_dpop_proof', /not recent/);
      expectRefusal(await send(await proof({ jti: '' })), 'invalid_dpop_proof', /jti/);
      const unsigned = await new SignJWT({ htm: 'GET', htu: url('/api/notes').href, jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk: await exportJWK(bound.keys.publicKey) }).setIssuedAt().sign(bound.keys.privateKey);
      expectRefusal(await send(unsigned), 'invalid_dpop_proof', /typ dpop\+jwt/);
    });

    it('a replayed proof, in the same process', async () => {
      const once = await proof();
      expect((await send(once)).status).toBe(200);
      expectRefusal(await send(once), 'invalid_dpop_proof', /already used/);
    });

    it('a replayed proof, sent to another process of the API sharing Redis', async () => {
      const sharedUrl = url('/api/shared').href;
      const first = await proof({ htu: sharedUrl });
      expect((await send(first, '/api/shared')).status).toBe(200); // process A
      expectRefusal(await send(first, '/api/shared'), 'invalid_dpop_proof', /already used/); // process B
      expect((await send(await proof({ htu: sharedUrl }), '/api/shared')).status).toBe(200); // a fresh proof on A
    });

    it('a proof without the API\'s nonce, or with a made-up one', async () => {
      const nonceUrl = url('/api/nonce').href;
      const missing = await send(await proof({ htu: nonceUrl }), '/api/nonce');
      expectRefusal(missing, 'use_dpop_nonce', /nonce/);
      const nonce = missing.headers['dpop-nonce'] as string;
      expect(nonce).toMatch(/^[\w-]{43}$/);
      expectRefusal(await send(await proof({ htu: nonceUrl, nonce: 'made-up' }), '/api/nonce'), 'use_dpop_nonce', /nonce/);
      expect((await send(await proof({ htu: nonceUrl, nonce }), '/api/nonce')).status).toBe(200);
    });
  });
});

describe('DPoP proofs at the token endpoint', () => {
  it('a replayed proof answers invalid_dpop_proof, also when replayed to another process sharing Redis', async () => {
    const durable = openEmbeddedStore({ dataDir: null });
    const prefix = `dpop-as:${randomUUID()}:`;
    const redisStores = await Promise.all([0, 1].map(() => openRedisStore({ url: process.env.REDIS_URL as string, keyPrefix: prefix })));
    const instances: TestGatehouse[] = [];
    try {
      for (const redis of redisStores) instances.push(await startGatehouse({ stores: combineStores(durable, redis, redis.client) }));
      const [a, b] = instances as [TestGatehouse, TestGatehouse];
      const api = await createApi(a.gatehouse.stores);
      const { app, secret } = await insertApplication(a.gatehouse.stores, { app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [] });
      await createGrant(a.gatehouse.stores, { client_id: app.client_id, audience: api.identifier, subject_type: 'client', scope: ['read:notes'] });
      const keys = await oauth.generateKeyPair('ES256');
      // Both processes serve the issuer's host (as behind a load balancer), so a proof is for the same URL at either.
      const host = new URL(ISSUER).host;
      const proof = () => handmadeProof(keys, { htm: 'POST', htu: `${ISSUER}/oauth/token` });
      const tokenRequest = (instance: TestGatehouse, dpop: string) => request(instance.app).post('/oauth/token').type('form').set('Host', host).set('DPoP', dpop)
        .send({ grant_type: 'client_credentials', client_id: app.client_id, client_secret: secret, audience: api.identifier });
      const replayed = { status: 400, body: { error: 'invalid_dpop_proof', error_description: 'DPoP proof JWT Replay detected' } };

      const first = await proof();
      const issued = await tokenRequest(a, first);
      expect(issued.status).toBe(200);
      expect(issued.body.token_type).toBe('DPoP');
      const again = await tokenRequest(a, first);
      expect({ status: again.status, body: again.body }).toEqual(replayed);

      const second = await proof();
      expect((await tokenRequest(b, second)).status).toBe(200);
      const elsewhere = await tokenRequest(a, second);
      expect({ status: elsewhere.status, body: elsewhere.body }).toEqual(replayed);
    } finally {
      for (const instance of instances) await instance.close();
      for (const redis of redisStores) await redis.close();
      await durable.close();
    }
  });
});
