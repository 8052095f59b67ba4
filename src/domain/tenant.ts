import { brandingContrastProblems, DEFAULT_BRANDING } from './branding.ts';
import { invalidBody } from './errors.ts';
import type { SelfRegisteredClientPolicy, TenantSettings } from './model.ts';
import { checkTrustRules, DEFAULT_SELF_REGISTERED_CLIENTS } from './trust.ts';
import { overlay } from './updates.ts';

/** What the configuration decides about the tenant; the API cannot change `allow_permissive_third_party_clients`. */
export interface TenantSeed {
  friendly_name: string;
  default_audience: string;
  allow_permissive_third_party_clients: boolean;
}

export function defaultTenantSettings(seed: TenantSeed): TenantSettings {
  return {
    friendly_name: seed.friendly_name,
    default_audience: seed.default_audience,
    flags: { enable_dynamic_client_registration: false },
    dynamic_client_registration_security_mode: 'strict',
    client_id_metadata_document_supported: false,
    self_registered_clients: DEFAULT_SELF_REGISTERED_CLIENTS,
    allow_permissive_third_party_clients: seed.allow_permissive_third_party_clients,
    branding: { ...DEFAULT_BRANDING },
  };
}

/**
 * Brings stored settings in line with the configuration at start. A tenant that may no longer create permissive
 * third-party applications stops registering them dynamically too. Settings a stored tenant predates get their defaults.
 */
export function applyTenantConfig(settings: TenantSettings, seed: Pick<TenantSeed, 'allow_permissive_third_party_clients'>): TenantSettings {
  const allowed = seed.allow_permissive_third_party_clients;
  return {
    ...settings,
    client_id_metadata_document_supported: settings.client_id_metadata_document_supported ?? false,
    self_registered_clients: settings.self_registered_clients ?? DEFAULT_SELF_REGISTERED_CLIENTS,
    allow_permissive_third_party_clients: allowed,
    dynamic_client_registration_security_mode: allowed ? settings.dynamic_client_registration_security_mode : 'strict',
  };
}

/** What the Management API may change; nested objects may be sent in part. */
export interface TenantSettingsPatch {
  friendly_name?: string;
  picture_url?: string;
  support_email?: string;
  support_url?: string;
  default_audience?: string;
  flags?: Partial<TenantSettings['flags']>;
  dynamic_client_registration_security_mode?: TenantSettings['dynamic_client_registration_security_mode'];
  client_id_metadata_document_supported?: boolean;
  self_registered_clients?: Partial<Omit<SelfRegisteredClientPolicy, 'initial_trust'>> & { initial_trust?: Partial<SelfRegisteredClientPolicy['initial_trust']> };
  branding?: Partial<TenantSettings['branding']>;
}

/**
 * `default_audience` must name an existing API (or be empty); the caller has looked it up. New brand colours must keep
 * the pages readable (WCAG 2.2 AA) together with the colours they are shown beside.
 */
export function patchTenantSettings(settings: TenantSettings, patch: TenantSettingsPatch, defaultAudienceExists: boolean): TenantSettings {
  if (patch.dynamic_client_registration_security_mode === 'permissive' && !settings.allow_permissive_third_party_clients) {
    throw invalidBody('dynamic_client_registration_security_mode "permissive" is not available: this tenant may create strict third-party applications only');
  }
  if (patch.default_audience && !defaultAudienceExists) {
    throw invalidBody(`default_audience ${patch.default_audience} is not the identifier of an API`);
  }
  const { flags, branding, self_registered_clients: selfRegistered, ...topLevel } = patch;
  if (selfRegistered?.trust_rules) checkTrustRules(selfRegistered.trust_rules);
  const nextBranding = { ...settings.branding, ...branding };
  const problems = branding?.primary_color || branding?.page_background ? brandingContrastProblems(nextBranding) : [];
  if (problems.length) throw invalidBody(problems.join('; '));
  return {
    ...overlay(settings, topLevel),
    flags: { ...settings.flags, ...flags },
    self_registered_clients: {
      ...settings.self_registered_clients,
      ...selfRegistered,
      initial_trust: { ...settings.self_registered_clients.initial_trust, ...selfRegistered?.initial_trust },
    },
    branding: nextBranding,
  };
}
