import type { TenantSettings } from './model.ts';

export function defaultTenantSettings(seed: { friendly_name: string; default_audience: string }): TenantSettings {
  return {
    friendly_name: seed.friendly_name,
    default_audience: seed.default_audience,
    flags: { enable_dynamic_client_registration: false },
    dynamic_client_registration_security_mode: 'strict',
    allow_permissive_third_party_clients: false,
    branding: { primary_color: '#3b5bdb', page_background: '#f4f6fb' },
  };
}
