import { decideApiAccess, type ApiAccessDecision } from '../domain/access.ts';
import { requestedApis } from '../domain/authorization.ts';
import type { Application, ResourceServer, SubjectType } from '../domain/model.ts';
import type { DurableStore } from '../store/ports.ts';
import { readTenantSettings } from './tenant.ts';

export async function findApiByIdentifier(store: DurableStore, identifier: string): Promise<ResourceServer | undefined> {
  return (await store.resourceServers.find({ identifier }, { limit: 1 }))[0];
}

/** Loads what `decideApiAccess` needs (two indexed lookups, never a scan) and asks it. */
export async function decideAccess(store: DurableStore, application: Application, api: ResourceServer, subjectType: SubjectType): Promise<ApiAccessDecision> {
  const clientGrants = [
    ...(await store.clientGrants.find({ client_id: application.client_id, audience: api.identifier })),
    ...(await store.clientGrants.find({ default_for: 'third_party_clients', audience: api.identifier })),
  ];
  return decideApiAccess({ api, application, subjectType, clientGrants });
}

/** The APIs a request is for; the tenant settings are read only when the request names none. */
export async function targetApis(store: DurableStore, request: { resource?: unknown; audience?: unknown }): Promise<string[]> {
  const named = requestedApis(request);
  if (named.length) return named;
  const { default_audience } = await readTenantSettings(store);
  return default_audience ? [default_audience] : [];
}
