import {
  checkChangeable, checkRotatable, draftApplication, patchApplication, type ApplicationCreate, type ApplicationDraft, type ApplicationPatch,
} from '../domain/application-rules.ts';
import { isStrictThirdParty, usesClientSecret } from '../domain/applications.ts';
import { hashSecret, newClientId, newClientSecret } from '../domain/ids.ts';
import { withCurrentFingerprint } from '../domain/registration.ts';
import type { Application } from '../domain/model.ts';
import { accessOfApplication } from '../domain/revocations.ts';
import type { DurableStore, Stores } from '../store/index.ts';
import { editEntity, findPage, getOrThrow, missing, now, type Page, type PageRequest } from './entities.ts';
import { revokeOidcGrants } from './grants.ts';
import { recordRevocations } from './revocations.ts';
import { readTenantSettings } from './tenant.ts';

/** An application with the clear secret, which exists only in the response to create and rotate-secret. */
export interface IssuedApplication {
  application: Application;
  secret: string | undefined;
}

const noSuchApplication = (clientId: string) => missing('inexistent_client', `The client ${clientId} does not exist`);

export const findApplication = (store: DurableStore, clientId: string) => getOrThrow(store.applications, clientId, noSuchApplication(clientId));

/** Gives a new application its id (`tpc_` for strict third-party ones) and, when confidential, a secret shown once. */
export async function issueApplication(store: DurableStore, draft: ApplicationDraft): Promise<IssuedApplication> {
  const secret = usesClientSecret(draft) ? newClientSecret() : undefined;
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

export function listApplications(store: DurableStore, filter: Pick<Partial<Application>, 'is_first_party' | 'app_type' | 'trust'>, page: PageRequest): Promise<Page<Application>> {
  return findPage(store.applications, filter, page);
}

export function updateApplication(store: DurableStore, clientId: string, patch: ApplicationPatch): Promise<Application> {
  return editEntity(store.applications, clientId, noSuchApplication(clientId), (existing) => withCurrentFingerprint(patchApplication(existing, patch, now())));
}

/** The old secret stops working at once. */
export async function rotateApplicationSecret(store: DurableStore, clientId: string): Promise<IssuedApplication> {
  checkRotatable(await findApplication(store, clientId));
  const secret = newClientSecret();
  const application = await store.applications.update(clientId, { set: { client_secret_hash: hashSecret(secret), updated_at: now() } });
  if (!application) throw noSuchApplication(clientId)();
  return { application, secret };
}

/**
 * The application and what refers to it, in one transaction: its client grants, the consents users gave it and its
 * place in connections. Then the tokens issued under those consents; were that to fail, they would be useless anyway,
 * since every use of a token loads its application.
 */
export async function deleteApplication(stores: Stores, clientId: string): Promise<void> {
  const { durable } = stores;
  const application = await findApplication(durable, clientId);
  checkChangeable(application);
  await recordRevocations(durable, [accessOfApplication(application, true)]);
  const consents = await durable.userGrants.find({ clientID: clientId });
  await durable.transaction((tx) => {
    tx.clientGrants.deleteMany({ client_id: clientId });
    tx.userGrants.deleteMany({ clientID: clientId });
    tx.connectionActivity.deleteMany({ client_id: clientId });
    tx.connections.updateMany({ enabled_clients: clientId }, { pull: { enabled_clients: [clientId] }, set: { updated_at: now() } });
    tx.applications.delete(clientId);
  });
  await revokeOidcGrants(stores, consents.flatMap((consent) => consent.oidc_grant_ids));
}
