import type { Application, LogEvent } from './model.ts';

/**
 * The event vocabulary of the tenant log (`/api/v2/logs`, log streams): every type Gatehouse records, what it means, the
 * log stream category it belongs to and the fields it carries. Types are Auth0's codes where Auth0 has one
 * (`auth0: true`); the others are Gatehouse's own, spelled like Auth0's newer codes (`acls_summary`).
 */

/** Auth0's log stream filter categories (`filters: [{ type: 'category', name }]`). */
export const LOG_CATEGORIES = [
  'auth.ancillary.fail', 'auth.ancillary.success', 'auth.login.fail', 'auth.login.notification', 'auth.login.success',
  'auth.logout.fail', 'auth.logout.success', 'auth.signup.fail', 'auth.signup.success', 'auth.silent_auth.fail',
  'auth.silent_auth.success', 'auth.token_exchange.fail', 'auth.token_exchange.success', 'management.fail',
  'management.success', 'scim.event', 'system.notification', 'user.fail', 'user.notification', 'user.success', 'actions', 'other',
] as const;
export type LogCategory = (typeof LOG_CATEGORIES)[number];

/** The fields of an event beside `log_id`, `date`, `type`, `description`, the request's facts and `details`. */
export type LogSubjectField = 'client_id' | 'client_name' | 'user_id' | 'user_name' | 'connection' | 'audience' | 'scope';

/** Who asked, read from the request by the HTTP layer: the client address (src/http/client-address.ts), its agent, the host. */
export interface RequestFacts {
  ip?: string;
  user_agent?: string;
  hostname?: string;
}

export interface LogEventType {
  /** Auth0's own wording for its codes; the default description of the events of this type. */
  description: string;
  category: LogCategory;
  /** Whether the code is Auth0's (else Gatehouse's own). */
  auth0: boolean;
  /** The subject fields an event of this type carries; any other is dropped. */
  fields: readonly LogSubjectField[];
}

const APP = ['client_id', 'client_name'] as const;
const USER = ['user_id', 'user_name', 'connection'] as const;
const LOGIN = [...APP, ...USER] as const;
const EXCHANGE = [...APP, ...USER, 'audience', 'scope'] as const;
const CONSENT = [...APP, 'user_id', 'user_name', 'audience', 'scope'] as const;

const auth0 = (description: string, category: LogCategory, fields: readonly LogSubjectField[]): LogEventType => ({ description, category, auth0: true, fields });
const own = (description: string, category: LogCategory, fields: readonly LogSubjectField[]): LogEventType => ({ description, category, auth0: false, fields });

export const LOG_EVENT_TYPES = {
  // Sign-in (login page, password grant, host sign-in in middleware mode).
  s: auth0('Success Login', 'auth.login.success', LOGIN),
  f: auth0('Failed Login', 'auth.login.fail', LOGIN),
  fp: auth0('Failed Login (Incorrect Password)', 'auth.login.fail', LOGIN),
  fu: auth0('Failed Login (Invalid Email/Username)', 'auth.login.fail', LOGIN),
  limit_wc: auth0('Blocked Account', 'auth.login.fail', LOGIN),
  limit_mu: auth0('Blocked IP Address', 'auth.login.fail', []),
  account_unblocked: own('Account unblocked: its failed sign-ins were forgiven', 'user.success', USER),
  // Logout (RP-initiated logout).
  slo: auth0('Success Logout', 'auth.logout.success', LOGIN),
  flo: auth0('Failed Logout', 'auth.logout.fail', APP),
  // Sign-up, password and email verification (issue 17's pages and tickets emit them).
  ss: auth0('Success Signup', 'auth.signup.success', LOGIN),
  fs: auth0('Failed Signup', 'auth.signup.fail', LOGIN),
  scp: auth0('Success Change Password', 'user.success', LOGIN),
  fcp: auth0('Failed Change Password', 'user.fail', LOGIN),
  scpr: auth0('Success Change Password Request', 'user.success', LOGIN),
  fcpr: auth0('Failed Change Password Request', 'user.fail', LOGIN),
  sv: auth0('Success Verification Email', 'user.success', LOGIN),
  fv: auth0('Failed Verification Email', 'user.fail', LOGIN),
  svr: auth0('Success Verification Email Request', 'user.success', LOGIN),
  fvr: auth0('Failed Verification Email Request', 'user.fail', LOGIN),
  // Consent (Auth0 records none; Gatehouse's third-party consent is an audit fact).
  consent_given: own('Consent given', 'user.success', CONSENT),
  consent_denied: own('Consent denied', 'user.fail', CONSENT),
  consent_revoked: own('Consent revoked, with the tokens issued under it', 'user.success', CONSENT),
  // Token exchanges, per grant type (tokenExchangeType picks the code).
  seacft: auth0('Success Exchange (Authorization Code for Access Token)', 'auth.token_exchange.success', EXCHANGE),
  feacft: auth0('Failed Exchange (Authorization Code for Access Token)', 'auth.token_exchange.fail', EXCHANGE),
  seccft: auth0('Success Exchange (Client Credentials for Access Token)', 'auth.token_exchange.success', EXCHANGE),
  feccft: auth0('Failed Exchange (Client Credentials for Access Token)', 'auth.token_exchange.fail', EXCHANGE),
  sertft: auth0('Success Exchange (Refresh Token for Access Token)', 'auth.token_exchange.success', EXCHANGE),
  fertft: auth0('Failed Exchange (Refresh Token for Access Token)', 'auth.token_exchange.fail', EXCHANGE),
  ferrt: auth0('Refresh Token Reuse Detected: the grant and every token issued under it were revoked', 'auth.token_exchange.fail', EXCHANGE),
  sepft: auth0('Success Exchange (Password for Access Token)', 'auth.token_exchange.success', EXCHANGE),
  fepft: auth0('Failed Exchange (Password for Access Token)', 'auth.token_exchange.fail', EXCHANGE),
  sede: auth0('Success Exchange (Device Code for Access Token)', 'auth.token_exchange.success', EXCHANGE),
  fede: auth0('Failed Exchange (Device Code for Access Token)', 'auth.token_exchange.fail', EXCHANGE),
  token_exchange_succeeded: own('Success Exchange (another grant type)', 'auth.token_exchange.success', EXCHANGE),
  token_exchange_failed: own('Failed Exchange (another grant type)', 'auth.token_exchange.fail', EXCHANGE),
  // Dynamic client registration (RFC 7591) and Client ID Metadata Documents (issue 14 emits the CIMD ones).
  client_registered: own('Application registered itself (dynamic client registration)', 'other', APP),
  client_registration_failed: own('Dynamic client registration refused', 'other', APP),
  cimd_fetch_succeeded: own('Client ID Metadata Document fetched', 'other', APP),
  cimd_fetch_failed: own('Client ID Metadata Document fetch failed', 'other', APP),
  cimd_client_registered: own('Application created or updated from its Client ID Metadata Document', 'other', APP),
  trust_level_changed: own('Trust level of a self-registered application changed', 'other', APP),
  // The Management API: every write, naming the application that made it, and the operator for the console's.
  sapi: auth0('Success API Operation', 'management.success', LOGIN),
  fapi: auth0('Failed API Operation', 'management.fail', LOGIN),
  // Protection.
  api_limit: auth0('Rate Limit on the Authentication or Management APIs', 'system.notification', APP),
  acls_summary: auth0('Network ACLs Summary', 'other', []),
} as const satisfies Record<string, LogEventType>;

export type LogEventCode = keyof typeof LOG_EVENT_TYPES;

export const isLogEventCode = (type: string): type is LogEventCode => Object.hasOwn(LOG_EVENT_TYPES, type);

/** What a caller records: the subject fields of its type (others are dropped), a description when it says more, details. */
export type LogEventInput = { [K in LogSubjectField]?: string | undefined } & {
  description?: string;
  details?: Record<string, unknown>;
};

/** Why a registration was refused, for `client_registration_failed` (`details.reason`) and the metrics. */
export type RegistrationRefusalReason = 'disabled' | 'acl' | 'rate_limited' | 'cap_reached' | 'invalid_metadata';

/** The event codes of a token request's outcome, by grant type (Auth0's `eXft`: exchange X for token). */
const EXCHANGE_CODES: Record<string, [success: LogEventCode, failure: LogEventCode]> = {
  authorization_code: ['seacft', 'feacft'],
  client_credentials: ['seccft', 'feccft'],
  refresh_token: ['sertft', 'fertft'],
  password: ['sepft', 'fepft'],
  'urn:ietf:params:oauth:grant-type:device_code': ['sede', 'fede'],
};

export const tokenExchangeType = (grantType: string | undefined, ok: boolean): LogEventCode =>
  (EXCHANGE_CODES[grantType ?? ''] ?? ['token_exchange_succeeded', 'token_exchange_failed'])[ok ? 0 : 1];

/** How an application came to be, as the metrics and token events name it. */
export type ApplicationKind = 'first_party' | 'third_party' | 'dynamic' | 'cimd';

export const applicationKind = (app: Pick<Application, 'is_first_party' | 'registration_type' | 'external_metadata_type'>): ApplicationKind => {
  if (app.external_metadata_type === 'cimd') return 'cimd';
  return app.registration_type === 'dynamic' ? 'dynamic' : app.is_first_party ? 'first_party' : 'third_party';
};

/** Keys that must never reach an event, at any depth of `details`: credentials of every kind. */
const SECRET_KEY = /secret|password|passwd|(^|[_-])token($|[_-]value)|authorization$|cookie|code_verifier|assertion|credential|^code$|private|api[-_]?key/i;

/** `details` without anything that looks like a credential, to any depth (a last line of defence: emitters send none). */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[truncated]';
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => withoutSecrets(item, depth + 1));
  if (value === null || typeof value !== 'object') return typeof value === 'string' && value.length > 1000 ? `${value.slice(0, 1000)}…` : value;
  return Object.fromEntries(Object.entries(value)
    .filter(([key, item]) => !SECRET_KEY.test(key) && item !== undefined)
    .map(([key, item]) => [key, withoutSecrets(item, depth + 1)]));
}

/**
 * An event of `type` as stored and returned (Auth0's shape), but for its `log_id`, which the log gives it when it is
 * written: the type's subject fields only, the request's facts, and details without credentials.
 */
export function buildLogEvent(type: LogEventCode, input: LogEventInput, facts: RequestFacts, date: Date): Omit<LogEvent, 'log_id'> {
  const definition: LogEventType = LOG_EVENT_TYPES[type];
  const event: Omit<LogEvent, 'log_id'> = { date: date.toISOString(), type, description: input.description ?? definition.description };
  for (const field of definition.fields) {
    const value = input[field];
    if (value) event[field] = value;
  }
  if (facts.ip) event.ip = facts.ip;
  if (facts.user_agent) event.user_agent = facts.user_agent.slice(0, 512);
  if (facts.hostname) event.hostname = facts.hostname;
  if (input.details && Object.keys(input.details).length) event.details = withoutSecrets(input.details) as Record<string, unknown>;
  return event;
}

export const categoryOf = (type: string): LogCategory => (isLogEventCode(type) ? LOG_EVENT_TYPES[type].category : 'other');
