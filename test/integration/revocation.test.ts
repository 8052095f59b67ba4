import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import request from 'supertest';
import { revocationKey, type RevokedAccess } from '../../src/domain/revocations.ts';
import type { Application } from '../../src/domain/model.ts';
import { followRevocations, type RevocationSource } from '../../src/http/revocation-watch.ts';
import { requireAccessToken } from '../../src/index.ts';
import { readRevocationFeed } from '../../src/services/revocations.ts';
import { startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';
import { authorizeQuery, createApi, createConnection, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { codeFlowTokens, createUser, formOf } from '../support/flow.ts';
import { startDocumentHost } from '../support/document-host.ts';
import { insertApplication, pathOf, pkcePair } from '../support/harness.ts';
import { discover, insecure } from '../support/oauth4webapi.ts';
import type { ResourceServerSettings } from '../support/resource-server.ts';

const AUDIENCE = 'https://notes.revocation.test/';
const CALLBACK = 'https://agent.example.com/callback';
const PASSWORD = 'revocation password 123';
/** How soon a revocation must reach resource servers, in another process as in the host app. */
const DEADLINE_MS = 5000;

/** Starts an API in a process of its own (test/support/resource-server.ts), which knows only the issuer URL and its credentials. */
async function startResourceServer(settings: ResourceServerSettings): Promise<{ process: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, ['test/support/resource-server.ts', JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(createInterface({ input: child.stdout! }), 'line') as [string];
  return { process: child, url: new URL('/notes', (JSON.parse(line) as { origin: string }).origin) };
}

interface Outcome {
  status: number;
  error?: string | undefined;
  description?: string | undefined;
}

/** A call of the API with oauth4webapi, and what it answered (the RFC 6750 challenge of a refusal). */
async function callApi(url: URL, token: string): Promise<Outcome> {
  try {
    return { status: (await oauth.protectedResourceRequest(token, 'GET', url, undefined, undefined, insecure)).status };
  } catch (err) {
    if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err;
    const [challenge] = err.cause;
    return { status: err.response.status, error: challenge?.parameters.error, description: challenge?.parameters.error_description };
  }
}

const REVOKED: Outcome = { status: 401, error: 'invalid_token', description: 'the access token was revoked' };

/** Calls the API until it refuses the token or the deadline passes; answers what it said last. */
async function refusedBefore(deadline: number, url: URL, token: string): Promise<Outcome> {
  for (;;) {
    const outcome = await callApi(url, token);
    if (outcome.status !== 200 || Date.now() > deadline) return outcome;
    await sleep(100);
  }
}

describe('revocation reaches resource servers', () => {
  let live: LiveGatehouse;
  let as: oauth.AuthorizationServer;
  let backend: { app: Application; secret: string };
  let remote: { process: ChildProcess; url: URL };
  let adminToken: string;
  const stores = () => live.gatehouse.stores;
  const inHostApp = () => new URL('/api/notes', live.origin);
  let users = 0;
  const newUser = () => createUser(stores(), `reader${(users += 1)}@example.com`, PASSWORD);
  const manage = (method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object) => {
    const call = request(live.app)[method](`/api/v2${path}`).set('Authorization', `Bearer ${adminToken}`);
    return body ? call.send(body) : call;
  };

  beforeAll(async () => {
    // Middleware mode: the host app's API, beside Gatehouse, follows revocations in Gatehouse's store.
    live = await startLiveGatehouse({ cimd: { allowed_private_hosts: ['localhost'], known_agents: [] } }, {
      before: (app, gatehouse) => {
        app.get('/api/notes', requireAccessToken({ issuer: gatehouse.config.issuer, audience: AUDIENCE, revocations: gatehouse.watchRevocations(AUDIENCE) }),
          (req, res) => void res.json({ sub: req.auth?.subject }));
      },
    });
    await createApi(stores(), { identifier: AUDIENCE });
    as = await discover(live.origin);
    // The API's own application, whose credentials the API in another process reads the feed with.
    backend = await insertApplication(stores(), { name: 'Notes API backend', app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [] });
    await createGrant(stores(), { client_id: backend.app.client_id, audience: AUDIENCE, subject_type: 'client', scope: [] });
    remote = await startResourceServer({ issuer: live.origin, audience: AUDIENCE, clientId: backend.app.client_id, clientSecret: backend.secret });
    const { client_id, client_secret } = live.gatehouse.adminCredentials;
    adminToken = (await request(live.app).post('/oauth/token').type('form')
      .send({ grant_type: 'client_credentials', client_id, client_secret, audience: `${live.origin}/api/v2/` })).body.access_token;
  });
  afterAll(async () => {
    remote?.process.kill();
    await live?.close();
  });

  /** The API in another process and the host app's both accept the token. */
  async function expectAccepted(token: string): Promise<void> {
    expect([await callApi(remote.url, token), await callApi(inHostApp(), token)]).toEqual([{ status: 200 }, { status: 200 }]);
  }

  /** Both refuse it within the deadline, counted from now (the revocation was just answered). */
  async function expectRevoked(token: string): Promise<void> {
    const deadline = Date.now() + DEADLINE_MS;
    expect(await Promise.all([refusedBefore(deadline, remote.url, token), refusedBefore(deadline, inHostApp(), token)])).toEqual([REVOKED, REVOKED]);
  }

  async function passwordApp() {
    const { app, secret } = await insertApplication(stores(), { grant_types: ['password', 'refresh_token'] });
    const client: oauth.Client = { client_id: app.client_id };
    const tokens = async (email: string, scope = 'read:notes') => oauth.processGenericTokenEndpointResponse(as, client,
      await oauth.genericTokenEndpointRequest(as, client, oauth.ClientSecretPost(secret), 'password', { username: email, password: PASSWORD, audience: AUDIENCE, scope }, insecure));
    return { app, client, auth: oauth.ClientSecretPost(secret), tokens };
  }

  async function machine() {
    const { app, secret } = await insertApplication(stores(), { name: 'Notes sync', app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [] });
    const grant = await createGrant(stores(), { client_id: app.client_id, audience: AUDIENCE, subject_type: 'client', scope: ['read:notes'] });
    const client: oauth.Client = { client_id: app.client_id };
    const token = async () => (await oauth.processClientCredentialsResponse(as, client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(secret), { audience: AUDIENCE }, insecure))).access_token;
    return { app, grant, token };
  }

  it('a consent revoked (DELETE /api/v2/grants/{id}): the tokens of that grant only', async () => {
    const { app: partner } = await thirdPartyApp(stores(), { token_endpoint_auth_method: 'none' });
    await createGrant(stores(), { client_id: partner.client_id, audience: AUDIENCE, scope: ['read:notes'] });
    const consentedToken = async (email: string) => (await codeFlowTokens(live.app, partner, {
      email, password: PASSWORD, query: authorizeQuery(partner, { audience: AUDIENCE, scope: 'read:notes' }),
    })).body.access_token as string;
    const [revoking, staying] = [await newUser(), await newUser()];
    const [revoked, kept] = [await consentedToken(revoking.email), await consentedToken(staying.email)];
    await expectAccepted(revoked);
    const consents = await manage('get', `/grants?user_id=${encodeURIComponent(revoking.user_id)}`);
    expect(consents.body).toHaveLength(1);
    expect((await manage('delete', `/grants/${consents.body[0].id}`)).status).toBe(204);
    await expectRevoked(revoked);
    await expectAccepted(kept);
  });

  it('a user deleted, a user blocked: every token of that user', async () => {
    const { tokens } = await passwordApp();
    const [deleted, blocked, staying] = [await newUser(), await newUser(), await newUser()];
    const deletedToken = (await tokens(deleted.email)).access_token;
    const blockedToken = (await tokens(blocked.email)).access_token;
    const kept = (await tokens(staying.email)).access_token;
    await expectAccepted(deletedToken);
    await expectAccepted(blockedToken);
    expect((await manage('delete', `/users/${encodeURIComponent(deleted.user_id)}`)).status).toBe(204);
    await expectRevoked(deletedToken);
    expect((await manage('patch', `/users/${encodeURIComponent(blocked.user_id)}`, { blocked: true })).status).toBe(200);
    await expectRevoked(blockedToken);
    await expectAccepted(kept);
  });

  it('a password reset through a link: every token of that user issued before', async () => {
    const { tokens } = await passwordApp();
    const user = await newUser();
    const before = (await tokens(user.email)).access_token;
    await expectAccepted(before);
    const { body } = await manage('post', '/tickets/password-change', { user_id: user.user_id });
    const form = await request(live.app).get(pathOf(body.ticket));
    const done = await request(live.app).post(pathOf(body.ticket)).type('form').send({ ...formOf(form.text).fields, password: 'a new revocation password 456' });
    expect(done.status).toBe(200);
    await expectRevoked(before);
  });

  it('an application deleted: its tokens, for users and for itself', async () => {
    const { app, tokens } = await passwordApp();
    const user = await newUser();
    const { app: sync, token } = await machine();
    const [userToken, machineToken] = [(await tokens(user.email)).access_token, await token()];
    const other = await machine();
    const kept = await other.token();
    await expectAccepted(userToken);
    await expectAccepted(machineToken);
    for (const clientId of [app.client_id, sync.client_id]) expect((await manage('delete', `/clients/${clientId}`)).status).toBe(204);
    await expectRevoked(userToken);
    await expectRevoked(machineToken);
    await expectAccepted(kept);
  });

  it('a client grant deleted: the application\'s tokens for the API', async () => {
    const { grant, token } = await machine();
    const other = await machine();
    const [revoked, kept] = [await token(), await other.token()];
    await expectAccepted(revoked);
    expect((await manage('delete', `/client-grants/${grant.id}`)).status).toBe(204);
    await expectRevoked(revoked);
    await expectAccepted(kept);
  });

  it('a refresh token revoked at /oauth/revoke (oidc-provider revokes its grant): the access tokens of that grant', async () => {
    const { client, auth, tokens } = await passwordApp();
    const user = await newUser();
    const revoking = await tokens(user.email, 'read:notes offline_access');
    const kept = (await tokens(user.email)).access_token; // another grant of the same user
    expect(revoking.refresh_token).toEqual(expect.stringMatching(/\S/));
    await expectAccepted(revoking.access_token);
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, revoking.refresh_token as string, insecure));
    await expectRevoked(revoking.access_token);
    await expectAccepted(kept);
  });

  it('a self-registered application held or blocked on the trust ladder, a CIMD client named by its URL included', async () => {
    const host = await startDocumentHost();
    try {
      expect((await manage('patch', '/tenants/settings', { flags: { enable_dynamic_client_registration: true }, client_id_metadata_document_supported: true })).status).toBe(200);
      await createGrant(stores(), { default_for: 'third_party_clients', audience: AUDIENCE, scope: ['read:notes'] });
      const consentedToken = async (clientId: string) => {
        const { verifier, challenge } = pkcePair();
        const query = new URLSearchParams({
          client_id: clientId, response_type: 'code', redirect_uri: CALLBACK, state: 'st', code_challenge: challenge, code_challenge_method: 'S256', scope: 'read:notes', audience: AUDIENCE,
        });
        const res = await codeFlowTokens(live.app, { client_id: clientId, callbacks: [CALLBACK] }, { email: (await newUser()).email, password: PASSWORD, query: { path: `/authorize?${query}`, verifier } });
        expect(res.status).toBe(200);
        return res.body.access_token as string;
      };
      const registered = await request(live.app).post('/oidc/register').send({ client_name: 'Notes agent', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none' });
      expect(registered.status).toBe(201);
      const blocked = await consentedToken(registered.body.client_id);
      const cimdUrl = host.serve('/notes-agent.json', { client_id: `${host.origin}/notes-agent.json`, client_name: 'Notes agent', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none' });
      const held = await consentedToken(cimdUrl);
      expect(decodeJwt(held).client_id).toBe(cimdUrl);
      const [cimdApp] = await stores().durable.applications.find({ external_client_id: cimdUrl });
      await expectAccepted(held);
      await expectAccepted(blocked);
      // Held: nothing else is revoked, so only the application's revocation, under its URL, can end the token.
      expect((await manage('post', `/clients/${cimdApp?.client_id}/trust`, { trust: 'pending' })).status).toBe(200);
      await expectRevoked(held);
      expect((await manage('post', `/clients/${registered.body.client_id}/trust`, { trust: 'blocked' })).status).toBe(200);
      await expectRevoked(blocked);
    } finally {
      await host.close();
    }
  });

  it('every other change that ends access records it for the APIs concerned', async () => {
    const other = await createApi(stores());
    const published = async (audience: string) => (await readRevocationFeed(stores().durable, audience, undefined)).revocations.map((record) => record.key);
    const { app } = await insertApplication(stores(), { app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [] });
    const grant = await createGrant(stores(), { client_id: app.client_id, audience: other.identifier, subject_type: 'client', scope: ['read:notes'] });
    const narrowed = revocationKey({ kind: 'application_api', clientId: app.client_id, audience: other.identifier, subjectType: 'client' });
    expect((await manage('patch', `/client-grants/${grant.id}`, { scope: ['read:notes', 'write:notes'] })).status).toBe(200);
    expect(await published(other.identifier)).not.toContain(narrowed); // a scope given, none taken
    expect((await manage('patch', `/client-grants/${grant.id}`, { scope: ['write:notes'] })).status).toBe(200);
    expect(await published(other.identifier)).toContain(narrowed);

    const byDefault = await createGrant(stores(), { default_for: 'third_party_clients', audience: other.identifier, subject_type: 'user', scope: ['read:notes'] });
    expect((await manage('delete', `/client-grants/${byDefault.id}`)).status).toBe(204);
    const userAccess = revocationKey({ kind: 'api', audience: other.identifier, subjectType: 'user' });
    expect(await published(other.identifier)).toContain(userAccess);

    const tightened = await createApi(stores());
    expect((await manage('patch', `/resource-servers/${tightened.id}`, { subject_type_authorization: { user: { policy: 'require_client_grant' }, client: { policy: 'require_client_grant' } } })).status).toBe(200);
    expect(await published(tightened.identifier)).toContain(revocationKey({ kind: 'api', audience: tightened.identifier, subjectType: 'user' }));
    expect(await published(tightened.identifier)).not.toContain(revocationKey({ kind: 'api', audience: tightened.identifier, subjectType: 'client' })); // unchanged

    expect((await manage('delete', `/resource-servers/${other.id}`)).status).toBe(204);
    expect(await published(other.identifier)).toContain(revocationKey({ kind: 'api', audience: other.identifier, subjectType: 'client' }));

    const connection = await createConnection(stores(), { name: `partners-${Date.now()}`, is_domain_connection: true });
    const member = await createUser(stores(), 'member@partner.example.com', PASSWORD, connection.name);
    expect((await manage('delete', `/connections/${connection.id}`)).status).toBe(204);
    expect(await published(AUDIENCE)).toContain(revocationKey({ kind: 'user', userId: member.user_id, gone: true }));
  });

  describe('the feed (GET /oauth/revocations)', () => {
    const feed = (query: Record<string, string>, credentials?: { id: string; secret: string }) => {
      const call = request(live.app).get('/oauth/revocations').query(query);
      return credentials ? call.auth(credentials.id, credentials.secret) : call;
    };
    const asBackend = () => ({ id: backend.app.client_id, secret: backend.secret });

    it('answers the API\'s own application with digests: no user or application is named', async () => {
      const { tokens } = await passwordApp();
      const user = await newUser();
      await tokens(user.email);
      await manage('delete', `/users/${encodeURIComponent(user.user_id)}`);
      const res = await feed({ audience: AUDIENCE }, asBackend());
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const keys = (res.body.revocations as { key: string }[]).map((record) => record.key);
      expect(keys).toContain(revocationKey({ kind: 'user', userId: user.user_id, gone: true }));
      expect(res.text).not.toContain(user.user_id);
      expect(res.text).not.toContain(user.email);
    });

    it('names only the revocations of its own API, or of any', async () => {
      const other = await createApi(stores());
      const { app } = await insertApplication(stores(), { app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [] });
      const grant = await createGrant(stores(), { client_id: app.client_id, audience: other.identifier, subject_type: 'client', scope: ['read:notes'] });
      expect((await manage('delete', `/client-grants/${grant.id}`)).status).toBe(204);
      const ended: RevokedAccess = { kind: 'application_api', clientId: app.client_id, audience: other.identifier, subjectType: 'client' };
      const keysOf = (records: { key: string }[]) => records.map((record) => record.key);
      expect(keysOf((await readRevocationFeed(stores().durable, other.identifier, undefined)).revocations)).toContain(revocationKey(ended));
      expect(keysOf((await feed({ audience: AUDIENCE }, asBackend())).body.revocations)).not.toContain(revocationKey(ended));
    });

    it('refuses anyone else, and bad requests, in RFC 6749\'s words', async () => {
      const firstParty = await insertApplication(stores(), { app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [] });
      const partner = await thirdPartyApp(stores(), { app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [] });
      await createGrant(stores(), { client_id: partner.app.client_id, audience: AUDIENCE, subject_type: 'client', scope: [] });
      const userGrantOnly = await insertApplication(stores(), { app_type: 'non_interactive', callbacks: [] });
      await createGrant(stores(), { client_id: userGrantOnly.app.client_id, audience: AUDIENCE, subject_type: 'user', scope: [] });
      const answers = await Promise.all([
        feed({ audience: AUDIENCE }),
        feed({ audience: AUDIENCE }, { id: backend.app.client_id, secret: 'not the secret' }),
        feed({ audience: AUDIENCE }, { id: 'nobody', secret: backend.secret }),
        feed({ audience: AUDIENCE }, { id: firstParty.app.client_id, secret: firstParty.secret }),
        feed({ audience: AUDIENCE }, { id: partner.app.client_id, secret: partner.secret }),
        feed({ audience: AUDIENCE }, { id: userGrantOnly.app.client_id, secret: userGrantOnly.secret }),
        feed({ audience: 'https://elsewhere.example.com/' }, asBackend()),
        feed({}, asBackend()),
        request(live.app).get(`/oauth/revocations?audience=${encodeURIComponent(AUDIENCE)}&audience=x`).auth(backend.app.client_id, backend.secret),
        feed({ audience: AUDIENCE, after: 'not-a-cursor' }, asBackend()),
        request(live.app).post('/oauth/revocations').auth(backend.app.client_id, backend.secret),
      ]);
      expect(answers.map((res) => [res.status, res.body.error])).toEqual([
        [401, 'invalid_client'], [401, 'invalid_client'], [401, 'invalid_client'],
        [403, 'unauthorized_client'], [403, 'unauthorized_client'], [403, 'unauthorized_client'], [403, 'unauthorized_client'],
        [400, 'invalid_request'], [400, 'invalid_request'], [400, 'invalid_request'], [405, 'invalid_request'],
      ]);
      expect(answers[0]?.headers['www-authenticate']).toBe('Basic realm="revocations"');
      expect(answers[1]?.headers['www-authenticate']).toBe('Basic realm="revocations"');
    });
  });

  describe('when the feed cannot be read', () => {
    let token: string;
    beforeAll(async () => {
      const { tokens } = await passwordApp();
      token = (await tokens((await newUser()).email)).access_token;
    });

    it('an API that never read it answers 503, or accepts tokens when told to fail open', async () => {
      const settings = { issuer: live.origin, audience: AUDIENCE, clientId: backend.app.client_id, clientSecret: 'a wrong secret' };
      const [closed, open] = await Promise.all([startResourceServer(settings), startResourceServer({ ...settings, failOpen: true })]);
      try {
        const refused = await request(closed.url.origin).get('/notes').set('Authorization', `Bearer ${token}`);
        expect({ status: refused.status, body: refused.body }).toEqual({ status: 503, body: { error: 'temporarily_unavailable', error_description: expect.stringMatching(/try again/) } });
        expect(refused.headers['retry-after']).toBe('2');
        expect(await callApi(open.url, token)).toEqual({ status: 200 });
      } finally {
        closed.process.kill();
        open.process.kill();
      }
    });

    it('beyond maxStalenessSeconds answers 503, and accepts tokens again once the feed is back', async () => {
      let feedUp = true;
      const source: RevocationSource = async (after) => {
        if (!feedUp) throw new Error('the feed is away');
        return readRevocationFeed(stores().durable, AUDIENCE, after);
      };
      const watch = followRevocations(AUDIENCE, source, { pollSeconds: 0.05, maxStalenessSeconds: 0 });
      const api = express().get('/', requireAccessToken({ issuer: live.origin, audience: AUDIENCE, revocations: watch }), (_req, res) => void res.end());
      const statusUntil = async (wanted: number) => {
        const deadline = Date.now() + DEADLINE_MS;
        for (;;) {
          const { status } = await request(api).get('/').set('Authorization', `Bearer ${token}`);
          if (status === wanted || Date.now() > deadline) return status;
          await sleep(20);
        }
      };
      try {
        expect((await request(api).get('/').set('Authorization', `Bearer ${token}`)).status).toBe(200);
        feedUp = false;
        expect(await statusUntil(503)).toBe(503);
        feedUp = true;
        expect(await statusUntil(200)).toBe(200);
      } finally {
        watch.close();
      }
    });

    it('a feed that never answers gets 503s, not requests that hang', async () => {
      const watch = followRevocations(AUDIENCE, () => new Promise(() => {}));
      try {
        const api = express().get('/', requireAccessToken({ issuer: live.origin, audience: AUDIENCE, revocations: watch }), (_req, res) => void res.end());
        const res = await request(api).get('/').set('Authorization', `Bearer ${token}`);
        expect([res.status, res.body.error]).toEqual([503, 'temporarily_unavailable']);
      } finally {
        watch.close();
      }
    });

    it('requireAccessToken refuses to follow another API\'s revocations', () => {
      expect(() => requireAccessToken({ issuer: live.origin, audience: 'https://other.example.com/', revocations: live.gatehouse.watchRevocations(AUDIENCE) }))
        .toThrow(/revocations followed are those of https:\/\/notes.revocation.test\/, not of https:\/\/other.example.com\//);
    });
  });
});
