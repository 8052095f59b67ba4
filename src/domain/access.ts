import type { Application, ClientGrant, ResourceServer, SubjectType } from './model.ts';
import { isStrictThirdParty, isThirdParty } from './applications.ts';
import { isConsole, operatorScopes, type OperatorFacts } from './operators.ts';

/** The OAuth error a refusal surfaces as, per RFC 6749 and Auth0's troubleshooting guide. */
export type AccessDeniedError = 'access_denied' | 'unauthorized_client';

export type ApiAccessDecision =
  | { allowed: true; maxScopes: string[]; grant: ClientGrant | undefined }
  | { allowed: false; error: AccessDeniedError; reason: string };

export interface ApiAccessRequest {
  api: ResourceServer;
  application: Application;
  /** `user` for flows with an end user, `client` for client credentials. */
  subjectType: SubjectType;
  /** Client grants for this API; grants for other APIs or applications are ignored. */
  clientGrants: readonly ClientGrant[];
  /**
   * The user a user-delegated token would be for, once known (after sign-in, at the token endpoint, at the Management
   * API); `null` for an unknown account. Absent while nobody has signed in yet.
   */
  user?: OperatorFacts | null;
}

const flowName = (subjectType: SubjectType) => (subjectType === 'user' ? 'user-delegated access' : 'client (machine-to-machine) access');

/**
 * The applicable client grant: the application's own grant replaces the tenant default for third-party applications.
 * System APIs never honour default grants.
 */
export function selectClientGrant(request: ApiAccessRequest): ClientGrant | undefined {
  const { api, application, subjectType, clientGrants } = request;
  const forThisApi = clientGrants.filter((g) => g.audience === api.identifier && g.subject_type === subjectType);
  const own = forThisApi.find((g) => g.client_id === application.client_id);
  if (own) return own;
  if (!isThirdParty(application) || api.is_system) return undefined;
  return forThisApi.find((g) => g.default_for === 'third_party_clients');
}

export const grantScopes = (api: ResourceServer, grant: ClientGrant) => {
  const apiScopes = api.scopes.map((s) => s.value);
  return grant.allow_all_scopes ? apiScopes : apiScopes.filter((s) => grant.scope.includes(s));
};

/**
 * May this application get a token for this API, for a user or for itself, and with at most which scopes?
 * Every rule of Auth0's access-policy table lives here, once; the consent screen, /authorize and /oauth/token all ask.
 * User-delegated access to a system API (the Management API) is, besides, for operators only, bounded by their role.
 */
export function decideApiAccess(request: ApiAccessRequest): ApiAccessDecision {
  const decision = decideApplicationAccess(request);
  const { api, application, subjectType, user } = request;
  if (!decision.allowed || !api.is_system || subjectType !== 'user') return decision;
  // A system API's user-delegated tokens are an operator's, through the console, bounded by the role.
  if (!isConsole(application)) {
    return { allowed: false, error: 'access_denied', reason: `System APIs such as "${api.identifier}" give user-delegated access through Gatehouse's console only.` };
  }
  if (user === undefined) return decision;
  const roleScopes = new Set<string>(operatorScopes(user ?? undefined));
  if (!roleScopes.size) return { allowed: false, error: 'access_denied', reason: `Only operators get user-delegated access to the system API "${api.identifier}".` };
  return { ...decision, maxScopes: decision.maxScopes.filter((scope) => roleScopes.has(scope)) };
}

function decideApplicationAccess(request: ApiAccessRequest): ApiAccessDecision {
  const { api, application, subjectType } = request;
  const appLabel = `Application "${application.name}" (${application.client_id})`;

  if (api.is_system && isThirdParty(application)) {
    return { allowed: false, error: 'access_denied', reason: `${appLabel} is a third-party application: system APIs such as "${api.identifier}" can never be granted to third-party applications.` };
  }
  const policy = api.subject_type_authorization[subjectType].policy;
  if (policy === 'deny_all') {
    return { allowed: false, error: 'access_denied', reason: `API "${api.identifier}" allows no applications for ${flowName(subjectType)} (policy deny_all).` };
  }
  const grant = selectClientGrant(request);
  if (grant) return { allowed: true, maxScopes: grantScopes(api, grant), grant };

  const grantRequired = policy === 'require_client_grant' || isStrictThirdParty(application);
  if (grantRequired) {
    const how = isThirdParty(application) && !api.is_system
      ? `a client grant for this application or a default grant for third-party applications (default_for: third_party_clients)`
      : 'a client grant for this application';
    return {
      allowed: false,
      error: 'unauthorized_client',
      reason: `${appLabel} is not authorized to access API "${api.identifier}" for ${flowName(subjectType)}: create ${how} with subject_type "${subjectType}".`,
    };
  }
  return { allowed: true, maxScopes: api.scopes.map((s) => s.value), grant: undefined };
}
