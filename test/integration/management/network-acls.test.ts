import { describe, expect, it } from '@jest/globals';
import { listResponse, networkAclResponse } from '../../../src/http/management/schemas.ts';
import { expectApiError, expectConforms, managementTestbed } from '../../support/management.ts';

const acl = (fields: object = {}, rule: object = {}) => ({
  description: 'Block a range from registering',
  rule: { scope: 'dcr', action: { block: true }, match: { ipv4_cidrs: ['198.51.100.0/24'], ipv6_cidrs: ['2001:db8::/32'] }, ...rule },
  ...fields,
});

describe('Management API: network ACLs', () => {
  const testbed = managementTestbed();
  const { api } = testbed;

  it('stores a rule, the dcr scope under its API name', async () => {
    const res = await api('post', '/network-acls', acl({ priority: 10 })).expect(201);
    expectConforms(res.body, networkAclResponse);
    expect(res.body).toMatchObject({ active: true, priority: 10, rule: { scope: 'dynamic_client_registration', action: { block: true } } });
    expect((await api('get', `/network-acls/${res.body.id}`).expect(200)).body).toEqual(res.body);
  });

  it('keeps priorities unique', async () => {
    await api('post', '/network-acls', acl({ priority: 20 })).expect(201);
    expectApiError(await api('post', '/network-acls', acl({ priority: 20 })), 409, 'conflict', /priority 20/);
  });

  it('refuses bad addresses, unsupported signals and ambiguous actions, naming them', async () => {
    expectApiError(await api('post', '/network-acls', acl({}, { match: { ipv4_cidrs: ['300.1.1.1'] } })), 400, 'invalid_body', /rule\.match\.ipv4_cidrs entry "300\.1\.1\.1"/);
    expectApiError(await api('post', '/network-acls', acl({}, { match: { asns: [64496] } })), 400, 'invalid_body', /Additional properties not allowed: rule\.match\.asns/);
    expectApiError(await api('post', '/network-acls', acl({}, { action: { block: true, log: true } })), 400, 'invalid_body', /rule\.action/);
    expectApiError(await api('post', '/network-acls', acl({}, { action: { redirect: true } })), 400, 'invalid_body', /redirect/);
    expectApiError(await api('post', '/network-acls', acl({}, { match: undefined })), 400, 'invalid_body', /match or not_match/);
    expectApiError(await api('post', '/network-acls', acl({ priority: 0 })), 400, 'invalid_body', /priority/);
  });

  it('replaces with PUT, updates with PATCH, and deletes', async () => {
    const { body: created } = await api('post', '/network-acls', acl({ priority: 30 })).expect(201);
    const path = `/network-acls/${created.id}`;
    const replaced = await api('put', path, acl({ priority: 31 }, { scope: 'management', action: { log: true } })).expect(200);
    expect(replaced.body).toMatchObject({ id: created.id, priority: 31, active: true, created_at: created.created_at, rule: { scope: 'management', action: { log: true } } });
    expectApiError(await api('put', path, { description: 'no rule' }), 400, 'invalid_body', /Missing required property: rule/);
    expectApiError(await api('patch', path, { priority: 10 }), 409, 'conflict');
    const patched = await api('patch', path, { active: false }).expect(200);
    expect(patched.body).toMatchObject({ active: false, priority: 31 });
    const list = await api('get', '/network-acls?include_totals=true').expect(200);
    expectConforms(list.body, listResponse('network_acls', networkAclResponse));
    expect(list.body.network_acls.map((rule: { id: string }) => rule.id)).toContain(created.id);
    await api('delete', path).expect(204);
    expectApiError(await api('get', path), 404, 'inexistent_network_acl');
  });
});
