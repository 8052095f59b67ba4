import { beforeAll, describe, expect, it } from '@jest/globals';
import { connectionResponse, listResponse, userResponse } from '../../../src/http/management/schemas.ts';
import { verifyPassword } from '../../../src/services/passwords.ts';
import { expectApiError, expectConforms, managementTestbed } from '../../support/management.ts';

describe('Management API: connections', () => {
  const testbed = managementTestbed();
  const { api } = testbed;
  let appId: string;
  beforeAll(async () => {
    appId = (await api('post', '/clients', { name: 'Web app', callbacks: ['https://app.example.com/cb'] }).expect(201)).body.client_id;
  });

  it('creates database connections, not domain-level unless asked', async () => {
    const res = await api('post', '/connections', { name: 'partners-db', strategy: 'auth0', enabled_clients: [appId] }).expect(201);
    expectConforms(res.body, connectionResponse);
    expect(res.body).toMatchObject({ name: 'partners-db', strategy: 'auth0', is_domain_connection: false, enabled_clients: [appId] });
    expect(res.body.id).toMatch(/^con_/);
    expectApiError(await api('post', '/connections', { name: 'partners-db', strategy: 'auth0' }), 409, 'conflict', /partners-db/);
  });

  it('refuses other strategies, bad names and unknown applications', async () => {
    expectApiError(await api('post', '/connections', { name: 'google', strategy: 'google-oauth2' }), 400, 'invalid_body', /strategy/);
    expectApiError(await api('post', '/connections', { name: '-bad name', strategy: 'auth0' }), 400, 'invalid_body', /on property name/);
    expectApiError(await api('post', '/connections', { name: 'x', strategy: 'auth0', enabled_clients: ['nope'] }), 400, 'invalid_body', /enabled_clients entry nope/);
    expectApiError(await api('post', '/connections', { name: 'x', strategy: 'auth0', options: {} }), 400, 'invalid_body', /options/);
  });

  it('promotes a connection to the domain level, never renames it', async () => {
    const { body: created } = await api('post', '/connections', { name: 'promote-me', strategy: 'auth0' }).expect(201);
    const res = await api('patch', `/connections/${created.id}`, { is_domain_connection: true, display_name: 'Partners' }).expect(200);
    expect(res.body).toMatchObject({ is_domain_connection: true, display_name: 'Partners', name: 'promote-me' });
    expectApiError(await api('patch', `/connections/${created.id}`, { name: 'renamed' }), 400, 'invalid_body', /Additional properties not allowed: name/);
    expectApiError(await api('patch', `/connections/${created.id}`, { enabled_clients: ['nope'] }), 400, 'invalid_body', /nope/);
    expect((await api('get', `/connections/${created.id}`).expect(200)).body.is_domain_connection).toBe(true);
  });

  it('lists by name with totals', async () => {
    const all = await api('get', '/connections?include_totals=true').expect(200);
    expectConforms(all.body, listResponse('connections', connectionResponse));
    expect(all.body.total).toBeGreaterThanOrEqual(3);
    const named = await api('get', '/connections?name=Username-Password-Authentication').expect(200);
    expect(named.body).toHaveLength(1);
    expect(named.body[0].is_domain_connection).toBe(true);
  });

  it('forgets a deleted application', async () => {
    const { body: app } = await api('post', '/clients', { name: 'Temporary', callbacks: ['https://t.example.com/cb'] }).expect(201);
    const { body: connection } = await api('post', '/connections', { name: 'shared', strategy: 'auth0', enabled_clients: [appId, app.client_id] }).expect(201);
    await api('delete', `/clients/${app.client_id}`).expect(204);
    expect((await api('get', `/connections/${connection.id}`).expect(200)).body.enabled_clients).toEqual([appId]);
  });

  it('deletes a connection with its users', async () => {
    const { body: connection } = await api('post', '/connections', { name: 'doomed', strategy: 'auth0' }).expect(201);
    const { body: user } = await api('post', '/users', { connection: 'doomed', email: 'doomed@example.com', password: 'correct horse' }).expect(201);
    await api('delete', `/connections/${connection.id}`).expect(204);
    expectApiError(await api('get', `/users/${encodeURIComponent(user.user_id)}`), 404, 'inexistent_user');
    expectApiError(await api('get', `/connections/${connection.id}`), 404, 'inexistent_connection');
  });
});

const CONNECTION = 'Username-Password-Authentication';

describe('Management API: users', () => {
  const testbed = managementTestbed();
  const { api } = testbed;

  const path = (userId: string) => `/users/${encodeURIComponent(userId)}`;

  it('creates a user with a hashed password it never returns', async () => {
    const res = await api('post', '/users', { connection: CONNECTION, email: 'Jane@Example.com', password: 'correct horse', name: 'Jane' }).expect(201);
    expectConforms(res.body, userResponse);
    expect(res.body).toMatchObject({ email: 'jane@example.com', email_verified: false, blocked: false, identities: [{ connection: CONNECTION, provider: 'auth0', isSocial: false }] });
    expect(res.body.user_id).toMatch(/^auth0\|[0-9a-f]{24}$/);
    expect(res.body).not.toHaveProperty('password');
    expect(res.body).not.toHaveProperty('password_hash');
    const stored = await testbed.test.gatehouse.stores.durable.users.get(res.body.user_id);
    expect(await verifyPassword('correct horse', stored?.password_hash)).toBe(true);
  });

  it('refuses a second user with the same email in a connection, whatever its case', async () => {
    await api('post', '/users', { connection: CONNECTION, email: 'twice@example.com', password: 'correct horse' }).expect(201);
    expectApiError(await api('post', '/users', { connection: CONNECTION, email: 'TWICE@example.com', password: 'correct horse' }), 409, 'auth0_idp_error', 'The user already exists.');
  });

  it('refuses unknown connections, short passwords and bad emails', async () => {
    expectApiError(await api('post', '/users', { connection: 'nope', email: 'a@example.com', password: 'correct horse' }), 400, 'inexistent_connection');
    expectApiError(await api('post', '/users', { connection: CONNECTION, email: 'a@example.com', password: 'short' }), 400, 'invalid_body', /on property password/);
    expectApiError(await api('post', '/users', { connection: CONNECTION, email: 'not-an-email', password: 'correct horse' }), 400, 'invalid_body', /on property email/);
  });

  it('finds users by email, the Auth0 ways', async () => {
    await api('post', '/users', { connection: CONNECTION, email: 'find.me@example.com', password: 'correct horse' }).expect(201);
    const searched = await api('get', `/users?q=${encodeURIComponent('email:"Find.Me@example.com"')}&search_engine=v3`).expect(200);
    expect(searched.body.map((u: { email: string }) => u.email)).toEqual(['find.me@example.com']);
    const byEmail = await api('get', '/users-by-email?email=find.me%40example.com').expect(200);
    expect(byEmail.body).toEqual(searched.body);
    expect((await api('get', '/users-by-email?email=nobody%40example.com').expect(200)).body).toEqual([]);
    expectApiError(await api('get', `/users?q=${encodeURIComponent('name:"x"')}`), 400, 'invalid_query_string', /email search/);
    expectApiError(await api('get', '/users-by-email'), 400, 'invalid_query_string', /Missing required property: email/);
  });

  it('lists users with totals', async () => {
    const res = await api('get', '/users?include_totals=true&per_page=1').expect(200);
    expectConforms(res.body, listResponse('users', userResponse));
    expect(res.body).toMatchObject({ start: 0, limit: 1, length: 1 });
    expect(res.body.total).toBeGreaterThanOrEqual(3);
  });

  it('updates a user: a new email is unverified, a new password is hashed, the connection stays', async () => {
    const { body: user } = await api('post', '/users', { connection: CONNECTION, email: 'old@example.com', password: 'correct horse', email_verified: true }).expect(201);
    const res = await api('patch', path(user.user_id), { email: 'New@example.com', password: 'battery staple', connection: CONNECTION }).expect(200);
    expect(res.body).toMatchObject({ email: 'new@example.com', email_verified: false });
    const stored = await testbed.test.gatehouse.stores.durable.users.get(user.user_id);
    expect(await verifyPassword('battery staple', stored?.password_hash)).toBe(true);
    expectApiError(await api('patch', path(user.user_id), { connection: 'other' }), 400, 'invalid_body', /connection cannot be changed/);
    expectApiError(await api('patch', path(user.user_id), { email: 'twice@example.com' }), 409, 'auth0_idp_error');
    expectApiError(await api('patch', path(user.user_id), { user_id: 'x' }), 400, 'invalid_body', /user_id/);
  });

  it('deletes a user and their consents', async () => {
    const { durable } = testbed.test.gatehouse.stores;
    const { body: user } = await api('post', '/users', { connection: CONNECTION, email: 'leaving@example.com', password: 'correct horse' }).expect(201);
    const now = new Date().toISOString();
    await durable.userGrants.insert({ id: 'ugr_leaving', user_id: user.user_id, clientID: 'app', audience: 'https://api.example.com/', scope: [], created_at: now, updated_at: now, oidc_grant_ids: [] });
    await api('delete', path(user.user_id)).expect(204);
    expect(await durable.userGrants.get('ugr_leaving')).toBeUndefined();
    expectApiError(await api('get', path(user.user_id)), 404, 'inexistent_user');
  });
});
