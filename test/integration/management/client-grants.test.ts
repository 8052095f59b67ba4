import { beforeAll, describe, expect, it } from '@jest/globals';
import { clientGrantResponse, listResponse } from '../../../src/http/management/schemas.ts';
import { ISSUER } from '../../support/harness.ts';
import { expectApiError, expectConforms, managementTestbed } from '../../support/management.ts';

const AUDIENCE = 'https://grants.example.com/';

describe('Management API: client grants', () => {
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
