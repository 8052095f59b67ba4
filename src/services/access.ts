import { decideApiAccess, type ApiAccessDecision } from '../domain/access.ts';
import { requestedApis } from '../domain/authorization.ts';
import type { Application, ResourceServer, SubjectType } from '../domain/model.ts';
import { SYSTEM_API_ID } from '../domain/system-api.ts';
import type { DurableStore } from '../store/ports.ts';
import { applicationDirectory, storeLookup, type ApplicationDirectory } from './application-directory.ts';
import { readTenantSettings } from './tenant.ts';

export async function findApiByIdentifier(store: DurableStore, identifier: string): Promise<ResourceServer | undefined> {
  return (await store.resourceServers.find({ identifier }, { limit: 1 }))[0];
}

/**
 * Loads what `decideApiAccess` needs (two indexed lookups, never a scan) and asks it. `userId`, once someone has
 * signed in, is the user a user-delegated token would be for: it is read only for a system API, whose user tokens
 * are an operator's.
 */
export async function decideAccess(store: DurableStore, application: Application, api: ResourceServer, subjectType: SubjectType, userId?: string): Promise<ApiAccessDecision> {
  const clientGrants = [
    ...(await store.clientGrants.find({ client_id: application.client_id, audience: api.identifier })),
    ...(await store.clientGrants.find({ default_for: 'third_party_clients', audience: api.identifier })),
  ];
  const user = api.is_system && subjectType === 'user' && userId !== undefined ? (await store.users.get(userId)) ?? null : undefined;
  return decideApiAccess({ api, application, subjectType, clientGrants, ...(user === undefined ? {} : { user }) });
}

/** The APIs a request is for; the tenant settings are read only when the request names none. */
export async function targetApis(store: DurableStore, request: { resource?: unknown; audience?: unknown }): Promise<string[]> {
  const named = requestedApis(request);
  if (named.length) return named;
  const { default_audience } = await readTenantSettings(store);
  return default_audience ? [default_audience] : [];
}

/** How long one process trusts what it read about a Management API client: the bound on a deletion taking effect. */
export const MANAGEMENT_ACCESS_MEMO_MS = 1000;

/**
 * The Management API scopes a caller may use now, or undefined when its application, its client grant or (for an
 * operator's token) the operator is gone. `userId` is the operator a user-delegated token is for.
 */
export type ManagementAccess = (clientId: string, userId?: string) => Promise<ReadonlySet<string> | undefined>;

/**
 * Asks `decideApiAccess` whether an application may still use the Management API (it exists, and so does its client
 * grant for the system API) and with which scopes; for an operator's token, whether they are still an operator and
 * with which role. Every Management call asks, so each process remembers the answer per caller for at most
 * `MANAGEMENT_ACCESS_MEMO_MS`: a deleted application or grant, a removed operator or a changed role takes effect
 * within that bound, at the cost of a few reads per caller per second.
 */
export function managementAccess(store: DurableStore, directory: ApplicationDirectory = applicationDirectory({ lookup: storeLookup(store) })): ManagementAccess {
  const memo = new Map<string, { until: number; scopes: ReadonlySet<string> | undefined }>();
  return async (clientId, userId) => {
    const now = Date.now();
    const memoKey = userId === undefined ? clientId : `${clientId} ${userId}`;
    const remembered = memo.get(memoKey);
    if (remembered && remembered.until > now) return remembered.scopes;
    const [entry, api] = await Promise.all([directory.resolve(clientId), store.resourceServers.get(SYSTEM_API_ID)]);
    const application = entry?.application;
    const decision = application && api ? await decideAccess(store, application, api, userId === undefined ? 'client' : 'user', userId) : undefined;
    const scopes = decision?.allowed ? new Set(decision.maxScopes) : undefined;
    if (memo.size >= 1000) for (const [key, entry] of memo) if (entry.until <= now) memo.delete(key);
    memo.set(memoKey, { until: now + MANAGEMENT_ACCESS_MEMO_MS, scopes });
    return scopes;
  };
}
