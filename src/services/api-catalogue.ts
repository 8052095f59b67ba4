import { decideApiAccess } from '../domain/access.ts';
import type { ApiScope, Application, ClientGrant, ResourceServer } from '../domain/model.ts';
import { registrationDraft } from '../domain/registration.ts';
import { mayIssueRefreshToken } from '../domain/tokens.ts';
import type { DurableStore } from '../store/ports.ts';
import { findApiByIdentifier } from './access.ts';
import { readTenantSettings } from './tenant.ts';

/** An API that every registered application may call for its users, through the tenant's default third-party grant. */
export interface CatalogueEntry {
  api: ResourceServer;
  /** The scopes of the default grant, with what each allows. */
  scopes: ApiScope[];
  /** Whether asking for `offline_access` brings a refresh token. */
  offlineAccess: boolean;
}

/**
 * The application a registration would create right now (the tenant's DCR security mode), so that the catalogue shows
 * exactly what the access rules would allow it: the rules are asked, never restated.
 */
async function prospectiveApplication(store: DurableStore): Promise<Application> {
  const { dynamic_client_registration_security_mode: mode } = await readTenantSettings(store);
  const draft = registrationDraft({ redirect_uris: ['https://app.invalid/callback'], token_endpoint_auth_method: 'none' }, mode, new Date().toISOString());
  return { ...draft, client_id: '', name: 'A registered application' };
}

/** The APIs a newly registered application can reach for its users, by name, with the scopes it may ask for. */
export async function thirdPartyCatalogue(store: DurableStore): Promise<CatalogueEntry[]> {
  const application = await prospectiveApplication(store);
  const byAudience = new Map<string, ClientGrant[]>();
  for (const grant of await store.clientGrants.find({ default_for: 'third_party_clients' })) {
    byAudience.set(grant.audience, [...(byAudience.get(grant.audience) ?? []), grant]);
  }
  const entries: CatalogueEntry[] = [];
  for (const [audience, clientGrants] of byAudience) {
    const api = await findApiByIdentifier(store, audience);
    if (!api) continue;
    const decision = decideApiAccess({ api, application, subjectType: 'user', clientGrants });
    if (!decision.allowed || decision.grant?.default_for !== 'third_party_clients' || !decision.maxScopes.length) continue;
    entries.push({
      api,
      scopes: api.scopes.filter((scope) => decision.maxScopes.includes(scope.value)),
      offlineAccess: mayIssueRefreshToken(application, new Set(['offline_access']), [api]),
    });
  }
  return entries.sort((a, b) => a.api.name.localeCompare(b.api.name));
}
