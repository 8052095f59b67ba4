import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import type { Application, ResourceServer } from '../../src/domain/model.ts';
import { revokeUserGrant } from '../../src/services/grants.ts';
import { clientCredentialsToken, ISSUER, startGatehouse, type ApplicationFixture, type TestGatehouse } from '../support/harness.ts';
import { authorizeQuery, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { codeFlowTokens, createUser } from '../support/flow.ts';

const EMAIL = 'bob@example.com';
const PASSWORD = 'bob password 123';

describe('the token endpoint', () => {
  let test: TestGatehouse;
  let api: ResourceServer;
  const stores = () => test.gatehouse.stores;
  const post = (form: Record<string, string>) => request(test.app).post('/oauth/token').type('form').send(form);

  beforeAll(async () => {
    test = await startGatehouse();
    api = await createApi(stores());
    await createUser(stores(), EMAIL, PASSWORD);
  });
  afterAll(async () => {
    await test.close();
  });

  describe('client credentials', () => {
    const m2m = (fields: ApplicationFixture = {}) => thirdPartyApp(stores(), {
      is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `m2m_${Math.random().toString(36).slice(2)}`,
      app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [], ...fields,
    });

    it('gives a first-party application the scopes of its client grant, all of them when it names none', async () => {
      const { app, secret } = await m2m();
      await createGrant(stores(), { client_id: app.client_id, audience: api.identifier, subject_type: 'client', scope: ['read:notes', 'write:notes'] });
      const all = await clientCredentialsToken(test.app, app.client_id, secret, api.identifier);
      expect(decodeJwt(all.body.access_token)).toMatchObject({ aud: api.identifier, scope: 'read:notes write:notes', sub: app.client_id });
      const some = await clientCredentialsToken(test.app, app.client_id, secret, api.identifier, 'write:notes delete:notes');
      expect(decodeJwt(some.body.access_token).scope).toBe('write:notes');
    });

    it.each(['RS256', 'RS512', 'PS256', 'ES256'] as const)('signs tokens for an API with %s, its signing algorithm, verifiable with the JWKS', async (alg) => {
      const { app, secret } = await m2m();
      const signed = await createApi(stores(), { signing_alg: alg });
      await createGrant(stores(), { client_id: app.client_id, audience: signed.identifier, subject_type: 'client', scope: ['read:notes'] });
      const res = await clientCredentialsToken(test.app, app.client_id, secret, signed.identifier);
      expect(res.status).toBe(200);
      expect(decodeProtectedHeader(res.body.access_token).alg).toBe(alg);
      const jwks = createLocalJWKSet((await request(test.app).get('/.well-known/jwks.json')).body);
      await jwtVerify(res.body.access_token, jwks, { issuer: ISSUER, audience: signed.identifier, algorithms: [alg] });
    });

    it('refuses an application without a client grant (unauthorized_client) and any application when the API says deny_all', async () => {
      const { app, secret } = await m2m();
      const none = await clientCredentialsToken(test.app, app.client_id, secret, api.identifier);
      expect(none.status).toBe(400);
      expect(none.body.error).toBe('unauthorized_client');
      const closed = await createApi(stores(), { client: 'deny_all' });
      await createGrant(stores(), { client_id: app.client_id, audience: closed.identifier, subject_type: 'client', scope: ['read:notes'] });
      const denied = await clientCredentialsToken(test.app, app.client_id, secret, closed.identifier);
      expect(denied.body).toMatchObject({ error: 'access_denied' });
      expect(denied.body.error_description).toContain('deny_all');
      const unknown = await clientCredentialsToken(test.app, app.client_id, secret, 'https://nowhere.example.com/');
      expect(unknown.body).toEqual({ error: 'invalid_target', error_description: 'Service not found: https://nowhere.example.com/' });
    });

    it('serves strict third-party confidential applications made by an administrator, with a client grant (own or default)', async () => {
      const { app, secret } = await thirdPartyApp(stores(), { grant_types: ['client_credentials'] });
      const userOnly = await createApi(stores());
      await createGrant(stores(), { client_id: app.client_id, audience: userOnly.identifier, subject_type: 'user', scope: ['read:notes'] });
      expect((await clientCredentialsToken(test.app, app.client_id, secret, userOnly.identifier)).body.error).toBe('unauthorized_client');
      const shared = await createApi(stores());
      await createGrant(stores(), { default_for: 'third_party_clients', audience: shared.identifier, subject_type: 'client', scope: ['read:notes'] });
      expect(decodeJwt((await clientCredentialsToken(test.app, app.client_id, secret, shared.identifier)).body.access_token).scope).toBe('read:notes');
      const system = await clientCredentialsToken(test.app, app.client_id, secret, `${ISSUER}/api/v2/`);
      expect(system.body.error).toBe('access_denied');
    });

    it('is never available to dynamically registered applications, whatever their stored grant types', async () => {
      const { app, secret } = await thirdPartyApp(stores(), { grant_types: ['client_credentials'], registration_type: 'dynamic' });
      await createGrant(stores(), { client_id: app.client_id, audience: api.identifier, subject_type: 'client', scope: ['read:notes'] });
      const res = await clientCredentialsToken(test.app, app.client_id, secret, api.identifier);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('unauthorized_client');
    });

    it('signs with the API algorithm and lifetime', async () => {
      const es = await createApi(stores(), { signing_alg: 'ES256', token_lifetime: 120 });
      const { app, secret } = await m2m();
      await createGrant(stores(), { client_id: app.client_id, audience: es.identifier, subject_type: 'client', scope: ['read:notes'] });
      const res = await clientCredentialsToken(test.app, app.client_id, secret, es.identifier);
      expect(decodeProtectedHeader(res.body.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
      const claims = decodeJwt(res.body.access_token);
      expect((claims.exp as number) - (claims.iat as number)).toBe(120);
      expect(res.body.expires_in).toBe(120);
    });
  });

  describe('refresh tokens', () => {
    async function thirdPartyTokens(fields: ApplicationFixture = {}, targetApi = api, scope = 'read:notes write:notes offline_access') {
      const { app } = await thirdPartyApp(stores(), { token_endpoint_auth_method: 'none', ...fields });
      const grant = await createGrant(stores(), { client_id: app.client_id, audience: targetApi.identifier, scope: ['read:notes', 'write:notes'] });
      const res = await codeFlowTokens(test.app, app, { email: EMAIL, password: PASSWORD, query: authorizeQuery(app, { audience: targetApi.identifier, scope }) });
      expect(res.status).toBe(200);
      return { app, grant, tokens: res.body as { access_token: string; refresh_token?: string } };
    }
    const refresh = (app: Application, refreshToken: string, extra: Record<string, string> = {}) =>
      post({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.client_id, ...extra });

    it('rotate on every use for third-party applications; reusing a rotated one revokes the whole grant', async () => {
      const { app, tokens } = await thirdPartyTokens();
      const first = await refresh(app, tokens.refresh_token as string);
      expect(first.status).toBe(200);
      expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
      expect(decodeJwt(first.body.access_token).scope).toBe('read:notes write:notes');
      const narrowed = await refresh(app, first.body.refresh_token, { scope: 'read:notes' });
      expect(decodeJwt(narrowed.body.access_token).scope).toBe('read:notes');
      const reuse = await refresh(app, tokens.refresh_token as string);
      expect(reuse.body.error).toBe('invalid_grant');
      const afterReuse = await refresh(app, narrowed.body.refresh_token);
      expect(afterReuse.body.error).toBe('invalid_grant');
    });

    it('need offline_access and an API that allows offline access', async () => {
      expect((await thirdPartyTokens({}, api, 'read:notes')).tokens.refresh_token).toBeUndefined();
      const online = await createApi(stores(), { allow_offline_access: false });
      expect((await thirdPartyTokens({}, online)).tokens.refresh_token).toBeUndefined();
    });

    it('expire at the absolute lifetime counted from the first token of the chain', async () => {
      const settings = { rotation_type: 'rotating' as const, expiration_type: 'expiring' as const, leeway: 0, token_lifetime: 300, infinite_token_lifetime: false, idle_token_lifetime: 300, infinite_idle_token_lifetime: false };
      const { app, tokens } = await thirdPartyTokens({ refresh_token: settings });
      const introspect = async (token: string) => (await request(test.app).post('/oauth/introspect').type('form').send({ token, client_id: app.client_id })).body;
      const first = await introspect(tokens.refresh_token as string);
      expect(first.exp - first.iat).toBeGreaterThanOrEqual(299);
      expect(first.exp - first.iat).toBeLessThanOrEqual(300);
      await new Promise((r) => setTimeout(r, 1100));
      const rotated = await refresh(app, tokens.refresh_token as string);
      const second = await introspect(rotated.body.refresh_token);
      expect(Math.abs(second.exp - first.exp)).toBeLessThanOrEqual(1);
    });

    it('stop at once when the user consent is revoked, and follow a narrowed client grant', async () => {
      const { app, grant, tokens } = await thirdPartyTokens();
      await stores().durable.clientGrants.update(grant.id, { set: { scope: ['read:notes'] } });
      const narrowed = await refresh(app, tokens.refresh_token as string);
      expect(decodeJwt(narrowed.body.access_token).scope).toBe('read:notes');
      const [consent] = await stores().durable.userGrants.find({ clientID: app.client_id });
      expect(consent?.scope.sort()).toEqual(['offline_access', 'read:notes', 'write:notes']);
      await revokeUserGrant(stores(), consent!);
      expect((await refresh(app, narrowed.body.refresh_token)).body.error).toBe('invalid_grant');
    });
  });

  describe('the password grant', () => {
    it('serves first-party applications that enable it, with ID token and refresh token', async () => {
      const { app, secret } = await thirdPartyApp(stores(), { is_first_party: true, third_party_security_mode: undefined, client_id: `pw_${Date.now()}`, grant_types: ['password', 'refresh_token'] });
      const res = await post({ grant_type: 'password', username: EMAIL, password: PASSWORD, audience: api.identifier, scope: 'openid email read:notes offline_access', client_id: app.client_id, client_secret: secret });
      expect(res.status).toBe(200);
      expect(decodeJwt(res.body.access_token)).toMatchObject({ aud: api.identifier, scope: 'read:notes' });
      expect(decodeJwt(res.body.id_token)).toMatchObject({ email: EMAIL, aud: app.client_id });
      const refreshed = await post({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token, client_id: app.client_id, client_secret: secret });
      expect(decodeJwt(refreshed.body.access_token).scope).toBe('read:notes');
      const wrong = await post({ grant_type: 'password', username: EMAIL, password: 'nope', client_id: app.client_id, client_secret: secret, audience: api.identifier, scope: 'read:notes' });
      expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });
    });

    it('does not exist for third-party applications or first-party ones that did not enable it', async () => {
      const { app: permissive, secret: s1 } = await thirdPartyApp(stores(), { third_party_security_mode: 'permissive', client_id: `pp_${Date.now()}` });
      // Stored past the Management API's rules (which refuse it): the grant refuses it all the same.
      const thirdParty = { ...permissive, grant_types: ['password'] };
      await stores().durable.applications.update(thirdParty.client_id, { set: { grant_types: thirdParty.grant_types } });
      const { app: plain, secret: s2 } = await thirdPartyApp(stores(), { is_first_party: true, third_party_security_mode: undefined, client_id: `np_${Date.now()}` });
      for (const [app, secret] of [[thirdParty, s1], [plain, s2]] as const) {
        const res = await post({ grant_type: 'password', username: EMAIL, password: PASSWORD, client_id: app.client_id, client_secret: secret });
        expect(res.body.error).toBe('unauthorized_client');
      }
    });
  });
});

describe('Auth0-style JSON token requests', () => {
  it('are accepted like forms, and malformed JSON is a clear invalid_request', async () => {
    const test = await startGatehouse();
    const { client_id, client_secret } = test.gatehouse.adminCredentials;
    const res = await request(test.app).post('/oauth/token').set('Content-Type', 'application/json')
      .send(JSON.stringify({ grant_type: 'client_credentials', client_id, client_secret, audience: `${ISSUER}/api/v2/`, scope: 'read:clients' }));
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).scope).toBe('read:clients');
    const shouted = await request(test.app).post('/oauth/token').set('Content-Type', 'Application/JSON; charset=UTF-8')
      .send(JSON.stringify({ grant_type: 'client_credentials', client_id, client_secret, audience: `${ISSUER}/api/v2/` }));
    expect(shouted.status).toBe(200);
    const broken = await request(test.app).post('/oauth/token').set('Content-Type', 'application/json').send('{"grant_type":');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toBe('invalid_request');
    const array = await request(test.app).post('/oauth/token').set('Content-Type', 'application/json').send('[1]');
    expect(array.body.error).toBe('invalid_request');
    await test.close();
  });
});
