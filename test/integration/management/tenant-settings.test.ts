import { describe, expect, it } from '@jest/globals';
import { tenantSettingsResponse } from '../../../src/http/management/schemas.ts';
import { readTenantSettings } from '../../../src/services/tenant.ts';
import { memoryStores, startGatehouse, testConfig } from '../../support/harness.ts';
import { expectApiError, expectConforms, managementCaller, managementTestbed } from '../../support/management.ts';

const tenantConfig = (allow: boolean) => ({ tenant: { ...testConfig().tenant, allow_permissive_third_party_clients: allow } });

describe('Management API: tenant settings', () => {
  const testbed = managementTestbed();
  const { api } = testbed;

  it('reads the settings, with registration closed and strict', async () => {
    const res = await api('get', '/tenants/settings').expect(200);
    expectConforms(res.body, tenantSettingsResponse);
    expect(res.body).toMatchObject({
      friendly_name: 'Gatehouse', flags: { enable_dynamic_client_registration: false },
      dynamic_client_registration_security_mode: 'strict', allow_permissive_third_party_clients: false,
    });
    expect(res.body).not.toHaveProperty('id');
  });

  it('opens dynamic client registration and sets what users see', async () => {
    const res = await api('patch', '/tenants/settings', {
      flags: { enable_dynamic_client_registration: true }, friendly_name: 'Acme', support_email: 'help@acme.example',
      support_url: 'https://acme.example/help', default_audience: 'https://api.example.com/', branding: { primary_color: '#112233' },
    }).expect(200);
    expect(res.body).toMatchObject({
      flags: { enable_dynamic_client_registration: true }, friendly_name: 'Acme', default_audience: 'https://api.example.com/',
      branding: { primary_color: '#112233', page_background: '#f4f6fb' },
    });
    expect((await api('get', '/tenants/settings').expect(200)).body).toEqual(res.body);
  });

  it('refuses what the tenant cannot have, and what the API cannot change', async () => {
    expectApiError(await api('patch', '/tenants/settings', { dynamic_client_registration_security_mode: 'permissive' }), 400, 'invalid_body', /permissive/);
    expectApiError(await api('patch', '/tenants/settings', { allow_permissive_third_party_clients: true }), 400, 'invalid_body', /Additional properties not allowed: allow_permissive_third_party_clients/);
    expectApiError(await api('patch', '/tenants/settings', { default_audience: 'https://nope.example.com/' }), 400, 'invalid_body', /default_audience/);
    expectApiError(await api('patch', '/tenants/settings', { flags: { enable_sso: true } }), 400, 'invalid_body', /flags\.enable_sso/);
    expectApiError(await api('patch', '/tenants/settings', { branding: { primary_color: 'red' } }), 400, 'invalid_body', /branding\.primary_color/);
  });

  it('allows permissive applications and registration where the configuration does, until it no longer does', async () => {
    const stores = memoryStores();
    const eligible = await startGatehouse({ stores, config: tenantConfig(true) });
    const eligibleApi = await managementCaller(eligible);
    await eligibleApi('patch', '/tenants/settings', { dynamic_client_registration_security_mode: 'permissive' }).expect(200);
    const app = await eligibleApi('post', '/clients', { name: 'Legacy', is_first_party: false, third_party_security_mode: 'permissive' }).expect(201);
    expect(app.body.client_id).not.toMatch(/^tpc_/);
    await eligible.close();

    const restarted = await startGatehouse({ stores, config: tenantConfig(false) });
    expect(await readTenantSettings(stores.durable)).toMatchObject({ allow_permissive_third_party_clients: false, dynamic_client_registration_security_mode: 'strict' });
    await restarted.close();
    await stores.close();
  });
});
