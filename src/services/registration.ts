import { registrationDraft, RegistrationError, type RegistrationRequest } from '../domain/registration.ts';
import type { ApplicationDraft } from '../domain/application-rules.ts';
import { isConfidential, isStrictThirdParty } from '../domain/applications.ts';
import { hashSecret, newClientId, newClientSecret } from '../domain/ids.ts';
import type { Application } from '../domain/model.ts';
import type { DurableStore } from '../store/ports.ts';
import { readTenantSettings } from './tenant.ts';

/** Gives a new application its id (`tpc_` for strict third-party ones) and, when confidential, a secret shown once. */
export async function issueApplication(store: DurableStore, draft: ApplicationDraft): Promise<{ application: Application; secret: string | undefined }> {
  const secret = isConfidential(draft) ? newClientSecret() : undefined;
  const application: Application = {
    ...draft,
    client_id: newClientId(isStrictThirdParty(draft)),
    ...(secret ? { client_secret_hash: hashSecret(secret) } : {}),
  };
  await store.applications.insert(application);
  return { application, secret };
}

/** The tenant has as many dynamically registered applications as it is configured to keep. */
export class RegistrationCapReached extends Error {}

export async function registerApplication(store: DurableStore, request: RegistrationRequest, maxApplications: number) {
  if ((await store.applications.count({ registration_type: 'dynamic' })) >= maxApplications) {
    throw new RegistrationCapReached(`This service has reached its limit of ${maxApplications} dynamically registered applications; ask its administrator.`);
  }
  const settings = await readTenantSettings(store);
  return issueApplication(store, registrationDraft(request, settings.dynamic_client_registration_security_mode, new Date().toISOString()));
}

export { RegistrationError };
