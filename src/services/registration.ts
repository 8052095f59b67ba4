import { registrationDraft, type RegistrationRequest } from '../domain/registration.ts';
import type { DurableStore } from '../store/ports.ts';
import { issueApplication } from './applications.ts';
import { readTenantSettings } from './tenant.ts';

/** The tenant has as many dynamically registered applications as it is configured to keep. */
export class RegistrationCapReached extends Error {}

export async function registerApplication(store: DurableStore, request: RegistrationRequest, maxApplications: number) {
  if ((await store.applications.count({ registration_type: 'dynamic' })) >= maxApplications) {
    throw new RegistrationCapReached(`This service has reached its limit of ${maxApplications} dynamically registered applications; ask its administrator.`);
  }
  const settings = await readTenantSettings(store);
  return issueApplication(store, registrationDraft(request, settings.dynamic_client_registration_security_mode, new Date().toISOString()));
}

