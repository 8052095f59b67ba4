import { describe, expect, it } from '@jest/globals';
import type { TenantSettings } from '../../src/domain/model.ts';
import { applyTenantConfig, defaultTenantSettings, patchTenantSettings } from '../../src/domain/tenant.ts';
import { outcome } from '../support/rules.ts';

const seed = { friendly_name: 'Acme', default_audience: '', allow_permissive_third_party_clients: false };
const strictTenant: TenantSettings = defaultTenantSettings(seed);
const eligibleTenant: TenantSettings = defaultTenantSettings({ ...seed, allow_permissive_third_party_clients: true });

describe('tenant settings', () => {
  it('start with registration closed and strict, and take the permissive allowance from the configuration', () => {
    expect(strictTenant).toMatchObject({
      friendly_name: 'Acme', flags: { enable_dynamic_client_registration: false }, dynamic_client_registration_security_mode: 'strict',
      allow_permissive_third_party_clients: false,
    });
    expect(eligibleTenant.allow_permissive_third_party_clients).toBe(true);
  });

  it('follow the configuration at start: a tenant no longer allowed permissive apps registers strict ones', () => {
    const permissiveRegistration = { ...eligibleTenant, dynamic_client_registration_security_mode: 'permissive' as const };
    expect(applyTenantConfig(permissiveRegistration, { allow_permissive_third_party_clients: false })).toEqual({
      ...permissiveRegistration, allow_permissive_third_party_clients: false, dynamic_client_registration_security_mode: 'strict',
    });
    expect(applyTenantConfig(permissiveRegistration, { allow_permissive_third_party_clients: true })).toEqual(permissiveRegistration);
    expect(applyTenantConfig(strictTenant, { allow_permissive_third_party_clients: true }).allow_permissive_third_party_clients).toBe(true);
  });

  it('merge flags and branding, replace the rest', () => {
    const next = patchTenantSettings(strictTenant, { friendly_name: 'Acme Inc', flags: { enable_dynamic_client_registration: true }, branding: { primary_color: '#000000' } }, true);
    expect(next).toEqual({
      ...strictTenant, friendly_name: 'Acme Inc', flags: { enable_dynamic_client_registration: true },
      branding: { ...strictTenant.branding, primary_color: '#000000' },
    });
  });

  it('allow permissive dynamic registration only on tenants allowed permissive applications', () => {
    const patch = { dynamic_client_registration_security_mode: 'permissive' as const };
    expect(outcome(() => patchTenantSettings(strictTenant, patch, true))).toMatch(/^invalid: invalid_body: dynamic_client_registration_security_mode "permissive" is not available/);
    expect(patchTenantSettings(eligibleTenant, patch, true).dynamic_client_registration_security_mode).toBe('permissive');
    expect(patchTenantSettings(strictTenant, { dynamic_client_registration_security_mode: 'strict' }, true).dynamic_client_registration_security_mode).toBe('strict');
  });

  it('need the default audience to be an API, or empty', () => {
    expect(outcome(() => patchTenantSettings(strictTenant, { default_audience: 'https://nope/' }, false))).toBe('invalid: invalid_body: default_audience https://nope/ is not the identifier of an API');
    expect(patchTenantSettings(strictTenant, { default_audience: 'https://api/' }, true).default_audience).toBe('https://api/');
    expect(patchTenantSettings({ ...strictTenant, default_audience: 'https://api/' }, { default_audience: '' }, false).default_audience).toBe('');
  });
});
