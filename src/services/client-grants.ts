import {
  checkGrantChangeable, draftClientGrant, grantHolder, patchClientGrant, type ClientGrantCreate, type ClientGrantPatch,
} from '../domain/client-grant-rules.ts';
import { notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { ClientGrant } from '../domain/model.ts';
import { accessOfClientGrant, clientGrantNarrowed } from '../domain/revocations.ts';
import type { DurableStore, Filter } from '../store/index.ts';
import { findApplication } from './applications.ts';
import { editEntity, findPage, getOrThrow, missing, now, writeUnique, type Page, type PageRequest } from './entities.ts';
import { findApiByIdentifier } from './access.ts';
import { recordRevocations } from './revocations.ts';

async function findApi(store: DurableStore, audience: string) {
  const api = await findApiByIdentifier(store, audience);
  if (!api) throw notFound('inexistent_resource_server', `No resource server has the identifier ${audience}`);
  return api;
}

const noSuchClientGrant = (id: string) => missing('inexistent_client_grant', `The client grant ${id} does not exist`);

export const findClientGrant = (store: DurableStore, id: string) => getOrThrow(store.clientGrants, id, noSuchClientGrant(id));

export async function createClientGrant(store: DurableStore, input: ClientGrantCreate): Promise<ClientGrant> {
  const holder = grantHolder(input);
  const api = await findApi(store, input.audience);
  const application = 'client_id' in holder ? await findApplication(store, holder.client_id) : undefined;
  const grant = draftClientGrant(input, api, application, newId('cgr_'), now());
  const whom = application ? `the application ${application.client_id}` : 'third-party applications by default';
  await writeUnique(
    () => store.clientGrants.insert(grant),
    `A client grant for ${whom} on ${grant.audience} with subject_type ${grant.subject_type} already exists`,
  );
  return grant;
}

export function listClientGrants(store: DurableStore, filter: Filter<ClientGrant>, page: PageRequest): Promise<Page<ClientGrant>> {
  return findPage(store.clientGrants, filter, page, 'id');
}

/** What a change of this grant ends, with its application as its tokens name it. */
async function accessEndedBy(store: DurableStore, grant: ClientGrant) {
  return accessOfClientGrant(grant, grant.client_id === undefined ? undefined : await store.applications.get(grant.client_id));
}

/** Taking a scope away ends the tokens issued under the grant (those with the scopes left are issued again). */
export async function updateClientGrant(store: DurableStore, id: string, patch: ClientGrantPatch): Promise<ClientGrant> {
  return editEntity(store.clientGrants, id, noSuchClientGrant(id), async (existing) => {
    const api = await findApi(store, existing.audience);
    const next = patchClientGrant(existing, patch, api, now());
    if (clientGrantNarrowed(api, existing, next)) await recordRevocations(store, [await accessEndedBy(store, existing)]);
    return next;
  });
}

export async function deleteClientGrant(store: DurableStore, id: string): Promise<void> {
  const grant = await findClientGrant(store, id);
  checkGrantChangeable(grant);
  await recordRevocations(store, [await accessEndedBy(store, grant)]);
  await store.clientGrants.delete(id);
}
