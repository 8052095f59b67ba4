import { describe, expect, it } from '@jest/globals';
import { decideApiAccess } from '../../src/domain/access.ts';
import type { AccessPolicy, Application, ClientGrant, ResourceServer, SubjectType } from '../../src/domain/model.ts';
import { CONSOLE_APPLICATION_ID, OPERATOR_CONNECTION, type OperatorFacts } from '../../src/domain/operators.ts';
import { MANAGEMENT_API_SCOPES, systemResourceServer } from '../../src/domain/system-api.ts';

const now = '2026-01-01T00:00:00.000Z';
const API_SCOPES = ['read', 'write', 'admin'];
const OWN_SCOPES = ['read'];
const DEFAULT_SCOPES = ['write'];

const api = (user: AccessPolicy, client: Exclude<AccessPolicy, 'allow_all'>): ResourceServer => ({
  id: 'rs1', identifier: 'https://api.example.com/', name: 'API', is_system: false, scopes: API_SCOPES.map((value) => ({ value })),
  signing_alg: 'RS256', token_lifetime: 3600, token_lifetime_for_web: 3600, allow_offline_access: false,
  skip_consent_for_verifiable_first_party_clients: false, subject_type_authorization: { user: { policy: user }, client: { policy: client } },
  created_at: now, updated_at: now,
});

type Kind = 'first-party' | 'strict' | 'permissive';
const app = (kind: Kind): Application => ({
  client_id: 'app1', name: 'App', app_type: 'regular_web', is_first_party: kind === 'first-party',
  ...(kind === 'first-party' ? {} : { third_party_security_mode: kind }),
  callbacks: [], allowed_origins: [], web_origins: [], allowed_logout_urls: [], grant_types: [], token_endpoint_auth_method: 'client_secret_post',
  jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 3600 },
  refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 1, infinite_token_lifetime: false, idle_token_lifetime: 1, infinite_idle_token_lifetime: false },
  client_metadata: {}, oidc_conformant: true, registration_type: 'management_api', created_at: now, updated_at: now,
});

type Grants = 'own' | 'default' | 'both' | 'none';
const grants = (which: Grants, audience: string, subject: SubjectType): ClientGrant[] => {
  const base = { audience, subject_type: subject, allow_all_scopes: false, is_system: false, created_at: now, updated_at: now };
  const own: ClientGrant = { ...base, id: 'own', client_id: 'app1', scope: OWN_SCOPES };
  const fallback: ClientGrant = { ...base, id: 'default', default_for: 'third_party_clients', scope: DEFAULT_SCOPES };
  // Grants for another subject type, API or application must never matter.
  const noise: ClientGrant[] = [
    { ...own, id: 'other-subject', subject_type: subject === 'user' ? 'client' : 'user', scope: API_SCOPES },
    { ...own, id: 'other-api', audience: 'https://other.example.com/', scope: API_SCOPES },
    { ...own, id: 'other-app', client_id: 'app2', scope: API_SCOPES },
  ];
  return [...noise, ...({ own: [own], default: [fallback], both: [own, fallback], none: [] }[which])];
};

/** The expected outcome, written from Auth0's access-policy table rather than from the implementation. */
function expected(kind: Kind, policy: AccessPolicy, which: Grants): string[] | 'access_denied' | 'unauthorized_client' {
  if (policy === 'deny_all') return 'access_denied';
  const thirdParty = kind !== 'first-party';
  const applicable = which === 'own' || which === 'both' ? OWN_SCOPES : which === 'default' && thirdParty ? DEFAULT_SCOPES : undefined;
  if (applicable) return applicable;
  const grantRequired = policy === 'require_client_grant' || kind === 'strict';
  return grantRequired ? 'unauthorized_client' : API_SCOPES;
}

const outcome = (decision: ReturnType<typeof decideApiAccess>) => (decision.allowed ? decision.maxScopes : decision.error);

describe('decideApiAccess: the full matrix', () => {
  const kinds: Kind[] = ['first-party', 'strict', 'permissive'];
  const cases: [Kind, SubjectType, AccessPolicy, Grants][] = [];
  for (const kind of kinds) {
    for (const subject of ['user', 'client'] as const) {
      const policies: AccessPolicy[] = subject === 'user' ? ['allow_all', 'require_client_grant', 'deny_all'] : ['require_client_grant', 'deny_all'];
      for (const policy of policies) for (const which of ['own', 'default', 'both', 'none'] as const) cases.push([kind, subject, policy, which]);
    }
  }

  it.each(cases)('%s application, %s access, policy %s, grants: %s', (kind, subject, policy, which) => {
    const theApi = subject === 'user' ? api(policy, 'require_client_grant') : api('allow_all', policy as Exclude<AccessPolicy, 'allow_all'>);
    const decision = decideApiAccess({ api: theApi, application: app(kind), subjectType: subject, clientGrants: grants(which, theApi.identifier, subject) });
    expect(outcome(decision)).toEqual(expected(kind, policy, which));
    if (!decision.allowed) expect(decision.reason).toContain(theApi.identifier);
  });

  it('grants every current API scope when the grant says allow_all_scopes', () => {
    const theApi = api('require_client_grant', 'require_client_grant');
    const [grant] = grants('own', theApi.identifier, 'user').slice(-1);
    const decision = decideApiAccess({ api: theApi, application: app('strict'), subjectType: 'user', clientGrants: [{ ...grant!, allow_all_scopes: true, scope: [] }] });
    expect(outcome(decision)).toEqual(API_SCOPES);
  });

  it('never grants scopes the API does not define, even if a grant lists them', () => {
    const theApi = api('require_client_grant', 'require_client_grant');
    const [grant] = grants('own', theApi.identifier, 'client').slice(-1);
    const decision = decideApiAccess({ api: theApi, application: app('first-party'), subjectType: 'client', clientGrants: [{ ...grant!, scope: ['read', 'removed:scope'] }] });
    expect(outcome(decision)).toEqual(['read']);
  });

  it('tells the developer what to configure when a grant is missing', () => {
    const theApi = api('require_client_grant', 'require_client_grant');
    const decision = decideApiAccess({ api: theApi, application: app('strict'), subjectType: 'user', clientGrants: [] });
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.reason).toMatch(/default_for: third_party_clients/);
  });
});

describe('decideApiAccess: system APIs', () => {
  const system = systemResourceServer('https://id.example.com', now);
  const grant = (fields: Partial<ClientGrant>): ClientGrant => ({
    id: 'g', audience: system.identifier, scope: ['read:clients'], allow_all_scopes: false, subject_type: 'client', is_system: false, created_at: now, updated_at: now, ...fields,
  });

  it.each(['strict', 'permissive'] as const)('never lets a %s third-party application in, even with a grant', (kind) => {
    for (const subject of ['user', 'client'] as const) {
      const decision = decideApiAccess({ api: system, application: app(kind), subjectType: subject, clientGrants: [grant({ client_id: 'app1', subject_type: subject })] });
      expect(outcome(decision)).toBe('access_denied');
    }
  });

  it('lets a first-party application in with its own client grant only', () => {
    expect(outcome(decideApiAccess({ api: system, application: app('first-party'), subjectType: 'client', clientGrants: [grant({ client_id: 'app1' })] }))).toEqual(['read:clients']);
    expect(outcome(decideApiAccess({ api: system, application: app('first-party'), subjectType: 'client', clientGrants: [grant({ default_for: 'third_party_clients' })] }))).toBe('unauthorized_client');
    expect(outcome(decideApiAccess({ api: system, application: app('first-party'), subjectType: 'user', clientGrants: [grant({ client_id: 'app1', subject_type: 'user' })] }))).toBe('access_denied');
  });
});

describe('decideApiAccess: operators, through the console', () => {
  const system = systemResourceServer('https://id.example.com', now);
  const consoleApp = { ...app('first-party'), client_id: CONSOLE_APPLICATION_ID };
  const consoleGrant: ClientGrant = {
    id: 'console', client_id: CONSOLE_APPLICATION_ID, audience: system.identifier, scope: [], allow_all_scopes: true, subject_type: 'user', is_system: true, created_at: now, updated_at: now,
  };
  const decide = (user?: OperatorFacts | null, application = consoleApp) =>
    outcome(decideApiAccess({ api: system, application, subjectType: 'user', clientGrants: [{ ...consoleGrant, client_id: application.client_id }], ...(user === undefined ? {} : { user }) }));
  const operator = (role: 'admin' | 'viewer', fields: Partial<OperatorFacts> = {}): OperatorFacts => ({ connection: OPERATOR_CONNECTION, blocked: false, operator_role: role, ...fields });

  it('bounds an admin\'s token by every scope and a viewer\'s by the read: scopes', () => {
    expect(decide(operator('admin'))).toEqual([...MANAGEMENT_API_SCOPES]);
    expect(decide(operator('viewer'))).toEqual(MANAGEMENT_API_SCOPES.filter((scope) => scope.startsWith('read:')));
  });

  it('gives nothing to a user who is not an operator: another connection, no role, blocked, or unknown', () => {
    expect(decide({ connection: 'Username-Password-Authentication', blocked: false, operator_role: 'admin' })).toBe('access_denied');
    expect(decide({ connection: OPERATOR_CONNECTION, blocked: false })).toBe('access_denied');
    expect(decide(operator('admin', { blocked: true }))).toBe('access_denied');
    expect(decide(null)).toBe('access_denied');
  });

  it('lets the sign-in begin before anyone is known (the bound applies once they are), and only for the console', () => {
    expect(decide()).toEqual([...MANAGEMENT_API_SCOPES]);
    expect(decide(operator('admin'), app('first-party'))).toBe('access_denied');
  });
});
