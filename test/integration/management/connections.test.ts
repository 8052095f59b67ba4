import { beforeAll, describe, expect, it } from '@jest/globals';
import { connectionResponse, listResponse } from '../../../src/http/management/schemas.ts';
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
