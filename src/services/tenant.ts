import { defaultTenantSettings } from '../domain/tenant.ts';
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

export async function ensureTenantSettings(store: DurableStore, seed: { friendly_name: string; default_audience: string }): Promise<void> {
  if (await store.settings.get('tenant')) return;
  const doc: SettingsDocument = { id: 'tenant', ...defaultTenantSettings(seed) };
  await store.settings.insert(doc).catch(async (err) => {
    if (!(await store.settings.get('tenant'))) throw err;
  });
}
