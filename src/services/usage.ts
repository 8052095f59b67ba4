import { isIdleRegistration, useWorthRecording } from '../domain/registration.ts';
import type { Application } from '../domain/model.ts';
import type { Stores } from '../store/index.ts';
import type { DurableStore } from '../store/ports.ts';
import { deleteApplication } from './applications.ts';

/** Notes that an application just got a token: one field written, so a concurrent administrator change is kept. */
export async function recordUse(store: DurableStore, app: Application, now = Date.now()): Promise<void> {
  if (!useWorthRecording(app, now)) return;
  await store.applications.update(app.client_id, { set: { last_used_at: new Date(now).toISOString() } });
}

/** Deletes idle dynamically registered applications (with their grants and tokens); returns their ids. */
export async function removeIdleRegistrations(stores: Stores, days: number, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const app of await stores.durable.applications.find({ registration_type: 'dynamic' })) {
    const hasConsents = (await stores.durable.userGrants.count({ clientID: app.client_id })) > 0;
    if (!isIdleRegistration(app, hasConsents, days, now)) continue;
    await deleteApplication(stores, app.client_id);
    removed.push(app.client_id);
  }
  return removed;
}
