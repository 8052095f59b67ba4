import type { TenantSettingsPatch } from '../../domain/tenant.ts';
import { readTenantSettings, updateTenantSettings } from '../../services/tenant.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, reply, type Operation } from './operation.ts';
import { tenantSettingsPatchBody, tenantSettingsResponse } from './schemas.ts';

const tag = 'Tenants';

export function tenantSettingsOperations(stores: Stores): Operation[] {
  const { durable } = stores;
  return [
    defineOperation({
      method: 'get', path: '/tenants/settings', scope: 'read:tenant_settings', tag, summary: 'Get the tenant settings',
      response: { status: 200, description: 'Tenant settings', schema: tenantSettingsResponse }, errors: [],
      handle: async () => reply(await readTenantSettings(durable)),
    }),
    defineOperation<Record<string, never>, TenantSettingsPatch>({
      method: 'patch', path: '/tenants/settings', scope: 'update:tenant_settings', tag,
      summary: 'Update the tenant settings (dynamic client registration, default audience, branding…)',
      body: tenantSettingsPatchBody, response: { status: 200, description: 'The updated tenant settings', schema: tenantSettingsResponse }, errors: [],
      handle: async ({ body }) => reply(await updateTenantSettings(durable, body)),
    }),
  ];
}
