import { newHexId, newSigningSecret } from '../domain/ids.ts';
import type { ResourceServer } from '../domain/model.ts';
import { accessPoliciesTightened, everyAccessTo } from '../domain/revocations.ts';
import {
  checkNotSystem, draftResourceServer, patchResourceServer, type ResourceServerCreate, type ResourceServerPatch,
} from '../domain/resource-server-rules.ts';
import type { DurableStore, Stores } from '../store/index.ts';
import { editEntity, findPage, missing, now, writeUnique, type Page, type PageRequest } from './entities.ts';
import { revokeOidcGrants } from './grants.ts';
import { findApiByIdentifier } from './access.ts';
import { recordRevocations } from './revocations.ts';

const noSuchApi = (idOrIdentifier: string) => missing('inexistent_resource_server', `The resource server ${idOrIdentifier} does not exist`);

/** Auth0 accepts an API's id or its (URL-encoded) identifier in the path. */
export async function findResourceServer(store: DurableStore, idOrIdentifier: string): Promise<ResourceServer> {
  const api = (await store.resourceServers.get(idOrIdentifier)) ?? (await findApiByIdentifier(store, idOrIdentifier));
  if (!api) throw noSuchApi(idOrIdentifier)();
  return api;
}

export async function createResourceServer(store: DurableStore, input: ResourceServerCreate): Promise<ResourceServer> {
  const api = draftResourceServer(input, newHexId(), now(), newSigningSecret);
  await writeUnique(() => store.resourceServers.insert(api), `A resource server with the identifier ${api.identifier} already exists`);
  return api;
}

/** With `identifiers` (at most a handful), the APIs are looked up one by one and paged here. */
export async function listResourceServers(store: DurableStore, identifiers: string[] | undefined, page: PageRequest): Promise<Page<ResourceServer>> {
  if (!identifiers) return findPage(store.resourceServers, {}, page);
  const found = (await Promise.all([...new Set(identifiers)].map((identifier) => findApiByIdentifier(store, identifier))))
    .filter((api): api is ResourceServer => api !== undefined)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const start = page.page * page.per_page;
  return { items: found.slice(start, start + page.per_page), start, limit: page.per_page, ...(page.include_totals ? { total: found.length } : {}) };
}

export async function updateResourceServer(store: DurableStore, idOrIdentifier: string, patch: ResourceServerPatch): Promise<ResourceServer> {
  const { id } = await findResourceServer(store, idOrIdentifier);
  return editEntity(store.resourceServers, id, noSuchApi(idOrIdentifier), async (existing) => {
    const next = patchResourceServer(existing, patch, now(), newSigningSecret);
    // A stricter access policy ends the tokens issued under the old one, for that subject type.
    const tightened = accessPoliciesTightened(existing, next);
    await recordRevocations(store, tightened.map((subjectType) => ({ kind: 'api', audience: existing.identifier, subjectType })));
    return next;
  });
}

/** Grants for a deleted API would never apply again; consents to it go too (one transaction), then their tokens. */
export async function deleteResourceServer(stores: Stores, idOrIdentifier: string): Promise<void> {
  const { durable } = stores;
  const api = await findResourceServer(durable, idOrIdentifier);
  checkNotSystem(api);
  await recordRevocations(durable, everyAccessTo(api.identifier));
  const consents = await durable.userGrants.find({ audience: api.identifier });
  await durable.transaction((tx) => {
    tx.clientGrants.deleteMany({ audience: api.identifier });
    tx.userGrants.deleteMany({ audience: api.identifier });
    tx.resourceServers.delete(api.id);
  });
  await revokeOidcGrants(stores, consents.flatMap((consent) => consent.oidc_grant_ids));
}
