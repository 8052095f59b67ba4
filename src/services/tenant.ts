import { applyTenantConfig, defaultTenantSettings, patchTenantSettings, type TenantSeed, type TenantSettingsPatch } from '../domain/tenant.ts';
import type { TenantSettings } from '../domain/model.ts';
import type { DurableStore, SettingsDocument } from '../store/ports.ts';
import { editEntity, missing, now } from './entities.ts';

const settingsOf = ({ id: _id, updated_at: _updated, ...settings }: SettingsDocument): TenantSettings => settings;

/**
 * Tenant settings are read from the durable store on every use (never cached in a process), so that a change made
 * through any process applies at once in all of them.
 */
export async function readTenantSettings(store: DurableStore): Promise<TenantSettings> {
  const stored = await store.settings.get('tenant');
  if (!stored) throw new Error('tenant settings are missing: the store was not bootstrapped');
  return settingsOf(stored);
}

async function editTenantSettings(store: DurableStore, edit: (settings: TenantSettings) => TenantSettings): Promise<TenantSettings> {
  const missingSettings = missing('inexistent_tenant', 'The tenant settings are missing: the store was not bootstrapped');
  return settingsOf(await editEntity(store.settings, 'tenant', missingSettings, (stored) => ({ ...edit(settingsOf(stored)), id: 'tenant', updated_at: now() })));
}

/** Seeds the settings on first start; afterwards only what the configuration alone decides is brought in line. */
export async function ensureTenantSettings(store: DurableStore, seed: TenantSeed): Promise<void> {
  if (await store.settings.insertIfAbsent({ id: 'tenant', ...defaultTenantSettings(seed), updated_at: now() })) return;
  await editTenantSettings(store, (stored) => applyTenantConfig(stored, seed));
}

export async function updateTenantSettings(store: DurableStore, patch: TenantSettingsPatch): Promise<TenantSettings> {
  const audienceExists = patch.default_audience ? (await store.resourceServers.count({ identifier: patch.default_audience })) > 0 : true;
  return editTenantSettings(store, (settings) => patchTenantSettings(settings, patch, audienceExists));
}
