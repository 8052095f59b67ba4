import { draftClientGrant, type ClientGrantCreate } from '../../src/domain/client-grant-rules.ts';
import { draftConnection, type ConnectionCreate } from '../../src/domain/connection-rules.ts';
import { newClientId, newHexId, newId } from '../../src/domain/ids.ts';
import type { AccessPolicy, Application, ClientGrant, Connection, ResourceServer } from '../../src/domain/model.ts';
import { draftResourceServer, type ResourceServerCreate } from '../../src/domain/resource-server-rules.ts';
import { findApiByIdentifier } from '../../src/services/access.ts';
import type { Stores } from '../../src/store/index.ts';
import { insertApplication, pkcePair, type ApplicationFixture } from './harness.ts';

export const CALLBACK = 'https://app.example.com/callback';

export function thirdPartyApp(stores: Stores, fields: ApplicationFixture = {}) {
  const strict = (fields.third_party_security_mode ?? 'strict') === 'strict';
  return insertApplication(stores, { client_id: newClientId(strict), name: 'Partner App', is_first_party: false, callbacks: [CALLBACK], ...fields });
}

/** An API drafted by the domain rule; `user` and `client` set its access policies. */
export async function createApi(stores: Stores, fields: Partial<ResourceServerCreate> & { user?: AccessPolicy; client?: Exclude<AccessPolicy, 'allow_all'> } = {}): Promise<ResourceServer> {
  const { user = 'allow_all', client = 'require_client_grant', ...rest } = fields;
  const api = draftResourceServer({
    identifier: `https://api-${newHexId().slice(0, 8)}.example.com/`, name: 'Notes API',
    scopes: [{ value: 'read:notes', description: 'Read your notes' }, { value: 'write:notes', description: 'Change your notes' }, { value: 'delete:notes', description: 'Delete your notes' }],
    token_lifetime: 600, allow_offline_access: true, subject_type_authorization: { user: { policy: user }, client: { policy: client } },
    ...rest,
  }, newHexId(), new Date().toISOString());
  await stores.durable.resourceServers.insert(api);
  return api;
}

/** A client grant drafted by the domain rule, for user access unless `subject_type` says otherwise. */
export async function createGrant(stores: Stores, fields: ClientGrantCreate & { scope: string[] }): Promise<ClientGrant> {
  const api = await findApiByIdentifier(stores.durable, fields.audience);
  if (!api) throw new Error(`createGrant: no API ${fields.audience}`);
  const application = fields.client_id ? await stores.durable.applications.get(fields.client_id) : undefined;
  const grant = draftClientGrant({ subject_type: 'user', ...fields }, api, application, newId('cgr_'), new Date().toISOString());
  await stores.durable.clientGrants.insert(grant);
  return grant;
}

/** A database connection drafted by the domain rule (not domain-level unless asked). */
export async function createConnection(stores: Stores, fields: Omit<ConnectionCreate, 'strategy'>): Promise<Connection> {
  const connection = draftConnection({ strategy: 'auth0', ...fields }, newId('con_'), new Date().toISOString());
  await stores.durable.connections.insert(connection);
  return connection;
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
