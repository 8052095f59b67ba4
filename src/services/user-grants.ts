import type { UserGrant } from '../domain/model.ts';
import type { DurableStore, Filter, Stores } from '../store/index.ts';
import { findPage, getOrThrow, missing, type Page, type PageRequest } from './entities.ts';
import { revokeUserGrant } from './grants.ts';

export function listUserGrants(store: DurableStore, filter: Filter<UserGrant>, page: PageRequest): Promise<Page<UserGrant>> {
  return findPage(store.userGrants, filter, page);
}

export async function revokeUserGrantById(stores: Stores, id: string): Promise<void> {
  await revokeUserGrant(stores, await getOrThrow(stores.durable.userGrants, id, missing('inexistent_grant', `The grant ${id} does not exist`)));
}

/** Every consent the user gave, with the tokens issued under them; none is not an error. */
export async function revokeAllUserGrants(stores: Stores, userId: string): Promise<void> {
  for (const grant of await stores.durable.userGrants.find({ user_id: userId })) await revokeUserGrant(stores, grant);
}

/**
 * "Revoke every connection of this application": every consent any user gave it, with the codes and refresh tokens
 * issued under them; the application itself stays. The one function for it (`DELETE /api/v2/grants?client_id=`, and
 * blocking a self-registered client). Returns how many consents were revoked.
 */
export async function revokeApplicationConsents(stores: Stores, clientId: string): Promise<number> {
  const consents = await stores.durable.userGrants.find({ clientID: clientId });
  for (const grant of consents) await revokeUserGrant(stores, grant);
  return consents.length;
}
