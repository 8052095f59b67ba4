import { describe, expect, it } from '@jest/globals';
import { listResponse, resourceServerResponse } from '../../../src/http/management/schemas.ts';
import { ISSUER } from '../../support/harness.ts';
import { expectApiError, expectConforms, managementTestbed } from '../../support/management.ts';

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
    expectApiError(await create('https://x.example.com/', { signing_alg: 'HS256' }), 400, 'invalid_body', /signing_alg/);
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
