import type { SchemaObject } from 'ajv';
import { GRANT_TYPES } from '../../domain/application-rules.ts';
import { HEX_COLOUR_PATTERN } from '../../domain/branding.ts';
import { LOG_CATEGORIES } from '../../domain/log-events.ts';
import { LOG_SEARCH_FIELDS } from '../../domain/log-query.ts';
import {
  CONFIGURABLE_AUTH_METHODS, SIGNING_ALGS, TOKEN_ENDPOINT_AUTH_METHODS, type AccessPolicy, type ApiSigningAlg, type AppType, type TokenDialect, type Trust,
} from '../../domain/model.ts';
import { MAX_TOKEN_LIFETIME, MIN_SIGNING_SECRET_LENGTH } from '../../domain/resource-server-rules.ts';
import { DEFAULT_TOKEN_DIALECT } from '../../domain/tokens.ts';
import { PASSWORD_POLICY_LEVELS } from '../../domain/password-policy.ts';
import { CONNECTION_STRATEGIES } from '../../domain/connection-rules.ts';
import { PASSWORD_LENGTH } from '../../domain/user-rules.ts';
import { OPERATOR_ROLES } from '../../domain/operators.ts';

/**
 * The JSON schemas of the Management API: requests are validated against them (additional properties refused) and
 * the OpenAPI document is generated from them. Names and limits follow Auth0's Management API.
 */

export const object = (properties: Record<string, SchemaObject>, required: string[] = [], extra: SchemaObject = {}): SchemaObject => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
  ...extra,
});
const string = (extra: SchemaObject = {}): SchemaObject => ({ type: 'string', ...extra });
const boolean = (description?: string): SchemaObject => ({ type: 'boolean', ...(description ? { description } : {}) });
const integer = (minimum: number, maximum: number, extra: SchemaObject = {}): SchemaObject => ({ type: 'integer', minimum, maximum, ...extra });
const arrayOf = (items: SchemaObject, extra: SchemaObject = {}): SchemaObject => ({ type: 'array', items, ...extra });
const oneOf = (values: readonly string[], extra: SchemaObject = {}): SchemaObject => ({ type: 'string', enum: [...values], ...extra });
const trueOnly = (description: string): SchemaObject => ({ type: 'boolean', const: true, description });
/** Sent as a PATCH body: at least one property. */
const patchOf = (properties: Record<string, SchemaObject>) => object(properties, [], { minProperties: 1 });
/** Fields Gatehouse sets and returns, never accepted in requests. */
const timestamps = { created_at: string({ format: 'date-time' }), updated_at: string({ format: 'date-time' }) };

const webUrl = (description: string) => string({ format: 'uri', pattern: '^https?://', maxLength: 2000, description });
const email = (description: string) => string({ format: 'email', maxLength: 254, description });
const urlList = (description: string) => arrayOf(string({ minLength: 1, maxLength: 2000 }), { maxItems: 100, uniqueItems: true, description });
const displayName = (maxLength: number, description: string) => string({ minLength: 1, maxLength, pattern: '^[^<>]+$', description });

const APP_TYPES = ['regular_web', 'spa', 'native', 'non_interactive'] as const satisfies readonly AppType[];
export const API_SIGNING_ALGS = [...SIGNING_ALGS, 'HS256'] as const satisfies readonly ApiSigningAlg[];
const USER_POLICIES = ['allow_all', 'require_client_grant', 'deny_all'] as const satisfies readonly AccessPolicy[];
export const TOKEN_DIALECTS = ['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'] as const satisfies readonly TokenDialect[];
const SECURITY_MODES = ['strict', 'permissive'] as const;
const REFRESH_TOKEN_LIFETIME_MAX = 31557600;

// Paging, as Auth0 pages lists.

const paging: Record<string, SchemaObject> = {
  page: integer(0, 100000, { default: 0, description: 'Page index of the results to return. First page is 0.' }),
  per_page: integer(1, 100, { default: 50, description: 'Number of results per page.' }),
  include_totals: {
    type: 'boolean',
    default: false,
    description: 'Return results inside an object that contains the total result count (true) or as a direct array of results (false).',
  },
};

/** Where Auth0's API has it (client grants, connections): results after a checkpoint. */
const checkpointPaging: Record<string, SchemaObject> = {
  from: string({ minLength: 1, maxLength: 200, description: 'Checkpoint pagination: the `next` value of the previous page. page and per_page are then ignored.' }),
  take: integer(1, 100, { description: 'Checkpoint pagination: number of results per page (per_page\'s default, 50, when only from is sent). page and per_page are then ignored.' }),
};

export const listQuery = (filters: Record<string, SchemaObject> = {}, options: { checkpoint?: boolean } = {}) =>
  object({ ...filters, ...paging, ...(options.checkpoint ? checkpointPaging : {}) });

/** A plain array, with include_totals `{start, limit, length, total, <plural>}`, and with checkpoint pagination `{<plural>, next}`. */
export const listResponse = (plural: string, item: SchemaObject, options: { checkpoint?: boolean } = {}): SchemaObject => ({
  oneOf: [
    arrayOf(item),
    object(
      { start: { type: 'integer' }, limit: { type: 'integer' }, length: { type: 'integer' }, total: { type: 'integer' }, [plural]: arrayOf(item) },
      ['start', 'limit', 'length', 'total', plural],
    ),
    ...(options.checkpoint ? [object({ [plural]: arrayOf(item), next: string({ description: 'The from value of the next page; absent on the last page.' }) }, [plural])] : []),
  ],
});

// Applications (clients).

const refreshToken = object({
  rotation_type: oneOf(['rotating', 'non-rotating']),
  expiration_type: oneOf(['expiring', 'non-expiring'], { description: 'Strict third-party applications: expiring only.' }),
  leeway: integer(0, 60, { description: 'Seconds a rotated refresh token stays usable.' }),
  token_lifetime: integer(1, REFRESH_TOKEN_LIFETIME_MAX),
  infinite_token_lifetime: boolean(),
  idle_token_lifetime: integer(1, REFRESH_TOKEN_LIFETIME_MAX),
  infinite_idle_token_lifetime: boolean(),
}, [], { description: 'Refresh token settings; a PATCH may send some of them.' });

const clientSettings: Record<string, SchemaObject> = {
  name: displayName(255, 'Name of the application, shown on the consent screen.'),
  description: string({ maxLength: 140 }),
  logo_uri: webUrl('URL of the logo shown on the consent screen.'),
  app_type: oneOf(APP_TYPES, { default: 'regular_web' }),
  is_first_party: boolean('false for a third-party application. Cannot be changed.'),
  third_party_security_mode: oneOf(SECURITY_MODES, { description: 'Third-party applications only: "strict" (default) or, where the tenant allows it, "permissive". Cannot be changed.' }),
  redirection_policy: oneOf(['open_redirect_protection', 'allow_always'], { description: 'Third-party applications default to open_redirect_protection.' }),
  callbacks: urlList('Exact redirect URLs (third-party: https, or http on a loopback host for native applications; no wildcards, no fragments).'),
  allowed_origins: urlList('Origins allowed to make cross-origin requests.'),
  web_origins: urlList('Origins allowed for web message responses.'),
  allowed_logout_urls: urlList('Not available for strict third-party applications.'),
  grant_types: arrayOf(oneOf(GRANT_TYPES), { uniqueItems: true, description: 'Strict third-party: authorization_code, refresh_token, client_credentials (confidential only).' }),
  token_endpoint_auth_method: oneOf(CONFIGURABLE_AUTH_METHODS, { description: 'Defaults to none for spa and native applications, client_secret_post otherwise.' }),
  jwt_configuration: object({
    alg: oneOf(SIGNING_ALGS, { description: 'ID token signing algorithm; RS256 only for strict third-party applications.' }),
    lifetime_in_seconds: integer(1, MAX_TOKEN_LIFETIME),
  }),
  refresh_token: refreshToken,
  client_metadata: {
    type: 'object',
    maxProperties: 10,
    propertyNames: { maxLength: 255, pattern: '^[A-Za-z0-9_-]+$' },
    additionalProperties: string({ maxLength: 255 }),
  },
  oidc_conformant: trueOnly('Always true in Gatehouse.'),
  cross_origin_authentication: boolean('Not available for strict third-party applications.'),
  oidc_logout: object({
    backchannel_logout_urls: arrayOf(webUrl('Where Gatehouse posts a logout token (OpenID Back-Channel Logout) when the user signs out.'), { maxItems: 1, description: 'One URL.' }),
    backchannel_logout_initiators: object({ mode: oneOf(['all'], { description: 'Every sign-out notifies the application.' }) }, ['mode']),
  }, ['backchannel_logout_urls'], { description: 'Back-channel logout, for first-party applications only.' }),
};

export const clientCreateBody = object(clientSettings, ['name']);
export const clientPatchBody = patchOf(clientSettings);
const TRUST = ['trusted', 'pending', 'blocked'] as const satisfies readonly Trust[];
const trust = oneOf(TRUST, { description: 'Self-registered applications: trusted ones get tokens, pending ones await an administrator, blocked ones are refused.' });
export const clientListQuery = listQuery({ is_first_party: boolean(), app_type: oneOf(APP_TYPES), trust });

const credential = object({ credential_type: oneOf(['public_key']), kid: string(), alg: string() }, ['credential_type', 'kid']);
const clientAuthenticationMethods = object({ private_key_jwt: object({ credentials: arrayOf(credential) }, ['credentials']) }, [], {
  description: 'private_key_jwt applications: the keys their client assertions are checked with (from their jwks_uri).',
});

export const clientResponse = object({
  client_id: string(),
  client_secret: string({ description: 'Returned only when the application is created and when its secret is rotated.' }),
  ...clientSettings,
  token_endpoint_auth_method: oneOf(TOKEN_ENDPOINT_AUTH_METHODS, { description: 'private_key_jwt: applications described by a metadata document, with keys from their jwks_uri.' }),
  registration_type: oneOf(['management_api', 'dynamic', 'system']),
  registration_metadata: { type: 'object' },
  last_used_at: string({ format: 'date-time', description: 'When a token was last issued to the application (recorded at most daily).' }),
  external_client_id: string({ description: 'Its client metadata document URL: its client_id in protocol requests and tokens.' }),
  external_metadata_type: oneOf(['cimd']),
  external_metadata_created_by: oneOf(['client', 'admin'], { description: 'client: created on first use of its URL; admin: imported through the Management API.' }),
  jwks_uri: string(),
  token_endpoint_auth_signing_alg: string(),
  client_authentication_methods: clientAuthenticationMethods,
  trust,
  ...timestamps,
}, ['client_id', 'name', 'app_type', 'is_first_party', 'grant_types', 'token_endpoint_auth_method']);

export const clientTrustBody = object({ trust }, ['trust']);

// Client ID Metadata Documents (Auth0's /clients/cimd/preview and /clients/cimd/register).

export const cimdBody = object({
  external_client_id: string({ minLength: 1, maxLength: 2000, description: 'The https URL of the client metadata document (its client_id).' }),
}, ['external_client_id']);
const cimdValidation = object({ valid: boolean(), violations: arrayOf(string()), warnings: arrayOf(string()) }, ['valid', 'violations', 'warnings']);
const cimdMappedFields = object({
  external_client_id: string(),
  name: string(),
  app_type: oneOf(['regular_web', 'native']),
  callbacks: arrayOf(string()),
  logo_uri: string(),
  description: string(),
  grant_types: arrayOf(string()),
  token_endpoint_auth_method: oneOf(['none', 'private_key_jwt']),
  jwks_uri: string(),
  client_authentication_methods: clientAuthenticationMethods,
}, ['external_client_id', 'name', 'app_type', 'callbacks', 'grant_types', 'token_endpoint_auth_method']);
export const cimdPreviewResponse = object({
  client_id: string({ description: 'The application already registered with this external_client_id, if any.' }),
  errors: arrayOf(string(), { description: 'Why the document could not be fetched; validation is then omitted.' }),
  validation: cimdValidation,
  mapped_fields: cimdMappedFields,
});
export const cimdRegisterResponse = object({ client_id: string(), mapped_fields: cimdMappedFields, validation: cimdValidation }, ['client_id', 'mapped_fields', 'validation']);

// APIs (resource servers).

const apiScope = object({
  value: string({ minLength: 1, maxLength: 280, pattern: '^\\S+$' }),
  description: string({ maxLength: 500 }),
}, ['value']);

const resourceServerSettings: Record<string, SchemaObject> = {
  name: displayName(200, 'Defaults to the identifier.'),
  scopes: arrayOf(apiScope, { maxItems: 1000 }),
  signing_alg: oneOf(API_SIGNING_ALGS, { default: 'RS256', description: 'HS256: tokens are signed with the API\'s signing_secret; otherwise with Gatehouse\'s keys (JWKS).' }),
  signing_secret: string({
    minLength: MIN_SIGNING_SECRET_LENGTH, maxLength: 1024,
    description: 'HS256 APIs only: the secret their tokens are signed with, generated when none is sent; sending one rotates it. Returned by create, get and update, not by list.',
  }),
  token_lifetime: integer(1, MAX_TOKEN_LIFETIME, { default: 86400 }),
  token_lifetime_for_web: integer(1, MAX_TOKEN_LIFETIME, { description: 'At most token_lifetime; defaults to 7200 or token_lifetime when shorter.' }),
  token_dialect: oneOf(TOKEN_DIALECTS, {
    default: DEFAULT_TOKEN_DIALECT,
    description: 'Access token profile: access_token (Auth0\'s: adds azp, and gty for client credentials) or rfc9068_profile; the _authz variants add a permissions claim listing the granted scopes. Tokens are always RFC 9068 JWTs (typ at+jwt, client_id, jti).',
  }),
  allow_offline_access: boolean('Whether refresh tokens may be issued for this API (default false).'),
  skip_consent_for_verifiable_first_party_clients: boolean(),
  subject_type_authorization: object({
    user: object({ policy: oneOf(USER_POLICIES, { default: 'allow_all' }) }, ['policy']),
    client: object({ policy: oneOf(['require_client_grant', 'deny_all'], { default: 'require_client_grant' }) }, ['policy']),
  }, [], { description: 'Application access policies for user-delegated and client (machine-to-machine) access.' }),
};

export const resourceServerCreateBody = object({
  identifier: string({ minLength: 1, maxLength: 600, pattern: '^\\S+$', description: 'The audience of the API, an absolute URI preferably. Cannot be changed.' }),
  ...resourceServerSettings,
}, ['identifier']);
export const resourceServerPatchBody = patchOf(resourceServerSettings);
export const resourceServerListQuery = listQuery({
  identifiers: arrayOf(string({ minLength: 1 }), { maxItems: 10, description: 'Only the APIs with these identifiers (repeat the parameter).' }),
});
export const resourceServerResponse = object({
  id: string(),
  identifier: string(),
  is_system: boolean(),
  ...resourceServerSettings,
  ...timestamps,
}, ['id', 'identifier', 'name', 'is_system', 'scopes']);

// Client grants.

const subjectType = oneOf(['user', 'client'], { description: 'user: user-delegated access; client: client credentials. Defaults to client.' });
const grantScopes = arrayOf(string({ minLength: 1, maxLength: 280 }), { uniqueItems: true, description: 'Scopes of the API that the grant allows.' });
const defaultFor = oneOf(['third_party_clients'], { description: 'The default grant of every third-party application; exclusive with client_id.' });

export const clientGrantCreateBody = object({
  client_id: string({ minLength: 1, description: 'The application; exclusive with default_for.' }),
  default_for: defaultFor,
  audience: string({ minLength: 1, maxLength: 600, description: 'Identifier of the API.' }),
  scope: grantScopes,
  allow_all_scopes: boolean('Allow every scope of the API, present and future.'),
  subject_type: subjectType,
}, ['audience']);
export const clientGrantPatchBody = patchOf({
  scope: { ...grantScopes, type: ['array', 'null'] },
  allow_all_scopes: boolean(),
});
export const clientGrantListQuery = listQuery({
  audience: string({ minLength: 1 }), client_id: string({ minLength: 1 }), subject_type: oneOf(['user', 'client']), default_for: defaultFor,
}, { checkpoint: true });
export const clientGrantResponse = object({
  id: string(),
  client_id: string(),
  default_for: defaultFor,
  audience: string(),
  scope: arrayOf(string()),
  allow_all_scopes: boolean(),
  subject_type: subjectType,
  is_system: boolean('Grants Gatehouse made for itself cannot be changed or deleted.'),
  ...timestamps,
}, ['id', 'audience', 'scope', 'subject_type']);

// Connections.

const providerUrl = (description: string) => string({ format: 'uri', pattern: '^https?://', maxLength: 2000, description: `${description} https (http on a loopback host only).` });
const connectionOptions = object({
  disable_signup: boolean('auth0: close sign-up from the login page (default false: open, as in Auth0).'),
  passwordPolicy: { type: ['string', 'null'], enum: [...PASSWORD_POLICY_LEVELS, null], description: `auth0: Auth0's password strength level (default none); never under ${PASSWORD_LENGTH.min} characters.` },
  password_complexity_options: {
    type: ['object', 'null'], additionalProperties: false,
    properties: { min_length: integer(PASSWORD_LENGTH.min, PASSWORD_LENGTH.max, { description: 'Replaces the level\'s minimum length.' }) },
  },
  client_id: string({ minLength: 1, maxLength: 500, description: 'Upstream strategies: the client id registered at the provider.' }),
  client_secret: string({ minLength: 1, maxLength: 2000, description: 'Upstream strategies: the client secret. Write-only: sealed at rest, never returned; a PATCH without it keeps it.' }),
  discovery_url: providerUrl('oidc: the provider\'s discovery document.'),
  issuer: providerUrl('oidc: the provider\'s issuer, when discovery_url is not given (discovered at its well-known path).'),
  type: oneOf(['back_channel', 'front_channel'], { description: 'oidc: back_channel (code flow with PKCE and the client secret, default) or front_channel (ID token posted back, no secret).' }),
  scope: string({ minLength: 1, maxLength: 1000, description: 'Scopes asked of the provider (oidc default "openid profile email"; presets have their own).' }),
  domain_aliases: arrayOf(string({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$' }), { maxItems: 100, uniqueItems: true, description: 'oidc: email domains sent straight to this provider from the login page.' }),
  authorizationURL: providerUrl('oauth2: the authorization endpoint.'),
  tokenURL: providerUrl('oauth2: the token endpoint.'),
  profileURL: providerUrl('oauth2: the profile endpoint, read with the access token (sub or id, email, email_verified, name).'),
  link_by_verified_email: boolean('Upstream strategies: sign a person in to the one existing account with the same verified email (default false; see README).'),
}, [], { minProperties: 1, description: 'Per strategy, as in Auth0 (a PATCH replaces them as a whole, except client_secret).' });

const connectionSettings: Record<string, SchemaObject> = {
  display_name: string({ minLength: 1, maxLength: 128, description: 'Shown on the login page ("Continue with ...").' }),
  is_domain_connection: boolean('Domain connections serve every third-party application (default false).'),
  enabled_clients: arrayOf(string({ minLength: 1 }), { uniqueItems: true, maxItems: 1000, description: 'First-party applications that may use this connection.' }),
  options: connectionOptions,
};
const connectionName = string({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$', description: 'Cannot be changed.' });
const strategy = oneOf(CONNECTION_STRATEGIES, { description: 'auth0 (database), oidc (enterprise OpenID Connect), oauth2 (generic OAuth 2.0), or a social preset. Cannot be changed.' });

export const connectionCreateBody = object({ name: connectionName, strategy, ...connectionSettings }, ['name', 'strategy']);
export const connectionPatchBody = patchOf(connectionSettings);
export const connectionListQuery = listQuery({ name: string({ minLength: 1 }), strategy }, { checkpoint: true });
export const connectionResponse = object({ id: string(), name: string(), strategy, ...connectionSettings, ...timestamps }, ['id', 'name', 'strategy']);

// Users.

const password = string({ minLength: PASSWORD_LENGTH.min, maxLength: PASSWORD_LENGTH.max, description: `${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters.` });
const userSettings: Record<string, SchemaObject> = {
  email: email('Unique within the connection; stored lower-cased.'),
  email_verified: boolean(),
  name: string({ minLength: 1, maxLength: 300 }),
  blocked: boolean(),
};

export const userCreateBody = object({ connection: string({ minLength: 1 }), password, ...userSettings }, ['connection', 'email', 'password']);
export const userPatchBody = patchOf({ ...userSettings, password, connection: string({ minLength: 1, description: 'Must be the user\'s connection.' }) });
export const userListQuery = listQuery({
  q: string({ maxLength: 500, description: 'Search by email only: email:"jane@example.com".' }),
  search_engine: oneOf(['v3']),
});
export const usersByEmailQuery = object({ email: string({ minLength: 1, maxLength: 254 }) }, ['email']);
export const userResponse = object({
  user_id: string(),
  connection: string(),
  logins_count: { type: 'integer' },
  last_login: string({ format: 'date-time' }),
  last_password_reset: string({ format: 'date-time' }),
  identities: arrayOf(object({ connection: string(), user_id: string(), provider: string(), isSocial: boolean() })),
  ...userSettings,
  ...timestamps,
}, ['user_id', 'email', 'connection']);

// Tickets and jobs (single-use links; the verification email).

const ticketSettings: Record<string, SchemaObject> = {
  result_url: webUrl('Where the person is offered to go once done.'),
  user_id: string({ minLength: 1, maxLength: 300 }),
  client_id: string({ minLength: 1, description: 'The application the email and pages name.' }),
  ttl_sec: integer(0, 2592000, { description: 'Seconds the link works (0 or absent: 432000, five days).' }),
};
export const passwordChangeTicketBody = object({
  ...ticketSettings,
  connection_id: string({ minLength: 1, description: 'With email, instead of user_id.' }),
  email: email('With connection_id, instead of user_id.'),
  mark_email_as_verified: boolean('Mark the email verified once the password is changed (default false).'),
});
export const emailVerificationTicketBody = object(ticketSettings, ['user_id']);
export const ticketResponse = object({ ticket: string({ format: 'uri' }) }, ['ticket']);
export const verificationEmailJobBody = object({ user_id: ticketSettings.user_id as SchemaObject, client_id: ticketSettings.client_id as SchemaObject }, ['user_id']);
export const jobResponse = object({
  id: string(), type: oneOf(['verification_email']), status: oneOf(['pending', 'processing', 'completed', 'failed']), created_at: string({ format: 'date-time' }),
}, ['id', 'type', 'status', 'created_at']);

// User blocks (brute-force protection).

const considerBruteForce = boolean('Accepted for compatibility: brute-force protection is always on, so blocks are always listed.');
const identifier = string({ minLength: 1, maxLength: 320, description: 'The email the user signs in with.' });
export const userBlocksQuery = object({ consider_brute_force_enablement: considerBruteForce });
export const userBlocksByIdentifierQuery = object({ identifier, consider_brute_force_enablement: considerBruteForce }, ['identifier']);
export const userUnblockByIdentifierQuery = object({ identifier }, ['identifier']);
export const userBlocksResponse = object({
  blocked_for: arrayOf(object({ identifier: string(), ip: string(), connection: string() }, ['identifier', 'connection'])),
}, ['blocked_for']);

// User grants (consents).

const grantFilters = { user_id: string({ minLength: 1 }), client_id: string({ minLength: 1 }), audience: string({ minLength: 1 }) };
export const userGrantListQuery = listQuery(grantFilters);
export const userGrantDeleteQuery = object({
  user_id: string({ minLength: 1, description: 'Revoke every consent of this user.' }),
  client_id: string({ minLength: 1, description: 'Revoke every consent given to this application: all its connections (Gatehouse\'s addition). Exactly one of user_id and client_id.' }),
});
const activity = object({
  first_used_at: string({ format: 'date-time' }),
  last_used_at: string({ format: 'date-time' }),
  tokens_issued: { type: 'integer', description: 'Tokens issued to the application for the user and this API (counted in aggregate, written every minute).' },
}, ['first_used_at', 'last_used_at', 'tokens_issued'], { description: 'How the application used this consent (Gatehouse\'s addition); absent until it got a token.' });
export const userGrantResponse = object({
  id: string(),
  user_id: string(),
  clientID: string({ description: 'Auth0 spells this field clientID.' }),
  audience: string(),
  scope: arrayOf(string()),
  activity,
  ...timestamps,
}, ['id', 'user_id', 'clientID', 'audience', 'scope']);

// Application usage (Gatehouse's addition).

export const clientActivityQuery = listQuery({
  unused_for_days: integer(1, 3650, { description: 'Only applications that got no token for this many days (and are older than that).' }),
});
export const clientActivityResponse = object({
  client_id: string(),
  name: string(),
  app_type: oneOf(APP_TYPES),
  is_first_party: boolean(),
  registration_type: oneOf(['management_api', 'dynamic', 'system']),
  created_at: string({ format: 'date-time' }),
  last_used_at: string({ format: 'date-time', description: 'The last token issued to the application, for anyone (absent: never).' }),
  connections: { type: 'integer', description: 'Consents users gave it.' },
}, ['client_id', 'name', 'is_first_party', 'created_at', 'connections']);

// Logs.

const logId = string({ pattern: '^[0-9a-f]{32}$', description: 'A log_id (the checkpoint to read after).' });
export const logListQuery = listQuery({
  q: string({ maxLength: 1000, description: `Lucene-style search: field:value terms joined with AND, values exact (quote them when they hold spaces or special characters). Fields: ${LOG_SEARCH_FIELDS.join(', ')}.` }),
  sort: oneOf(['date:1', 'date:-1'], { description: 'date:-1 (newest first, the default) or date:1.' }),
  fields: string({ maxLength: 500, description: 'Comma-separated fields to include (or exclude, with include_fields=false).' }),
  include_fields: { type: 'boolean', default: true, description: 'Whether fields lists the fields to include (true) or to exclude (false).' },
  from: logId,
  take: integer(1, 100, {
    description: 'Checkpoint reading: how many events after from, oldest first. Gatehouse\'s addition: q narrows them, and sort=date:-1 reads the events before from, newest first (Auth0 ignores both there); page, per_page and fields are ignored.',
  }),
});
export const userLogListQuery = listQuery({
  sort: logListQuery.properties.sort,
  fields: logListQuery.properties.fields,
  include_fields: logListQuery.properties.include_fields,
});
export const logEventResponse = object({
  log_id: string(),
  date: string({ format: 'date-time' }),
  type: string({ description: 'The event type code (Auth0\'s where Auth0 has one; README, "Logs").' }),
  description: string(),
  ip: string(),
  user_agent: string(),
  hostname: string(),
  client_id: string(),
  client_name: string(),
  user_id: string(),
  user_name: string(),
  connection: string(),
  audience: string(),
  scope: string(),
  details: { type: 'object' },
});

// Log streams.

const httpHeaders = arrayOf(object({ header: string({ minLength: 1, maxLength: 256 }), value: string({ maxLength: 4096 }) }, ['header', 'value']), { maxItems: 20 });
const sinkSettings: Record<string, SchemaObject> = {
  httpEndpoint: string({ format: 'uri', maxLength: 2000, description: 'Where events are POSTed: https (plain http only to a loopback host).' }),
  httpContentType: string({ minLength: 1, maxLength: 100, description: 'The Content-Type of deliveries (default application/json).' }),
  httpContentFormat: oneOf(['JSONARRAY', 'JSONLINES', 'JSONOBJECT'], { description: 'One JSON array per batch (default), JSON lines, or one JSON object per request.' }),
  httpAuthorization: string({ maxLength: 4096, description: 'Sent as the Authorization header. Kept encrypted; never returned.' }),
  httpCustomHeaders: httpHeaders,
};
const logFilters = arrayOf(object({ type: oneOf(['category']), name: oneOf(LOG_CATEGORIES) }, ['type', 'name']), {
  maxItems: LOG_CATEGORIES.length, description: 'Deliver only events of these categories (none: every event).',
});
const logStreamStatus = oneOf(['active', 'paused', 'suspended'], { description: 'Setting active resumes delivery where it stopped.' });
export const logStreamCreateBody = object({
  name: string({ minLength: 1, maxLength: 200 }),
  type: oneOf(['http']),
  sink: object(sinkSettings, ['httpEndpoint']),
  filters: logFilters,
  isPriority: boolean('Accepted for compatibility; every stream is delivered alike. Cannot be changed.'),
  startFrom: string({ format: 'date-time', description: 'Deliver the events kept from this time on (default: from creation).' }),
}, ['name', 'type', 'sink']);
export const logStreamPatchBody = patchOf({ name: string({ minLength: 1, maxLength: 200 }), status: logStreamStatus, sink: patchOf(sinkSettings), filters: logFilters });
export const logStreamResponse = object({
  id: string(),
  name: string(),
  type: oneOf(['http']),
  status: logStreamStatus,
  status_reason: string({ description: 'Why the stream is suspended, or the last delivery problem while it retries (Gatehouse\'s addition).' }),
  sink: object({ httpEndpoint: sinkSettings.httpEndpoint as SchemaObject, httpContentType: string(), httpContentFormat: sinkSettings.httpContentFormat as SchemaObject, httpCustomHeaders: httpHeaders }),
  filters: logFilters,
  isPriority: boolean(),
  ...timestamps,
}, ['id', 'name', 'type', 'status', 'sink', 'filters']);

// Tenant settings.

const colour = (description: string) => string({ pattern: HEX_COLOUR_PATTERN, description });
const tenantSettings: Record<string, SchemaObject> = {
  friendly_name: string({ minLength: 1, maxLength: 255 }),
  picture_url: webUrl('Tenant logo.'),
  support_email: email('Shown to users on error pages.'),
  support_url: webUrl('Shown to users on error pages.'),
  default_audience: string({ maxLength: 600, description: 'Identifier of the API used when a request names none ("" for none).' }),
  flags: object({ enable_dynamic_client_registration: boolean('Open dynamic client registration at /oidc/register.') }),
  dynamic_client_registration_security_mode: oneOf(SECURITY_MODES, { description: 'Security mode of dynamically registered applications; permissive only where the tenant allows it.' }),
  client_id_metadata_document_supported: boolean('Client ID Metadata Documents: clients may use the https URL of their metadata document as client_id (advertised in discovery). Default false.'),
  self_registered_clients: object({
    initial_trust: object({
      dynamic_registration: oneOf(['trusted', 'pending'], { description: 'What a client registered at /oidc/register starts as (default trusted).' }),
      client_id_metadata_document: oneOf(['trusted', 'pending'], { description: 'What a client first seen by its metadata document URL starts as (default trusted).' }),
    }),
    trust_rules: arrayOf(object({
      cimd_url: string({ maxLength: 2000, description: 'An exact client id URL.' }),
      cimd_url_prefix: string({ maxLength: 2000, description: 'Client id URLs starting with this.' }),
      redirect_host: string({ minLength: 1, maxLength: 253, description: 'The host of a redirect URI: blocks when any redirect URI has it, trusts when all of them have trusted hosts.' }),
      trust: oneOf(['trusted', 'blocked']),
    }, ['trust']), { maxItems: 100, description: 'Decide new clients ahead of time; an exact URL rule wins, then blocking rules, then trusting ones. Replaced whole.' }),
    over_budget: oneOf(['refuse', 'admit_as_pending'], { description: 'A registration over its budget is refused (429, default) or admitted as pending.' }),
  }, [], { description: 'The trust ladder of self-registered applications (dynamic registration and metadata documents).' }),
  branding: object({
    primary_color: colour('Buttons and links. Refused unless white text on it, and it on white and on page_background, reach 4.5:1 (WCAG 2.2 AA).'),
    page_background: colour('Behind the page card. Refused unless the grey page text and primary_color on it reach 4.5:1 (WCAG 2.2 AA).'),
    logo_url: webUrl('Logo shown on login and consent pages.'),
  }),
};
export const tenantSettingsPatchBody = patchOf(tenantSettings);
export const tenantSettingsResponse = object({
  ...tenantSettings,
  allow_permissive_third_party_clients: boolean('From the configuration: whether permissive third-party applications may exist. Read-only.'),
});

// Network ACLs.

const signalList = (maxLength: number, description: string) => arrayOf(string({ minLength: 1, maxLength }), { minItems: 1, maxItems: 20, description });
const needsSource = ' Needs a source configured on the server (README, "Network ACLs").';
const signals = object({
  ipv4_cidrs: signalList(18, 'IPv4 addresses or CIDR ranges.'),
  ipv6_cidrs: signalList(49, 'IPv6 addresses or CIDR ranges.'),
  user_agents: signalList(512, 'User-Agent header values.'),
  geo_country_codes: signalList(2, `ISO 3166-1 alpha-2 country codes.${needsSource}`),
  geo_subdivision_codes: signalList(6, `ISO 3166-2 subdivision codes (US-CA).${needsSource}`),
  asns: arrayOf(integer(1, 4294967295), { minItems: 1, maxItems: 20, description: `Autonomous system numbers.${needsSource}` }),
  ja3_fingerprints: signalList(32, `JA3 TLS client fingerprints, from the TLS-terminating proxy.${needsSource}`),
  ja4_fingerprints: signalList(36, `JA4 TLS client fingerprints, from the TLS-terminating proxy.${needsSource}`),
}, [], { minProperties: 1 });
const aclSettings: Record<string, SchemaObject> = {
  description: string({ minLength: 1, maxLength: 255 }),
  active: boolean('Default true.'),
  priority: integer(1, 100, { default: 50, description: 'Rules apply in ascending priority; unique.' }),
  rule: object({
    scope: oneOf(['management', 'authentication', 'tenant', 'dynamic_client_registration', 'dcr'], { description: '"dcr" is stored as dynamic_client_registration.' }),
    action: object({ block: trueOnly('Refuse the request.'), allow: trueOnly('Let the request through.'), log: trueOnly('Log the match only.') }, [], { minProperties: 1, maxProperties: 1 }),
    match: signals,
    not_match: signals,
  }, ['scope', 'action']),
};
export const networkAclBody = object(aclSettings, ['description', 'rule']);
export const networkAclPatchBody = patchOf(aclSettings);
export const networkAclResponse = object({ id: string(), ...aclSettings, ...timestamps }, ['id', 'description', 'active', 'priority', 'rule']);

export const errorResponse = object({
  statusCode: { type: 'integer' }, error: string(), message: string(), errorCode: string(),
}, ['statusCode', 'error', 'message']);

// Operators (Gatehouse's own: the people who run the tenant through the console).

const operatorRole = oneOf(OPERATOR_ROLES, { description: 'admin: every Management API scope; viewer: the read: scopes.' });
export const operatorResponse = object({
  user_id: string(),
  email: string(),
  name: string(),
  role: operatorRole,
  blocked: boolean(),
  logins_count: { type: 'integer' },
  last_login: string({ format: 'date-time' }),
  ...timestamps,
}, ['user_id', 'email', 'role']);
export const operatorPatchBody = object({ role: operatorRole }, ['role']);
export const invitationCreateBody = object({ email: email('Who is invited; they choose their password when they accept.'), role: operatorRole }, ['email', 'role']);
export const invitationResponse = object({
  id: string(),
  email: string({ description: 'Absent on the first-start link, whose holder chooses it.' }),
  role: operatorRole,
  invited_by: string({ description: 'The operator (user id) or application (client id) that invited; "gatehouse" for the first-start link.' }),
  expires_at: string({ format: 'date-time' }),
  created_at: string({ format: 'date-time' }),
  invitation_url: string({ description: 'The single-use link to hand to the person invited. Returned only when the invitation is made.' }),
}, ['id', 'role', 'invited_by', 'expires_at', 'created_at']);
