import type { GatehouseConfig } from '../config/schema.ts';
import { hashSecret, newClientId, newClientSecret, newHexId, newId } from '../domain/ids.ts';
import type { Application, ClientGrant, Connection, ResourceServer } from '../domain/model.ts';
import { MANAGEMENT_API_SCOPES, managementAudience, systemResourceServer, SYSTEM_API_ID } from '../domain/system-api.ts';
import { DuplicateKeyError, type DurableStore } from '../store/ports.ts';
import { hashPassword } from './passwords.ts';
import { ensureTenantSettings } from './tenant.ts';
import { issuerUrl } from '../domain/issuer.ts';

/** Inserts unless an equivalent entry exists; another process winning the race is not an error. */
async function insertIfAbsent(insert: () => Promise<void>): Promise<void> {
  try {
    await insert();
  } catch (err) {
    if (!(err instanceof DuplicateKeyError)) throw err;
  }
}

/** Registers (or re-points, when the issuer changed) the Management API: a system API nobody can change. */
export async function registerSystemApi(store: DurableStore, issuer: string): Promise<ResourceServer> {
  const existing = await store.resourceServers.get(SYSTEM_API_ID);
  const api = systemResourceServer(issuer, existing?.created_at ?? new Date().toISOString());
  if (!existing) await insertIfAbsent(() => store.resourceServers.insert(api));
  else if (existing.identifier !== api.identifier || existing.scopes.length !== api.scopes.length) {
    await store.resourceServers.replace({ ...api, updated_at: new Date().toISOString() });
  }
  return api;
}

export interface AdminCredentials {
  client_id: string;
  /** Present only when Gatehouse generated the application just now: shown once, never stored in clear. */
  client_secret?: string;
}

/** An application Gatehouse itself runs on: first-party, and not changeable through the Management API. */
function systemApplication(fields: Pick<Application, 'client_id' | 'name' | 'description' | 'app_type' | 'callbacks' | 'grant_types' | 'token_endpoint_auth_method'> & Partial<Application>, now: string): Application {
  return {
    is_first_party: true,
    allowed_origins: [],
    web_origins: [],
    allowed_logout_urls: [],
    jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 3600 },
    refresh_token: {
      rotation_type: 'non-rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 2592000,
      infinite_token_lifetime: false, idle_token_lifetime: 1296000, infinite_idle_token_lifetime: false,
    },
    client_metadata: {},
    oidc_conformant: true,
    registration_type: 'system',
    created_at: now,
    updated_at: now,
    ...fields,
  };
}

const adminApplication = (clientId: string, secretHash: string, now: string) => systemApplication({
  client_id: clientId,
  name: 'Gatehouse Admin',
  description: 'Machine-to-machine application for the Management API, created by Gatehouse.',
  app_type: 'non_interactive',
  callbacks: [],
  grant_types: ['client_credentials'],
  token_endpoint_auth_method: 'client_secret_post',
  client_secret_hash: secretHash,
}, now);

/** The application behind the connected-apps page: it signs users in to Gatehouse itself, and gets no token. */
export const ACCOUNT_APPLICATION_ID = 'gatehouse_account';
export const accountCallback = (issuer: string) => issuerUrl(issuer, 'u/apps/callback');

export async function ensureAccountApplication(store: DurableStore, issuer: string): Promise<void> {
  const now = new Date().toISOString();
  const existing = await store.applications.get(ACCOUNT_APPLICATION_ID);
  if (existing?.callbacks[0] === accountCallback(issuer)) return;
  const app = systemApplication({
    client_id: ACCOUNT_APPLICATION_ID,
    name: 'Your account',
    description: 'Lets people see and remove the applications they gave access to, on the connected-apps page.',
    app_type: 'spa',
    callbacks: [accountCallback(issuer)],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'none',
    ...(existing ? { created_at: existing.created_at } : {}),
  }, now);
  if (existing) await store.applications.replace(app);
  else await insertIfAbsent(() => store.applications.insert(app));
}

/**
 * The admin machine-to-machine application with every Management API scope. Its credentials come from
 * GATEHOUSE_ADMIN_CLIENT_ID/_SECRET; without them (development only) one is generated on first start.
 */
export async function bootstrapAdminApplication(store: DurableStore, config: GatehouseConfig): Promise<AdminCredentials> {
  const now = new Date().toISOString();
  let credentials: AdminCredentials;
  if (config.adminClientId && config.adminClientSecret) {
    const existing = await store.applications.get(config.adminClientId);
    const secretHash = hashSecret(config.adminClientSecret);
    if (!existing) await insertIfAbsent(() => store.applications.insert(adminApplication(config.adminClientId!, secretHash, now)));
    else if (existing.client_secret_hash !== secretHash) await store.applications.replace({ ...existing, client_secret_hash: secretHash, updated_at: now });
    credentials = { client_id: config.adminClientId };
  } else {
    const existing = (await store.applications.find({ registration_type: 'system' })).find((app) => app.client_id !== ACCOUNT_APPLICATION_ID);
    if (existing) credentials = { client_id: existing.client_id };
    else {
      const secret = newClientSecret();
      const app = adminApplication(newClientId(false), hashSecret(secret), now);
      await store.applications.insert(app);
      credentials = { client_id: app.client_id, client_secret: secret };
    }
  }
  const grant: ClientGrant = {
    id: newId('cgr_'), client_id: credentials.client_id, audience: managementAudience(config.issuer), scope: [...MANAGEMENT_API_SCOPES],
    allow_all_scopes: true, subject_type: 'client', is_system: true, created_at: now, updated_at: now,
  };
  await insertIfAbsent(() => store.clientGrants.insert(grant));
  return credentials;
}

/** Idempotent: what exists (matched by identifier, name or email) is left as the operator changed it. */
export async function seed(store: DurableStore, config: GatehouseConfig): Promise<void> {
  const now = new Date().toISOString();
  await ensureTenantSettings(store, config.tenant);
  for (const seeded of config.seed.resource_servers) {
    const api: ResourceServer = {
      id: newHexId(), identifier: seeded.identifier, name: seeded.name, is_system: false, scopes: seeded.scopes,
      signing_alg: 'RS256', token_lifetime: 86400, token_lifetime_for_web: 7200, allow_offline_access: seeded.allow_offline_access ?? false,
      skip_consent_for_verifiable_first_party_clients: false,
      subject_type_authorization: { user: { policy: 'allow_all' }, client: { policy: 'require_client_grant' } },
      created_at: now, updated_at: now,
    };
    await insertIfAbsent(() => store.resourceServers.insert(api));
    if (seeded.default_third_party_scopes) {
      const grant: ClientGrant = {
        id: newId('cgr_'), default_for: 'third_party_clients', audience: seeded.identifier, scope: seeded.default_third_party_scopes,
        allow_all_scopes: false, subject_type: 'user', is_system: false, created_at: now, updated_at: now,
      };
      await insertIfAbsent(() => store.clientGrants.insert(grant));
    }
  }
  for (const seeded of config.seed.connections) {
    const connection: Connection = {
      id: newId('con_'), name: seeded.name, strategy: 'auth0', is_domain_connection: seeded.is_domain_connection,
      enabled_clients: [], created_at: now, updated_at: now,
    };
    await insertIfAbsent(() => store.connections.insert(connection));
  }
  if (config.env === 'production') return;
  for (const seeded of config.seed.development_users) {
    if ((await store.users.find({ email: seeded.email, connection: seeded.connection }, { limit: 1 })).length) continue;
    await insertIfAbsent(async () => store.users.insert({
      user_id: `auth0|${newHexId()}`, email: seeded.email, email_verified: true, ...(seeded.name ? { name: seeded.name } : {}),
      connection: seeded.connection, blocked: false, logins_count: 0, created_at: now, updated_at: now,
      password_hash: await hashPassword(seeded.password),
    }));
  }
}
