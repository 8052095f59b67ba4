import { newClientId, newHexId, newId } from '../../src/domain/ids.ts';
import type { AccessPolicy, Application, ClientGrant, ResourceServer } from '../../src/domain/model.ts';
import type { Stores } from '../../src/store/index.ts';
import { insertApplication, pkcePair } from './harness.ts';

const now = () => new Date().toISOString();

export const CALLBACK = 'https://app.example.com/callback';

export function thirdPartyApp(stores: Stores, fields: Partial<Application> = {}) {
  const strict = (fields.third_party_security_mode ?? 'strict') === 'strict';
  return insertApplication(stores, {
    client_id: newClientId(strict), name: 'Partner App', is_first_party: false, third_party_security_mode: 'strict',
    redirection_policy: 'open_redirect_protection', callbacks: [CALLBACK], ...fields,
  });
}

export async function createApi(stores: Stores, fields: Partial<ResourceServer> & { user?: AccessPolicy; client?: Exclude<AccessPolicy, 'allow_all'> } = {}): Promise<ResourceServer> {
  const { user = 'allow_all', client = 'require_client_grant', ...rest } = fields;
  const api: ResourceServer = {
    id: newHexId(), identifier: `https://api-${newHexId().slice(0, 8)}.example.com/`, name: 'Notes API', is_system: false,
    scopes: [{ value: 'read:notes', description: 'Read your notes' }, { value: 'write:notes', description: 'Change your notes' }, { value: 'delete:notes', description: 'Delete your notes' }],
    signing_alg: 'RS256', token_lifetime: 600, token_lifetime_for_web: 600, allow_offline_access: true,
    skip_consent_for_verifiable_first_party_clients: false, subject_type_authorization: { user: { policy: user }, client: { policy: client } },
    created_at: now(), updated_at: now(), ...rest,
  };
  await stores.durable.resourceServers.insert(api);
  return api;
}

export async function createGrant(stores: Stores, fields: Partial<ClientGrant> & Pick<ClientGrant, 'audience' | 'scope'>): Promise<ClientGrant> {
  const grant: ClientGrant = { id: newId('cgr_'), allow_all_scopes: false, subject_type: 'user', is_system: false, created_at: now(), updated_at: now(), ...fields };
  await stores.durable.clientGrants.insert(grant);
  return grant;
}

/** Query string of an authorization request; PKCE S256 unless `pkce: false`. */
export function authorizeQuery(app: Application, params: Record<string, string | false | undefined> = {}) {
  const { pkce, ...rest } = params;
  const { verifier, challenge } = pkcePair();
  const query = new URLSearchParams({ client_id: app.client_id, response_type: 'code', redirect_uri: app.callbacks[0] as string, state: 'st4te' });
  if (pkce !== false) {
    query.set('code_challenge', challenge);
    query.set('code_challenge_method', 'S256');
  }
  for (const [key, value] of Object.entries(rest)) if (typeof value === 'string') query.set(key, value);
  return { path: `/authorize?${query}`, verifier };
}
