import { applyTenantConfig, defaultTenantSettings, patchTenantSettings, type TenantSeed, type TenantSettingsPatch } from '../domain/tenant.ts';
import type { TenantSettings } from '../domain/model.ts';
import type { DurableStore, SettingsDocument } from '../store/ports.ts';

/**
 * Tenant settings are read from the durable store on every use (never cached in a process), so that a change made
 * through any process applies at once in all of them.
 */
export async function readTenantSettings(store: DurableStore): Promise<TenantSettings> {
  const stored = await store.settings.get('tenant');
  if (!stored) throw new Error('tenant settings are missing: the store was not bootstrapped');
  const { id: _id, ...settings } = stored;
  return settings;
}

/** Seeds the settings on first start; afterwards only what the configuration alone decides is brought in line. */
export async function ensureTenantSettings(store: DurableStore, seed: TenantSeed): Promise<void> {
  const stored = await store.settings.get('tenant');
  if (!stored) {
    const doc: SettingsDocument = { id: 'tenant', ...defaultTenantSettings(seed) };
    await store.settings.insert(doc).catch(async (err) => {
      if (!(await store.settings.get('tenant'))) throw err;
    });
    return;
  }
  const aligned = { ...applyTenantConfig(stored, seed), id: stored.id };
  const changed = aligned.allow_permissive_third_party_clients !== stored.allow_permissive_third_party_clients
    || aligned.dynamic_client_registration_security_mode !== stored.dynamic_client_registration_security_mode;
  if (changed) await store.settings.replace(aligned);
}

export async function updateTenantSettings(store: DurableStore, patch: TenantSettingsPatch): Promise<TenantSettings> {
  const settings = await readTenantSettings(store);
  const audienceExists = patch.default_audience ? (await store.resourceServers.count({ identifier: patch.default_audience })) > 0 : true;
  const next = patchTenantSettings(settings, patch, audienceExists);
  await store.settings.replace({ id: 'tenant', ...next });
  return next;
}
