import { secretMatches } from '../domain/ids.ts';
import {
  expiredRevocationsBefore, longestTokenLifetime, mayReadRevocations, revocationFeedPage, revocationRecord, REVOCATION_FEED_PAGE_SIZE,
  type RevocationFeedPage, type RevokedAccess,
} from '../domain/revocations.ts';
import type { DurableStore } from '../store/ports.ts';

/**
 * The one way to revoke access tokens at resource servers. Every place that ends access calls it (consent withdrawn,
 * protocol grants revoked, a user deleted or blocked, an application deleted, a client grant removed or narrowed, an
 * API deleted or its policy tightened), before it changes anything else: a failure then leaves a revocation recorded
 * for a change that did not happen (its tokens are issued again) rather than a change whose tokens live on. The records
 * reach resource servers through `readRevocationFeed`; records older than the longest token lifetime are dropped here.
 */
export async function recordRevocations(store: DurableStore, ended: readonly RevokedAccess[]): Promise<void> {
  if (!ended.length) return;
  const nowMs = Date.now();
  const longest = longestTokenLifetime(await store.resourceServers.find());
  const records = ended.map((access) => revocationRecord(access, nowMs, longest));
  await store.transaction((tx) => {
    for (const record of records) tx.revocations.insert(record);
  });
  await store.revocations.deleteBefore(expiredRevocationsBefore(nowMs, longest));
}

/** One page of the revocations an API's resource servers must apply, after the reader's cursor (`next` of its last read). */
export async function readRevocationFeed(store: DurableStore, audience: string, after: string | undefined): Promise<RevocationFeedPage> {
  const rows = await store.revocations.find({}, { ...(after === undefined ? {} : { after }), limit: REVOCATION_FEED_PAGE_SIZE, order: 'asc' });
  return revocationFeedPage(rows, audience, REVOCATION_FEED_PAGE_SIZE, Date.now());
}

/**
 * Why an application may not read an API's revocations (`mayReadRevocations`): its credentials are wrong, or it is
 * not the API's own backend. Undefined when it may.
 */
export async function revocationReaderRefusal(store: DurableStore, clientId: string, secret: string, audience: string): Promise<'invalid_client' | 'unauthorized_client' | undefined> {
  const application = await store.applications.get(clientId);
  if (!application?.client_secret_hash || !secretMatches(secret, application.client_secret_hash)) return 'invalid_client';
  const grants = await store.clientGrants.find({ client_id: clientId, audience });
  return mayReadRevocations(application, grants, audience) ? undefined : 'unauthorized_client';
}
