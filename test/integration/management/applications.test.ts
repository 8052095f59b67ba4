import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { secretMatches } from '../../../src/domain/ids.ts';
import type { Application } from '../../../src/domain/model.ts';
import { clientGrantResponse, clientResponse, listResponse, resourceServerResponse, userGrantResponse } from '../../../src/http/management/schemas.ts';
import { authorizeQuery } from '../../support/fixtures.ts';
import { codeFlowTokens } from '../../support/flow.ts';
import { clientCredentialsToken, ISSUER } from '../../support/harness.ts';
import { expectApiError, expectConforms, managementTestbed } from '../../support/management.ts';

describe('Management API: clients', () => {
  const testbed = managementTestbed();
  const { api } = testbed;

  it('creates a strict third-party application with Auth0 defaults and returns its secret once', async () => {
    const res = await api('post', '/clients', {
      name: 'Partner Application', is_first_party: false, app_type: 'regular_web',
      callbacks: ['https://partner.example.com/callback'], token_endpoint_auth_method: 'client_secret_post',
    }).expect(201);
    expectConforms(res.body, clientResponse);
    expect(res.body).toMatchObject({
      is_first_party: false, third_party_security_mode: 'strict', redirection_policy: 'open_redirect_protection',
      grant_types: ['authorization_code', 'refresh_token'], jwt_configuration: { alg: 'RS256' },
      refresh_token: { expiration_type: 'expiring', infinite_token_lifetime: false, infinite_idle_token_lifetime: false },
    });
    expect(res.body.client_id).toMatch(/^tpc_[A-Za-z0-9]{32}$/);
    expect(res.body.client_secret.length).toBeGreaterThanOrEqual(64);
    expect(res.body).not.toHaveProperty('client_secret_hash');
    const stored = await testbed.test.gatehouse.stores.durable.applications.get(res.body.client_id);
    expect(secretMatches(res.body.client_secret, stored?.client_secret_hash as string)).toBe(true);

    const read = await api('get', `/clients/${res.body.client_id}`).expect(200);
    expect(read.body).not.toHaveProperty('client_secret');
    expect(read.body).not.toHaveProperty('client_secret_hash');
  });

  it('creates public applications without a secret, rotating their refresh tokens', async () => {
    const res = await api('post', '/clients', { name: 'MCP client', is_first_party: false, app_type: 'native', callbacks: ['http://127.0.0.1:33418/callback'] }).expect(201);
    expect(res.body).toMatchObject({ token_endpoint_auth_method: 'none', refresh_token: { rotation_type: 'rotating' } });
    expect(res.body).not.toHaveProperty('client_secret');
    expect((await testbed.test.gatehouse.stores.durable.applications.get(res.body.client_id))?.client_secret_hash).toBeUndefined();
  });

  it('gives first-party machine-to-machine applications client credentials, and a secret that works', async () => {
    const res = await api('post', '/clients', { name: 'Backend job', app_type: 'non_interactive' }).expect(201);
    expect(res.body).toMatchObject({ is_first_party: true, grant_types: ['client_credentials'] });
    expect(res.body.client_id).not.toMatch(/^tpc_/);
    expect(res.body).not.toHaveProperty('third_party_security_mode');
    await api('post', '/client-grants', { client_id: res.body.client_id, audience: 'https://api.example.com/', scope: ['read:messages'] }).expect(201);
    const token = await clientCredentialsToken(testbed.test.app, res.body.client_id, res.body.client_secret, 'https://api.example.com/');
    expect(token.status).toBe(200);
  });

  it('refuses properties outside the strict curated list, naming them', async () => {
    for (const extra of [{ allowed_logout_urls: ['https://partner.example.com/'] }, { cross_origin_authentication: false }]) {
      const res = await api('post', '/clients', { name: 'Partner', is_first_party: false, ...extra }).expect(400);
      expectApiError(res, 400, 'invalid_body', Object.keys(extra)[0] as string);
    }
    const firstParty = await api('post', '/clients', { name: 'Own app', allowed_logout_urls: ['https://own.example.com/'], cross_origin_authentication: true }).expect(201);
    expect(firstParty.body).toMatchObject({ allowed_logout_urls: ['https://own.example.com/'], cross_origin_authentication: true });
  });

  it('refuses unknown properties, wrong types and malformed JSON with Auth0 400s', async () => {
    expectApiError(await api('post', '/clients', { name: 'X', client_id: 'chosen' }), 400, 'invalid_body', /Additional properties not allowed: client_id/);
    expectApiError(await api('post', '/clients', { name: 42 }), 400, 'invalid_body', /Expected type string but found type integer' on property name/);
    expectApiError(await api('post', '/clients', {}), 400, 'invalid_body', /Missing required property: name/);
    expectApiError(await api('post', '/clients', { name: 'X', jwt_configuration: { alg: 'HS256' } }), 400, 'invalid_body', /No enum match for: "HS256"' on property jwt_configuration.alg/);
    const malformed = await api('post', '/clients').set('Content-Type', 'application/json').send('{"name": ');
    expectApiError(malformed, 400, 'invalid_body', 'Invalid request payload JSON format');
    const huge = await api('post', '/clients', { name: 'X', description: 'x'.repeat(100_000) });
    expectApiError(huge, 413, 'payload_too_large');
  });

  it('refuses permissive applications on a tenant that does not allow them', async () => {
    const res = await api('post', '/clients', { name: 'Legacy', is_first_party: false, third_party_security_mode: 'permissive' });
    expectApiError(res, 400, 'invalid_body', /permissive/);
  });

  it('keeps is_first_party and third_party_security_mode for life, accepting the same value again', async () => {
    const { body: created } = await api('post', '/clients', { name: 'Partner', is_first_party: false, callbacks: ['https://p.example.com/cb'] }).expect(201);
    const path = `/clients/${created.client_id}`;
    await api('patch', path, { is_first_party: false, third_party_security_mode: 'strict', name: 'Partner 2' }).expect(200);
    expectApiError(await api('patch', path, { is_first_party: true }), 400, 'invalid_body', /is_first_party cannot be changed/);
    expectApiError(await api('patch', path, { third_party_security_mode: 'permissive' }), 400, 'invalid_body', /third_party_security_mode cannot be changed/);
    expectApiError(await api('patch', path, { callbacks: ['https://*.example.com/cb'] }), 400, 'invalid_body', /wildcards/);
    expectApiError(await api('patch', path, {}), 400, 'invalid_body', /fewer than 1 properties/);
    const after = await api('get', path).expect(200);
    expect(after.body).toMatchObject({ name: 'Partner 2', callbacks: ['https://p.example.com/cb'] });
  });

  it('merges jwt_configuration and refresh_token in a PATCH, and re-checks the result', async () => {
    const { body: created } = await api('post', '/clients', { name: 'SPA', is_first_party: false, app_type: 'spa', callbacks: ['https://spa.example.com/'] }).expect(201);
    const path = `/clients/${created.client_id}`;
    const res = await api('patch', path, { refresh_token: { leeway: 30 }, jwt_configuration: { lifetime_in_seconds: 600 } }).expect(200);
    expect(res.body.refresh_token).toEqual({ ...created.refresh_token, leeway: 30 });
    expect(res.body.jwt_configuration).toEqual({ alg: 'RS256', lifetime_in_seconds: 600 });
    expectApiError(await api('patch', path, { refresh_token: { infinite_token_lifetime: true } }), 400, 'invalid_body', /infinite/);
    expectApiError(await api('patch', path, { grant_types: ['client_credentials'] }), 400, 'invalid_body', /confidential/);
  });

  it('rotates a secret: the new one works, the old one stops', async () => {
    const { body: created } = await api('post', '/clients', { name: 'Rotating', app_type: 'non_interactive' }).expect(201);
    await api('post', '/client-grants', { client_id: created.client_id, audience: 'https://api.example.com/', scope: [] }).expect(201);
    const rotated = await api('post', `/clients/${created.client_id}/rotate-secret`).expect(200);
    expectConforms(rotated.body, clientResponse);
    expect(rotated.body.client_secret).not.toBe(created.client_secret);
    const old = await clientCredentialsToken(testbed.test.app, created.client_id, created.client_secret, 'https://api.example.com/');
    expect(old.status).toBe(401);
    const fresh = await clientCredentialsToken(testbed.test.app, created.client_id, rotated.body.client_secret, 'https://api.example.com/');
    expect(fresh.status).toBe(200);
  });

  it('refuses to rotate the secret of a public application', async () => {
    const { body: created } = await api('post', '/clients', { name: 'Native', app_type: 'native', callbacks: ['com.example.app:/cb'] }).expect(201);
    expectApiError(await api('post', `/clients/${created.client_id}/rotate-secret`), 400, 'invalid_body', /no secret/);
  });

  it('lists with filters, pages and totals', async () => {
    const all = await api('get', '/clients?per_page=100').expect(200);
    expectConforms(all.body, listResponse('clients', clientResponse));
    expect(Array.isArray(all.body)).toBe(true);
    const thirdParty = await api('get', '/clients?is_first_party=false&include_totals=true&per_page=2&page=0').expect(200);
    expect(thirdParty.body).toMatchObject({ start: 0, limit: 2, length: 2 });
    expect(thirdParty.body.total).toBe(all.body.filter((c: { is_first_party: boolean }) => !c.is_first_party).length);
    expect(thirdParty.body.clients.every((c: { is_first_party: boolean }) => !c.is_first_party)).toBe(true);
    const machines = await api('get', '/clients?app_type=non_interactive').expect(200);
    expect(machines.body.map((c: { app_type: string }) => c.app_type)).toEqual(machines.body.map(() => 'non_interactive'));
    expectApiError(await api('get', '/clients?per_page=101'), 400, 'invalid_query_string', /per_page/);
    expectApiError(await api('get', '/clients?is_first_party=maybe'), 400, 'invalid_query_string', /is_first_party/);
  });

  it('protects Gatehouse\'s own admin application', async () => {
    const { client_id } = testbed.test.gatehouse.adminCredentials;
    expectApiError(await api('delete', `/clients/${client_id}`), 400, 'operation_not_supported');
    expectApiError(await api('patch', `/clients/${client_id}`, { name: 'Mine now' }), 400, 'operation_not_supported');
    await api('get', `/clients/${client_id}`).expect(200);
  });

  it('answers 404 inexistent_client for an unknown application', async () => {
    expectApiError(await api('get', '/clients/nope'), 404, 'inexistent_client');
  });
});

describe('Management API: resource servers', () => {
  const testbed = managementTestbed();
  const { api } = testbed;

  const create = (identifier: string, fields: object = {}) => api('post', '/resource-servers', { identifier, name: 'Notes', ...fields });

  it('creates an API with Auth0\'s defaults', async () => {
    const res = await create('https://notes.example.com/', { scopes: [{ value: 'read:notes', description: 'Read notes' }] }).expect(201);
    expectConforms(res.body, resourceServerResponse);
    expect(res.body).toMatchObject({
      identifier: 'https://notes.example.com/', is_system: false, signing_alg: 'RS256', token_lifetime: 86400, allow_offline_access: false,
      subject_type_authorization: { user: { policy: 'allow_all' }, client: { policy: 'require_client_grant' } },
    });
    expect(res.body.id).toMatch(/^[0-9a-f]{24}$/);
  });

  it('refuses a duplicate identifier with 409, and invalid definitions with 400 naming the property', async () => {
    await create('https://dup.example.com/').expect(201);
    expectApiError(await create('https://dup.example.com/'), 409, 'conflict', 'https://dup.example.com/');
    expectApiError(await create('https://x.example.com/', { subject_type_authorization: { client: { policy: 'allow_all' } } }), 400, 'invalid_body', /subject_type_authorization\.client\.policy/);
    expectApiError(await create('https://x.example.com/', { token_lifetime: 2592001 }), 400, 'invalid_body', /token_lifetime/);
    expectApiError(await create('https://x.example.com/', { signing_alg: 'HS384' }), 400, 'invalid_body', /signing_alg/); // HS256 is accepted (see hs256-apis.test.ts)
    expectApiError(await create('https://x.example.com/', { signing_alg: 'none' }), 400, 'invalid_body', /signing_alg/);
    expectApiError(await create('https://x.example.com/', { scopes: [{ value: 'has space' }] }), 400, 'invalid_body', /scopes\.0\.value/);
    expectApiError(await create('https://x.example.com/', { scopes: [{ value: 'a' }, { value: 'a' }] }), 400, 'invalid_body', /Scope a is defined twice/);
    expectApiError(await api('post', '/resource-servers', { name: 'No identifier' }), 400, 'invalid_body', /Missing required property: identifier/);
  });

  it('finds an API by id or by URL-encoded identifier', async () => {
    const { body: created } = await create('https://find.example.com/v1?x').expect(201);
    await api('get', `/resource-servers/${created.id}`).expect(200);
    const byIdentifier = await api('get', `/resource-servers/${encodeURIComponent('https://find.example.com/v1?x')}`).expect(200);
    expect(byIdentifier.body.id).toBe(created.id);
    expectApiError(await api('get', `/resource-servers/${encodeURIComponent('https://missing.example.com/')}`), 404, 'inexistent_resource_server');
  });

  it('lists APIs, by identifiers too, with totals', async () => {
    const all = await api('get', '/resource-servers').expect(200);
    expectConforms(all.body, listResponse('resource_servers', resourceServerResponse));
    expect(all.body.map((rs: { identifier: string }) => rs.identifier)).toContain(`${ISSUER}/api/v2/`);
    const some = await api('get', `/resource-servers?identifiers=${encodeURIComponent('https://notes.example.com/')}&identifiers=https%3A%2F%2Fnope%2F&include_totals=true`).expect(200);
    expect(some.body).toMatchObject({ start: 0, limit: 50, length: 1, total: 1 });
    expect(some.body.resource_servers[0].identifier).toBe('https://notes.example.com/');
  });

  it('updates an API but never its identifier', async () => {
    const { body: created } = await create('https://patch.example.com/').expect(201);
    const res = await api('patch', `/resource-servers/${created.id}`, { allow_offline_access: true, subject_type_authorization: { user: { policy: 'require_client_grant' } } }).expect(200);
    expect(res.body).toMatchObject({ allow_offline_access: true, subject_type_authorization: { user: { policy: 'require_client_grant' }, client: { policy: 'require_client_grant' } } });
    expectApiError(await api('patch', `/resource-servers/${created.id}`, { identifier: 'https://other.example.com/' }), 400, 'invalid_body', /Additional properties not allowed: identifier/);
    expectApiError(await api('patch', `/resource-servers/${created.id}`, { token_lifetime: 60 }), 400, 'invalid_body', /token_lifetime_for_web/);
  });

  it('never changes or deletes the system API', async () => {
    const system = encodeURIComponent(`${ISSUER}/api/v2/`);
    expectApiError(await api('patch', `/resource-servers/${system}`, { name: 'Mine' }), 400, 'operation_not_supported', /system API/);
    expectApiError(await api('delete', `/resource-servers/${system}`), 400, 'operation_not_supported', /system API/);
    expect((await api('get', `/resource-servers/${system}`).expect(200)).body.is_system).toBe(true);
  });

  it('deletes an API with its client grants and the consents given to it', async () => {
    const { durable } = testbed.test.gatehouse.stores;
    const { body: created } = await create('https://gone.example.com/', { scopes: [{ value: 'read' }] }).expect(201);
    const { body: app } = await api('post', '/clients', { name: 'M2M', app_type: 'non_interactive' }).expect(201);
    await api('post', '/client-grants', { client_id: app.client_id, audience: created.identifier, scope: ['read'] }).expect(201);
    await api('post', '/client-grants', { default_for: 'third_party_clients', audience: created.identifier, scope: ['read'], subject_type: 'user' }).expect(201);
    const now = new Date().toISOString();
    await durable.userGrants.insert({ id: 'ugr_gone', user_id: 'auth0|x', clientID: app.client_id, audience: created.identifier, scope: ['read'], created_at: now, updated_at: now, oidc_grant_ids: [] });

    await api('delete', `/resource-servers/${created.id}`).expect(204);
    expect(await durable.clientGrants.count({ audience: created.identifier })).toBe(0);
    expect(await durable.userGrants.get('ugr_gone')).toBeUndefined();
    expectApiError(await api('delete', `/resource-servers/${created.id}`), 404, 'inexistent_resource_server');
  });
});

describe('Management API: client grants', () => {
  const AUDIENCE = 'https://grants.example.com/';
  const testbed = managementTestbed();
  const { api } = testbed;
  let firstParty: string;
  let thirdParty: string;
  beforeAll(async () => {
    await api('post', '/resource-servers', { identifier: AUDIENCE, scopes: [{ value: 'read' }, { value: 'write' }] }).expect(201);
    firstParty = (await api('post', '/clients', { name: 'M2M', app_type: 'non_interactive' }).expect(201)).body.client_id;
    thirdParty = (await api('post', '/clients', { name: 'Partner', is_first_party: false, callbacks: ['https://p.example.com/cb'] }).expect(201)).body.client_id;
  });

  it('grants an application access for one subject type, client by default, once', async () => {
    const res = await api('post', '/client-grants', { client_id: firstParty, audience: AUDIENCE, scope: ['read'] }).expect(201);
    expectConforms(res.body, clientGrantResponse);
    expect(res.body).toMatchObject({ client_id: firstParty, audience: AUDIENCE, scope: ['read'], subject_type: 'client', allow_all_scopes: false, is_system: false });
    expect(res.body.id).toMatch(/^cgr_/);
    expectApiError(await api('post', '/client-grants', { client_id: firstParty, audience: AUDIENCE, scope: ['write'] }), 409, 'conflict', /subject_type client already exists/);
    await api('post', '/client-grants', { client_id: firstParty, audience: AUDIENCE, scope: ['write'], subject_type: 'user' }).expect(201);
  });

  it('makes one default grant per API and subject type for third-party applications', async () => {
    const body = { default_for: 'third_party_clients', audience: AUDIENCE, scope: ['read'], subject_type: 'user' };
    const res = await api('post', '/client-grants', body).expect(201);
    expect(res.body).not.toHaveProperty('client_id');
    expectApiError(await api('post', '/client-grants', body), 409, 'conflict', /third-party applications by default/);
  });

  it('refuses both or neither holder, unknown scopes, and unknown fields', async () => {
    expectApiError(await api('post', '/client-grants', { client_id: firstParty, default_for: 'third_party_clients', audience: AUDIENCE }), 400, 'invalid_body', /mutually exclusive/);
    expectApiError(await api('post', '/client-grants', { audience: AUDIENCE }), 400, 'invalid_body', /client_id or default_for/);
    expectApiError(await api('post', '/client-grants', { client_id: thirdParty, audience: AUDIENCE, scope: ['read', 'admin'] }), 400, 'invalid_body', /Scope admin is not defined/);
    expectApiError(await api('post', '/client-grants', { client_id: thirdParty, audience: AUDIENCE, allow_any_organization: true }), 400, 'invalid_body', /allow_any_organization/);
    expectApiError(await api('post', '/client-grants', { default_for: 'first_party_clients', audience: AUDIENCE }), 400, 'invalid_body', /default_for/);
  });

  it('answers 404 for an API or an application that does not exist', async () => {
    expectApiError(await api('post', '/client-grants', { client_id: firstParty, audience: 'https://nope.example.com/' }), 404, 'inexistent_resource_server');
    expectApiError(await api('post', '/client-grants', { client_id: 'nope', audience: AUDIENCE }), 404, 'inexistent_client');
  });

  it('never grants the system API to a third-party application, nor by default', async () => {
    const system = `${ISSUER}/api/v2/`;
    expectApiError(await api('post', '/client-grants', { client_id: thirdParty, audience: system, scope: ['read:clients'] }), 400, 'invalid_body', /never be granted to a third-party application/);
    expectApiError(await api('post', '/client-grants', { default_for: 'third_party_clients', audience: system, scope: [] }), 400, 'invalid_body', /do not accept default grants/);
    await api('post', '/client-grants', { client_id: firstParty, audience: system, scope: ['read:clients'] }).expect(201);
  });

  it('lists with filters and totals, and reads one grant', async () => {
    const mine = await api('get', `/client-grants?client_id=${firstParty}&include_totals=true`).expect(200);
    expectConforms(mine.body, listResponse('client_grants', clientGrantResponse));
    expect(mine.body.total).toBe(3);
    const users = await api('get', `/client-grants?audience=${encodeURIComponent(AUDIENCE)}&subject_type=user`).expect(200);
    expect(users.body.map((g: { subject_type: string }) => g.subject_type)).toEqual(['user', 'user']);
    const defaults = await api('get', '/client-grants?default_for=third_party_clients').expect(200);
    expect(defaults.body.every((g: { default_for: string }) => g.default_for === 'third_party_clients')).toBe(true);
    const [first] = mine.body.client_grants;
    expect((await api('get', `/client-grants/${first.id}`).expect(200)).body).toEqual(first);
  });

  it('changes scopes only', async () => {
    const { body: grant } = await api('post', '/client-grants', { client_id: thirdParty, audience: AUDIENCE, scope: ['read'], subject_type: 'user' }).expect(201);
    const res = await api('patch', `/client-grants/${grant.id}`, { scope: ['read', 'write'], allow_all_scopes: true }).expect(200);
    expect(res.body).toMatchObject({ scope: ['read', 'write'], allow_all_scopes: true, client_id: thirdParty });
    expect((await api('patch', `/client-grants/${grant.id}`, { scope: null }).expect(200)).body.scope).toEqual([]);
    expectApiError(await api('patch', `/client-grants/${grant.id}`, { audience: 'https://other/' }), 400, 'invalid_body', /Additional properties not allowed: audience/);
    expectApiError(await api('patch', `/client-grants/${grant.id}`, { scope: ['nope'] }), 400, 'invalid_body', /Scope nope is not defined/);
    await api('delete', `/client-grants/${grant.id}`).expect(204);
    expectApiError(await api('get', `/client-grants/${grant.id}`), 404, 'inexistent_client_grant');
  });

  it('keeps Gatehouse\'s own grant', async () => {
    const [system] = (await api('get', `/client-grants?client_id=${testbed.test.gatehouse.adminCredentials.client_id}`).expect(200)).body;
    expect(system.is_system).toBe(true);
    expectApiError(await api('delete', `/client-grants/${system.id}`), 400, 'operation_not_supported');
    expectApiError(await api('patch', `/client-grants/${system.id}`, { scope: [] }), 400, 'operation_not_supported');
  });
});

describe('Management API: grants (user consents)', () => {
  const AUDIENCE = 'https://notes.example.com/';
  const PASSWORD = 'correct horse battery';
  const testbed = managementTestbed();
  const { api } = testbed;
  let userId: string;
  let email: string;
  beforeAll(async () => {
    await api('post', '/resource-servers', { identifier: AUDIENCE, allow_offline_access: true, scopes: [{ value: 'read:notes' }] }).expect(201);
    email = 'consenting@example.com';
    userId = (await api('post', '/users', { connection: 'Username-Password-Authentication', email, password: PASSWORD }).expect(201)).body.user_id;
  });

  /** A third-party application set up through the Management API, and a refresh token a user consented to. */
  async function consentedApplication() {
    const { body: app } = await api('post', '/clients', { name: 'Partner SPA', is_first_party: false, app_type: 'spa', callbacks: ['https://spa.example.com/callback'] }).expect(201);
    await api('post', '/client-grants', { client_id: app.client_id, audience: AUDIENCE, scope: ['read:notes'], subject_type: 'user' }).expect(201);
    const tokens = await codeFlowTokens(testbed.test.app, app as Application, {
      email, password: PASSWORD, query: authorizeQuery(app as Application, { audience: AUDIENCE, scope: 'read:notes offline_access' }),
    });
    expect(tokens.status).toBe(200);
    return { app, refreshToken: tokens.body.refresh_token as string };
  }

  const refresh = (clientId: string, refreshToken: string) =>
    request(testbed.test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });

  it('lists the consents users gave, in Auth0\'s shape, filtered', async () => {
    const { app } = await consentedApplication();
    const res = await api('get', `/grants?user_id=${encodeURIComponent(userId)}&client_id=${app.client_id}&include_totals=true`).expect(200);
    expectConforms(res.body, listResponse('grants', userGrantResponse));
    expect(res.body).toMatchObject({ total: 1, grants: [{ user_id: userId, clientID: app.client_id, audience: AUDIENCE }] });
    expect(res.body.grants[0]).not.toHaveProperty('oidc_grant_ids');
    expect((await api('get', `/grants?audience=${encodeURIComponent('https://other.example.com/')}`).expect(200)).body).toEqual([]);
  });

  it('revokes one consent and every token issued under it', async () => {
    const { app, refreshToken } = await consentedApplication();
    const [grant] = (await api('get', `/grants?client_id=${app.client_id}`).expect(200)).body;
    await api('delete', `/grants/${grant.id}`).expect(204);
    expect((await refresh(app.client_id, refreshToken)).body.error).toBe('invalid_grant');
    expectApiError(await api('delete', `/grants/${grant.id}`), 404, 'inexistent_grant');
  });

  it('revokes every consent of a user', async () => {
    const first = await consentedApplication();
    const second = await consentedApplication();
    await api('delete', `/grants?user_id=${encodeURIComponent(userId)}`).expect(204);
    expect((await api('get', `/grants?user_id=${encodeURIComponent(userId)}`).expect(200)).body).toEqual([]);
    expect((await refresh(first.app.client_id, first.refreshToken)).body.error).toBe('invalid_grant');
    expect((await refresh(second.app.client_id, second.refreshToken)).body.error).toBe('invalid_grant');
    expectApiError(await api('delete', '/grants'), 400, 'invalid_query_string', /Missing required property: user_id/);
  });

  it('revokes the consents given to a deleted application, with their tokens', async () => {
    const { app, refreshToken } = await consentedApplication();
    const storedToken = () => testbed.test.gatehouse.stores.oidcAdapter('RefreshToken').find(refreshToken);
    expect(await storedToken()).toBeDefined();
    await api('delete', `/clients/${app.client_id}`).expect(204);
    expect(await storedToken()).toBeUndefined();
    expect((await api('get', `/grants?client_id=${app.client_id}`).expect(200)).body).toEqual([]);
    expect(await testbed.test.gatehouse.stores.durable.clientGrants.count({ client_id: app.client_id })).toBe(0);
  });
});
