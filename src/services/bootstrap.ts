import type { GatehouseConfig } from '../config/schema.ts';
import { draftApplication, type ApplicationCreate } from '../domain/application-rules.ts';
import { draftClientGrant } from '../domain/client-grant-rules.ts';
import { draftConnection } from '../domain/connection-rules.ts';
import { hashSecret, newClientId, newClientSecret, newHexId, newId } from '../domain/ids.ts';
import type { Application, ResourceServer } from '../domain/model.ts';
import { draftResourceServer } from '../domain/resource-server-rules.ts';
import { MANAGEMENT_API_SCOPES, managementAudience, systemResourceServer, SYSTEM_API_ID } from '../domain/system-api.ts';
import { draftUser, normalizeEmail } from '../domain/user-rules.ts';
import { changeBetween } from '../store/changes.ts';
import type { DurableStore } from '../store/ports.ts';
import { hashPassword } from './passwords.ts';
import { ensureTenantSettings } from './tenant.ts';
import { issuerUrl } from '../domain/issuer.ts';
import { CONSOLE_APPLICATION_ID, OPERATOR_CONNECTION, OPERATOR_CONNECTION_ID } from '../domain/operators.ts';

/**
 * Registers (or re-points, when the issuer or the scopes changed) the Management API: a system API whose only
 * administrator settings, its token lifetimes, are kept.
 */
export async function registerSystemApi(store: DurableStore, issuer: string): Promise<ResourceServer> {
  const existing = await store.resourceServers.get(SYSTEM_API_ID);
  const api = systemResourceServer(issuer, existing?.created_at ?? new Date().toISOString());
  if (!existing) {
    await store.resourceServers.insertIfAbsent(api);
    return api;
  }
  if (existing.identifier === api.identifier && existing.scopes.length === api.scopes.length) return existing;
  const repointed = { ...api, token_lifetime: existing.token_lifetime, token_lifetime_for_web: existing.token_lifetime_for_web, updated_at: new Date().toISOString() };
  return (await store.resourceServers.update(api.id, changeBetween(existing, repointed))) ?? repointed;
}

export interface AdminCredentials {
  client_id: string;
  /** Present only when Gatehouse generated the application just now: shown once, never stored in clear. */
  client_secret?: string;
}

/**
 * An application Gatehouse itself runs on: drafted by the same rule as any application (first-party, with its
 * defaults), then marked as Gatehouse's own, which the Management API does not change.
 */
function systemApplication(settings: ApplicationCreate, clientId: string, now: string, secretHash?: string): Application {
  return {
    ...draftApplication(settings, { allowPermissiveThirdParty: false }, now),
    client_id: clientId,
    registration_type: 'system',
    ...(secretHash ? { client_secret_hash: secretHash } : {}),
  };
}

const adminApplication = (clientId: string, secretHash: string, now: string) => systemApplication({
  name: 'Gatehouse Admin',
  description: 'Machine-to-machine application for the Management API, created by Gatehouse.',
  app_type: 'non_interactive',
  grant_types: ['client_credentials'],
}, clientId, now, secretHash);

/** The application behind the connected-apps page: it signs users in to Gatehouse itself, and gets no token. */
export const ACCOUNT_APPLICATION_ID = 'gatehouse_account';
export const accountCallback = (issuer: string) => issuerUrl(issuer, 'u/apps/callback');

/** Stores one of Gatehouse's own interactive applications, or re-points it when the issuer (so its callback) changed. */
async function ensureOwnApplication(store: DurableStore, clientId: string, settings: ApplicationCreate & { callbacks: string[] }): Promise<void> {
  const now = new Date().toISOString();
  const existing = await store.applications.get(clientId);
  if (existing?.callbacks[0] === settings.callbacks[0]) return;
  const drafted = systemApplication(settings, clientId, now);
  if (existing) await store.applications.update(clientId, changeBetween(existing, { ...drafted, created_at: existing.created_at }));
  else await store.applications.insertIfAbsent(drafted);
}

export const ensureAccountApplication = (store: DurableStore, issuer: string) => ensureOwnApplication(store, ACCOUNT_APPLICATION_ID, {
  name: 'Your account',
  description: 'Lets people see and remove the applications they gave access to, on the connected-apps page.',
  app_type: 'spa',
  callbacks: [accountCallback(issuer)],
  grant_types: ['authorization_code'],
});

export const consoleCallback = (issuer: string) => issuerUrl(issuer, 'console/callback');

/**
 * The console: a first-party application of Gatehouse that signs operators in (through their reserved connection
 * only: src/domain/connections.ts) and gets, for each, a Management API token bounded by their role. Its client
 * grant for the system API is Gatehouse's own (it cannot be changed); it is a public client (PKCE), because the
 * console runs inside every Gatehouse process and no secret would be shared between them.
 */
export async function ensureConsole(store: DurableStore, issuer: string): Promise<void> {
  await ensureOwnApplication(store, CONSOLE_APPLICATION_ID, {
    name: 'Gatehouse console',
    description: 'Where operators run this Gatehouse: applications, APIs, connections, users and settings.',
    app_type: 'regular_web',
    token_endpoint_auth_method: 'none',
    callbacks: [consoleCallback(issuer)],
    grant_types: ['authorization_code'],
  });
  const now = new Date().toISOString();
  const grant = draftClientGrant(
    { client_id: CONSOLE_APPLICATION_ID, audience: managementAudience(issuer), scope: [], allow_all_scopes: true, subject_type: 'user' },
    systemResourceServer(issuer, now), undefined, newId('cgr_'), now,
  );
  await store.clientGrants.insertIfAbsent({ ...grant, is_system: true });
  const connection = draftConnection({
    name: OPERATOR_CONNECTION, strategy: 'auth0', display_name: 'Operators', enabled_clients: [CONSOLE_APPLICATION_ID], options: { disable_signup: true },
  }, OPERATOR_CONNECTION_ID, now);
  if (!(await store.connections.insertIfAbsent(connection)) && !(await store.connections.get(OPERATOR_CONNECTION_ID))) {
    throw new Error(`A connection named ${OPERATOR_CONNECTION} exists: it is reserved for Gatehouse's operators; rename or delete it, then start again`);
  }
}

/** Gatehouse's interactive applications, which are never the admin machine-to-machine application. */
const INTERACTIVE_SYSTEM_APPLICATIONS = new Set([ACCOUNT_APPLICATION_ID, CONSOLE_APPLICATION_ID]);

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
    if (!existing) await store.applications.insertIfAbsent(adminApplication(config.adminClientId, secretHash, now));
    else if (existing.client_secret_hash !== secretHash) await store.applications.update(existing.client_id, { set: { client_secret_hash: secretHash, updated_at: now } });
    credentials = { client_id: config.adminClientId };
  } else {
    const existing = (await store.applications.find({ registration_type: 'system' })).find((app) => !INTERACTIVE_SYSTEM_APPLICATIONS.has(app.client_id));
    if (existing) credentials = { client_id: existing.client_id };
    else {
      const secret = newClientSecret();
      const app = adminApplication(newClientId(false), hashSecret(secret), now);
      await store.applications.insert(app);
      credentials = { client_id: app.client_id, client_secret: secret };
    }
  }
  const grant = draftClientGrant(
    { client_id: credentials.client_id, audience: managementAudience(config.issuer), scope: [...MANAGEMENT_API_SCOPES], allow_all_scopes: true, subject_type: 'client' },
    systemResourceServer(config.issuer, now), undefined, newId('cgr_'), now,
  );
  await store.clientGrants.insertIfAbsent({ ...grant, is_system: true });
  return credentials;
}

/** Idempotent: what exists (matched by identifier, name or email) is left as the operator changed it. */
export async function seed(store: DurableStore, config: GatehouseConfig): Promise<void> {
  const now = new Date().toISOString();
  await ensureTenantSettings(store, config.tenant);
  for (const { default_third_party_scopes, ...seeded } of config.seed.resource_servers) {
    const api = draftResourceServer(seeded, newHexId(), now);
    await store.resourceServers.insertIfAbsent(api);
    if (default_third_party_scopes) {
      const grant = draftClientGrant({ default_for: 'third_party_clients', audience: api.identifier, scope: default_third_party_scopes, subject_type: 'user' }, api, undefined, newId('cgr_'), now);
      await store.clientGrants.insertIfAbsent(grant);
    }
  }
  for (const seeded of config.seed.connections) {
    await store.connections.insertIfAbsent(draftConnection({ ...seeded, strategy: 'auth0' }, newId('con_'), now));
  }
  if (config.env === 'production') return;
  for (const seeded of config.seed.development_users) {
    if ((await store.users.find({ email: normalizeEmail(seeded.email), connection: seeded.connection }, { limit: 1 })).length) continue;
    const user = draftUser({ ...seeded, email_verified: true }, `auth0|${newHexId()}`, await hashPassword(seeded.password), now);
    await store.users.insertIfAbsent(user);
  }
}
