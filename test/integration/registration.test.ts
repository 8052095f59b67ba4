import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { decodeJwt } from 'jose';
import request from 'supertest';
import type { NetworkAcl } from '../../src/domain/model.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores, type Stores } from '../../src/store/index.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.ts';
import { clientCredentialsToken, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { authorizeQuery, createApi, createGrant } from '../support/fixtures.ts';
import { codeFlowTokens, createUser } from '../support/flow.ts';

const generous = { rate_limit_per_second: 1000, rate_limit_per_ip_per_minute: 1000, rate_limit_per_claimed_identity_per_hour: 1000, max_applications: 1000, idle_cleanup_days: 0 };

async function enableRegistration(stores: Stores, enabled = true) {
  const settings = (await stores.durable.settings.get('tenant'))!;
  await stores.durable.settings.update('tenant', { set: { flags: { ...settings.flags, enable_dynamic_client_registration: enabled } } });
}

const register = (app: Express, body: unknown) => request(app).post('/oidc/register').set('Content-Type', 'application/json').send(JSON.stringify(body));

describe('dynamic client registration', () => {
  let test: TestGatehouse;
  beforeAll(async () => {
    test = await startGatehouse({ config: { registration: generous } });
  });
  afterAll(async () => {
    await test.close();
  });

  it('is off by default, with a clear error in RFC 7591 form, and not advertised', async () => {
    const res = await register(test.app, { redirect_uris: ['https://app.example.com/cb'] }).expect(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toContain('enable_dynamic_client_registration');
    const discovery = await request(test.app).get('/.well-known/oauth-authorization-server');
    expect(discovery.body.registration_endpoint).toBeUndefined();
  });

  describe('when enabled', () => {
    beforeAll(async () => {
      await enableRegistration(test.gatehouse.stores);
    });

    it('is advertised in discovery', async () => {
      const discovery = await request(test.app).get('/.well-known/openid-configuration');
      expect(discovery.body.registration_endpoint).toBe('http://gatehouse.test/oidc/register');
    });

    it('registers a public client as a strict third-party application and echoes its metadata', async () => {
      const res = await register(test.app, {
        client_name: 'Claude Code', redirect_uris: ['http://localhost:33418/callback'], token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], software_id: 'claude-code', contacts: ['dev@example.com'],
        unknown_member: 'ignored', resource: 'https://mcp.example.com/',
      }).expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({
        client_name: 'Claude Code', redirect_uris: ['http://localhost:33418/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], application_type: 'native', client_secret_expires_at: 0, software_id: 'claude-code', contacts: ['dev@example.com'],
      });
      expect(res.body.client_id).toMatch(/^tpc_[A-Za-z0-9]{32}$/);
      expect(res.body.client_secret).toBeUndefined();
      expect(res.body.unknown_member).toBeUndefined();
      expect(Math.abs(res.body.client_id_issued_at - Date.now() / 1000)).toBeLessThan(5);
      const stored = await test.gatehouse.stores.durable.applications.get(res.body.client_id);
      expect(stored).toMatchObject({ is_first_party: false, third_party_security_mode: 'strict', registration_type: 'dynamic', redirection_policy: 'open_redirect_protection' });
    });

    it('registers a confidential client with a secret shown once, client_secret_post by default, tolerating what clients omit', async () => {
      const res = await register(test.app, { redirect_uris: ['https://app.example.com/cb'] }).expect(201);
      expect(res.body.client_secret).toEqual(expect.any(String));
      expect(res.body).toMatchObject({ token_endpoint_auth_method: 'client_secret_post', application_type: 'web', client_name: 'Unnamed application' });
      const stored = await test.gatehouse.stores.durable.applications.get(res.body.client_id);
      expect(JSON.stringify(stored)).not.toContain(res.body.client_secret);
    });

    it('filters grant types to the authorization code and refresh token grants', async () => {
      const res = await register(test.app, {
        redirect_uris: ['https://app.example.com/cb'],
        grant_types: ['authorization_code', 'client_credentials', 'refresh_token', 'implicit', 'password', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      }).expect(201);
      expect(res.body.grant_types).toEqual(['authorization_code', 'refresh_token']);
      const cc = await register(test.app, { redirect_uris: ['https://app.example.com/cb'], grant_types: ['client_credentials'] }).expect(400);
      expect(cc.body.error).toBe('invalid_client_metadata');
    });

    it.each([
      [{}, 'invalid_redirect_uri', 'redirect_uris is required'],
      [{ redirect_uris: [] }, 'invalid_redirect_uri', 'redirect_uris must not be empty'],
      [{ redirect_uris: 'https://app.example.com/cb' }, 'invalid_redirect_uri', 'redirect_uris must be array'],
      [{ redirect_uris: ['http://app.example.com/cb'] }, 'invalid_redirect_uri', 'must use https'],
      [{ redirect_uris: ['https://app.example.com/cb#frag'] }, 'invalid_redirect_uri', 'fragment'],
      [{ redirect_uris: ['https://*.example.com/cb'] }, 'invalid_redirect_uri', 'wildcards'],
      [{ redirect_uris: ['/relative/cb'] }, 'invalid_redirect_uri', 'not an absolute URL'],
      [{ redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri', 'redirect_uris[0]'],
      [{ redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata', 'token_endpoint_auth_method'],
      [{ redirect_uris: ['https://a.example/cb'], response_types: ['token'] }, 'invalid_client_metadata', 'response_types'],
      [{ redirect_uris: ['https://a.example/cb'], logo_uri: 'http://a.example/logo.png' }, 'invalid_client_metadata', 'logo_uri must be an https URL'],
      [{ redirect_uris: ['https://a.example/cb'], client_name: 42 }, 'invalid_client_metadata', 'client_name must be string'],
      [{ redirect_uris: ['https://a.example/cb'], application_type: 'desktop' }, 'invalid_client_metadata', 'application_type'],
      [{ redirect_uris: ['https://a.example/cb'], client_name: 'x'.repeat(500) }, 'invalid_client_metadata', 'client_name'],
    ])('refuses %j with %s', async (body, error, text) => {
      const res = await register(test.app, body).expect(400);
      expect(res.body.error).toBe(error);
      expect(res.body.error_description).toContain(text);
    });

    it('refuses bodies that are not JSON objects, never with a 500', async () => {
      for (const raw of ['not json', '[]', 'null', '"x"']) {
        const res = await request(test.app).post('/oidc/register').set('Content-Type', 'application/json').send(raw);
        expect(res.status).toBe(400);
        expect(['invalid_client_metadata', 'invalid_redirect_uri']).toContain(res.body.error);
      }
    });

    it('answers CORS preflights so browser-based clients can register', async () => {
      const res = await request(test.app).options('/oidc/register').set('Origin', 'https://inspector.example').set('Access-Control-Request-Method', 'POST').expect(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-headers']).toContain('Content-Type');
    });

    it('gives registered clients no client credentials, and registrants no way to change their application', async () => {
      const res = await register(test.app, { redirect_uris: ['https://app.example.com/cb'], grant_types: ['authorization_code'] }).expect(201);
      const api = await createApi(test.gatehouse.stores);
      await createGrant(test.gatehouse.stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes'], subject_type: 'client' });
      expect((await clientCredentialsToken(test.app, res.body.client_id, res.body.client_secret, api.identifier)).body.error).toBe('unauthorized_client');
      for (const method of ['put', 'delete', 'get'] as const) {
        // RFC 7592 client management does not exist: there is nothing to change an application through.
        expect({ method, status: (await request(test.app)[method](`/oidc/register/${res.body.client_id}`)).status }).toEqual({ method, status: 404 });
      }
    });

    it('registers a public client that reaches APIs through default third-party grants only', async () => {
      const withDefault = await createApi(test.gatehouse.stores);
      const withoutDefault = await createApi(test.gatehouse.stores);
      await createGrant(test.gatehouse.stores, { default_for: 'third_party_clients', audience: withDefault.identifier, scope: ['read:notes'] });
      await createUser(test.gatehouse.stores, 'erin@example.com', 'erin password 1');
      const registered = await register(test.app, { client_name: 'MCP client', redirect_uris: ['http://127.0.0.1:8123/callback'], token_endpoint_auth_method: 'none' }).expect(201);
      const client = { client_id: registered.body.client_id as string, callbacks: registered.body.redirect_uris as string[] };
      const app = { ...client, name: 'MCP client' } as never;
      const tokens = await codeFlowTokens(test.app, client, {
        email: 'erin@example.com', password: 'erin password 1', query: authorizeQuery(app, { resource: withDefault.identifier, scope: 'read:notes write:notes offline_access', prompt: 'consent' }),
      });
      expect(tokens.status).toBe(200);
      expect(decodeJwt(tokens.body.access_token)).toMatchObject({ aud: withDefault.identifier, scope: 'read:notes', client_id: client.client_id });
      expect(tokens.body.refresh_token).toEqual(expect.any(String));
      const refused = await request(test.app).get(authorizeQuery(app, { resource: withoutDefault.identifier, scope: 'read:notes' }).path);
      // Issue 14: an error about the request reaches a registered loopback callback (a native client on the person's own
      // computer learns why); a web callback still gets Gatehouse's page (test/integration/step-up.test.ts).
      expect(refused.status).toBe(303);
      const callback = new URL(refused.headers.location as string);
      expect(callback.origin + callback.pathname).toBe('http://127.0.0.1:8123/callback');
      expect(callback.searchParams.get('error')).toBe('unauthorized_client');
    });

    it('tells an anonymously registered client nothing about another application\'s tokens', async () => {
      const api = await createApi(test.gatehouse.stores);
      await createGrant(test.gatehouse.stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes'] });
      await createUser(test.gatehouse.stores, 'fay@example.com', 'fay password 12');
      const victim = (await register(test.app, { redirect_uris: ['http://127.0.0.1:8124/callback'], token_endpoint_auth_method: 'none' }).expect(201)).body;
      const client = { client_id: victim.client_id as string, callbacks: victim.redirect_uris as string[] };
      const tokens = await codeFlowTokens(test.app, client, {
        email: 'fay@example.com', password: 'fay password 12', query: authorizeQuery({ ...client, name: 'Victim' } as never, { resource: api.identifier, scope: 'read:notes offline_access' }),
      });
      const refreshToken = tokens.body.refresh_token as string;
      expect(refreshToken).toEqual(expect.any(String));

      const snoop = (await register(test.app, { redirect_uris: ['https://snoop.example.com/cb'] }).expect(201)).body;
      const introspect = (form: Record<string, string>) => request(test.app).post('/oauth/introspect').type('form').send({ token: refreshToken, ...form });
      const answer = await introspect({ client_id: snoop.client_id, client_secret: snoop.client_secret });
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { active: false } });
      const own = await introspect({ client_id: client.client_id });
      expect(own.body).toMatchObject({ active: true, client_id: client.client_id, scope: 'offline_access read:notes' });
    });
  });
});

describe('registration limits', () => {
  it('caps the number of dynamically registered applications', async () => {
    const test = await startGatehouse({ config: { registration: { ...generous, max_applications: 2 } } });
    await enableRegistration(test.gatehouse.stores);
    await register(test.app, { redirect_uris: ['https://a.example/cb'] }).expect(201);
    await register(test.app, { redirect_uris: ['https://a.example/cb'] }).expect(201);
    const third = await register(test.app, { redirect_uris: ['https://a.example/cb'] }).expect(403);
    expect(third.body.error_description).toContain('limit of 2');
    await test.close();
  });

  it('limits one client address per minute', async () => {
    const test = await startGatehouse({ config: { registration: { ...generous, rate_limit_per_ip_per_minute: 2 } } });
    await enableRegistration(test.gatehouse.stores);
    await register(test.app, { redirect_uris: ['https://a.example/cb'] }).expect(201);
    await register(test.app, { redirect_uris: ['https://a.example/cb'] }).expect(201);
    const third = await register(test.app, { redirect_uris: ['https://a.example/cb'] }).expect(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    await test.close();
  });

  describe('across two processes sharing Redis', () => {
    let durable: ReturnType<typeof openEmbeddedStore>;
    const redisStores: RedisStore[] = [];
    const instances: TestGatehouse[] = [];
    beforeAll(async () => {
      durable = openEmbeddedStore({ dataDir: null });
      const prefix = `dcr:${randomUUID()}:`;
      for (let i = 0; i < 2; i += 1) {
        const redis = await openRedisStore({ url: process.env.REDIS_URL as string, keyPrefix: prefix });
        redisStores.push(redis);
        instances.push(await startGatehouse({ stores: combineStores(durable, redis, redis.client), config: { registration: { ...generous, rate_limit_per_second: 5 } } }));
      }
    });
    afterAll(async () => {
      for (const instance of instances) await instance.close();
      for (const redis of redisStores) await redis.close();
      await durable.close();
    });

    it('takes the flag change at once in every process, and answers the 6th registration within a second with 429', async () => {
      await enableRegistration(instances[0]!.gatehouse.stores);
      const statuses: number[] = [];
      let last: request.Response | undefined;
      for (let i = 0; i < 6; i += 1) {
        last = await register(instances[i % 2]!.app, { redirect_uris: ['https://a.example/cb'] });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
      expect(last!.body.error).toBe('too_many_requests');
      expect(last!.headers['retry-after']).toBe('1');
      expect(last!.headers['ratelimit-limit']).toBe('5');
      expect(last!.headers['ratelimit-remaining']).toBe('0');
    });
  });
});

describe('network ACLs for registration', () => {
  const now = new Date().toISOString();
  const rule = (priority: number, action: NetworkAcl['rule']['action'], scope: string): NetworkAcl => ({
    id: `acl_${priority}`, description: `rule ${priority}`, active: true, priority,
    rule: { scope: scope as NetworkAcl['rule']['scope'], action, match: { ipv4_cidrs: ['127.0.0.0/8'], ipv6_cidrs: ['::1/128'] } }, created_at: now, updated_at: now,
  });

  it('blocks matching addresses with 403, and lets an earlier allow rule through', async () => {
    const test = await startGatehouse({ config: { registration: generous } });
    await enableRegistration(test.gatehouse.stores);
    await test.gatehouse.stores.durable.networkAcls.insert(rule(20, { block: true }, 'dynamic_client_registration'));
    const blocked = await register(test.app, { redirect_uris: ['https://a.example/cb'] }).expect(403);
    expect(blocked.body).toEqual({ error: 'access_denied', error_description: 'Registration is not allowed from your network.' });
    await test.gatehouse.stores.durable.networkAcls.insert(rule(10, { allow: true }, 'dynamic_client_registration'));
    await register(test.app, { redirect_uris: ['https://a.example/cb'] }).expect(201);
    await test.close();
  });
});

describe('registration hygiene', () => {
  it('records when an application last got a token, and removes idle registrations without consent', async () => {
    const { removeIdleRegistrations } = await import('../../src/services/usage.ts');
    const test = await startGatehouse({ config: { registration: generous } });
    const { stores } = test.gatehouse;
    await enableRegistration(stores);
    const api = await createApi(stores);
    await createGrant(stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes'] });
    await createUser(stores, 'fay@example.com', 'fay password 12');
    const used = (await register(test.app, { redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'none' }).expect(201)).body;
    const idle = (await register(test.app, { redirect_uris: ['https://a.example/cb'] }).expect(201)).body;
    const client = { client_id: used.client_id as string, callbacks: used.redirect_uris as string[] };
    const tokens = await codeFlowTokens(test.app, client, { email: 'fay@example.com', password: 'fay password 12', query: authorizeQuery({ ...client } as never, { audience: api.identifier, scope: 'read:notes' }) });
    expect(tokens.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect((await stores.durable.applications.get(used.client_id))?.last_used_at).toEqual(expect.any(String));
    expect((await stores.durable.applications.get(idle.client_id))?.last_used_at).toBeUndefined();

    const inForty = Date.now() + 40 * 24 * 3600 * 1000;
    expect(await removeIdleRegistrations(stores, 30, Date.now())).toEqual([]);
    expect(await removeIdleRegistrations(stores, 30, inForty)).toEqual([idle.client_id]); // the used one holds a consent
    expect(await stores.durable.applications.get(idle.client_id)).toBeUndefined();
    expect(await stores.durable.applications.get(used.client_id)).toBeDefined();
    await test.close();
  });
});

describe('CORS for browser-based clients', () => {
  it('lets a registered SPA exchange its code from its own origin, and no other', async () => {
    const test = await startGatehouse({ config: { registration: generous } });
    await enableRegistration(test.gatehouse.stores);
    const spa = (await register(test.app, { redirect_uris: ['https://spa.example.com/callback'], token_endpoint_auth_method: 'none' }).expect(201)).body;
    const preflight = await request(test.app).options('/oauth/token').set('Origin', 'https://spa.example.com').set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    const allowed = await request(test.app).post('/oauth/token').set('Origin', 'https://spa.example.com').type('form')
      .send({ grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://spa.example.com/callback', code_verifier: 'y'.repeat(43), client_id: spa.client_id });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://spa.example.com');
    const other = await request(test.app).post('/oauth/token').set('Origin', 'https://evil.example.com').type('form')
      .send({ grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://spa.example.com/callback', code_verifier: 'y'.repeat(43), client_id: spa.client_id });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const discovery = await request(test.app).get('/.well-known/openid-configuration').set('Origin', 'https://anyone.example');
    expect(discovery.headers['access-control-allow-origin']).toBe('https://anyone.example');
    await test.close();
  });
});
