import {
  checkChangeable, checkRotatable, draftApplication, patchApplication, type ApplicationCreate, type ApplicationDraft, type ApplicationPatch,
} from '../domain/application-rules.ts';
import { isConfidential, isStrictThirdParty } from '../domain/applications.ts';
import { withoutClient } from '../domain/connection-rules.ts';
import { hashSecret, newClientId, newClientSecret } from '../domain/ids.ts';
import type { Application } from '../domain/model.ts';
import type { DurableStore, Stores } from '../store/index.ts';
import { findPage, getOrThrow, now, type Page, type PageRequest } from './entities.ts';
import { revokeUserGrant } from './grants.ts';
import { readTenantSettings } from './tenant.ts';

/** An application with the clear secret, which exists only in the response to create and rotate-secret. */
export interface IssuedApplication {
  application: Application;
  secret: string | undefined;
}

export const findApplication = (store: DurableStore, clientId: string) =>
  getOrThrow(store.applications, clientId, 'inexistent_client', `The client ${clientId} does not exist`);

/** Gives a new application its id (`tpc_` for strict third-party ones) and, when confidential, a secret shown once. */
export async function issueApplication(store: DurableStore, draft: ApplicationDraft): Promise<IssuedApplication> {
  const secret = isConfidential(draft) ? newClientSecret() : undefined;
  const application: Application = {
    ...draft,
    client_id: newClientId(isStrictThirdParty(draft)),
    ...(secret ? { client_secret_hash: hashSecret(secret) } : {}),
  };
  await store.applications.insert(application);
  return { application, secret };
}

export async function createApplication(store: DurableStore, input: ApplicationCreate): Promise<IssuedApplication> {
  const settings = await readTenantSettings(store);
  return issueApplication(store, draftApplication(input, { allowPermissiveThirdParty: settings.allow_permissive_third_party_clients }, now()));
}

export function listApplications(store: DurableStore, filter: Pick<Partial<Application>, 'is_first_party' | 'app_type'>, page: PageRequest): Promise<Page<Application>> {
  return findPage(store.applications, filter, page);
}

export async function updateApplication(store: DurableStore, clientId: string, patch: ApplicationPatch): Promise<Application> {
  const application = patchApplication(await findApplication(store, clientId), patch, now());
  await store.applications.replace(application);
  return application;
}

/** The old secret stops working at once. */
export async function rotateApplicationSecret(store: DurableStore, clientId: string): Promise<IssuedApplication> {
  const existing = await findApplication(store, clientId);
  checkRotatable(existing);
  const secret = newClientSecret();
  const application: Application = { ...existing, client_secret_hash: hashSecret(secret), updated_at: now() };
  await store.applications.replace(application);
  return { application, secret };
}

/**
 * The application goes first, so that it cannot obtain anything new; then what referred to it: its client grants,
 * the consents users gave it (with every token issued under them) and its place in connections.
 */
export async function deleteApplication(stores: Stores, clientId: string): Promise<void> {
  const { durable } = stores;
  checkChangeable(await findApplication(durable, clientId));
  await durable.applications.delete(clientId);
  await durable.clientGrants.deleteMany({ client_id: clientId });
  for (const grant of await durable.userGrants.find({ clientID: clientId })) await revokeUserGrant(stores, grant);
  for (const connection of await durable.connections.find({ enabled_clients: clientId })) {
    await durable.connections.replace(withoutClient(connection, clientId, now()));
  }
}
