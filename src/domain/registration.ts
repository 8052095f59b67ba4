import { createHash } from 'node:crypto';
import { draftApplication, urlProblem, type ApplicationDraft, type GrantType } from './application-rules.ts';
import { isConfidential, isLoopbackRedirect } from './applications.ts';
import { RuleError } from './errors.ts';
import { CONFIGURABLE_AUTH_METHODS, type Application, type ThirdPartySecurityMode } from './model.ts';

/** RFC 7591 client metadata Gatehouse understands; anything else a client sends is ignored. */
export interface RegistrationRequest {
  redirect_uris: string[];
  client_name?: string;
  token_endpoint_auth_method?: string;
  grant_types?: string[];
  response_types?: string[];
  application_type?: 'web' | 'native';
  logo_uri?: string;
  client_uri?: string;
  policy_uri?: string;
  tos_uri?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
  scope?: string;
}

/** An RFC 7591 §3.2.2 error. */
export class RegistrationError extends Error {
  readonly error: 'invalid_redirect_uri' | 'invalid_client_metadata';
  constructor(error: RegistrationError['error'], description: string) {
    super(description);
    this.error = error;
  }
}

/** Descriptive metadata kept and echoed as sent (RFC 7591 §2). */
const DESCRIPTIVE = ['client_uri', 'policy_uri', 'tos_uri', 'contacts', 'software_id', 'software_version', 'scope'] as const;
/** The grant types a client that registered itself may use; others it asks for are left out. */
export const REGISTRABLE_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token'];

/** RFC 8252: a native client, said so or with only loopback redirect URIs (whose port then varies, §7.3). */
export const isNativeClient = (applicationType: string | undefined, redirectUris: readonly string[]) =>
  applicationType === 'native' || redirectUris.every(isLoopbackRedirect);

function httpUrlProblem(value: string, httpsOnly: boolean): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || (!httpsOnly && url.protocol === 'http:')) return undefined;
    return httpsOnly ? 'must be an https URL' : 'must be an http or https URL';
  } catch {
    return 'is not an absolute URL';
  }
}

/**
 * Turns a registration into a third-party application in the tenant's DCR security mode. Clients are tolerated as
 * real ones behave: `application_type` is inferred (native when every redirect URI is a loopback one), unsupported grant
 * types are filtered out (client credentials never come through registration), `response_types` must be `code` only.
 */
export function registrationDraft(request: RegistrationRequest, mode: ThirdPartySecurityMode, now: string): ApplicationDraft {
  const native = isNativeClient(request.application_type, request.redirect_uris);
  request.redirect_uris.forEach((uri, i) => {
    const problem = urlProblem(uri, 'callback', { thirdParty: true, native });
    if (problem) throw new RegistrationError('invalid_redirect_uri', `redirect_uris[${i}] "${uri.slice(0, 200)}" ${problem}`);
  });
  const authMethod = request.token_endpoint_auth_method ?? 'client_secret_post';
  if (!(CONFIGURABLE_AUTH_METHODS as readonly string[]).includes(authMethod)) {
    throw new RegistrationError('invalid_client_metadata', `token_endpoint_auth_method must be one of ${CONFIGURABLE_AUTH_METHODS.join(', ')} (got ${authMethod})`);
  }
  const grantTypes = (request.grant_types ?? REGISTRABLE_GRANT_TYPES).filter((g): g is GrantType => (REGISTRABLE_GRANT_TYPES as readonly string[]).includes(g));
  if (!grantTypes.includes('authorization_code')) {
    throw new RegistrationError('invalid_client_metadata', 'grant_types must include authorization_code: registered applications use the authorization code flow with PKCE');
  }
  const otherResponseTypes = (request.response_types ?? []).filter((t) => t !== 'code');
  if (otherResponseTypes.length) {
    throw new RegistrationError('invalid_client_metadata', `response_types must be ["code"] (got ${otherResponseTypes.join(', ')})`);
  }
  for (const field of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const) {
    const value = request[field];
    const problem = value === undefined ? undefined : httpUrlProblem(value, field === 'logo_uri');
    if (problem) throw new RegistrationError('invalid_client_metadata', `${field} ${problem}`);
  }
  const metadata = Object.fromEntries(DESCRIPTIVE.filter((f) => request[f] !== undefined).map((f) => [f, request[f]]));
  try {
    const draft = draftApplication({
      name: request.client_name?.trim() || 'Unnamed application',
      ...(request.logo_uri ? { logo_uri: request.logo_uri } : {}),
      app_type: native ? 'native' : authMethod === 'none' ? 'spa' : 'regular_web',
      is_first_party: false,
      third_party_security_mode: mode,
      callbacks: request.redirect_uris,
      grant_types: grantTypes,
      token_endpoint_auth_method: authMethod as Application['token_endpoint_auth_method'],
    }, { allowPermissiveThirdParty: true }, now);
    return { ...draft, registration_type: 'dynamic', registration_metadata: metadata };
  } catch (err) {
    if (err instanceof RuleError) throw new RegistrationError('invalid_client_metadata', err.message);
    throw err;
  }
}

/** The RFC 7591 §3.2.1 response: the client id, the secret once (confidential clients), and the metadata as registered. */
export function registrationResponse(app: Application, secret: string | undefined) {
  return {
    client_id: app.client_id,
    ...(secret ? { client_secret: secret } : {}),
    client_secret_expires_at: 0,
    client_id_issued_at: Math.floor(Date.parse(app.created_at) / 1000),
    client_name: app.name,
    redirect_uris: app.callbacks,
    grant_types: app.grant_types,
    response_types: ['code'],
    token_endpoint_auth_method: app.token_endpoint_auth_method,
    application_type: app.app_type === 'native' ? 'native' : 'web',
    ...(app.logo_uri ? { logo_uri: app.logo_uri } : {}),
    ...app.registration_metadata,
  };
}

/** A loopback redirect URI without its port, which a native client picks anew each time (RFC 8252 §7.3). */
function withoutLoopbackPort(uri: string): string {
  if (!isLoopbackRedirect(uri)) return uri;
  const url = new URL(uri);
  url.port = '';
  return url.href;
}

/**
 * What identifies a public client's registration: its name, redirect URIs (a loopback one without its port), grant
 * types, authentication method, software_id and software_version. Registering the same again gets the same application
 * back (hosted agents re-register on every connect). Undefined for confidential clients: each gets its own secret,
 * so each registration is a new application.
 */
export function registrationFingerprint(app: Pick<ApplicationDraft, 'name' | 'callbacks' | 'grant_types' | 'token_endpoint_auth_method' | 'registration_metadata'>): string | undefined {
  if (isConfidential(app)) return undefined;
  const identity = [
    app.name, [...new Set(app.callbacks.map(withoutLoopbackPort))].sort(), [...app.grant_types].sort(), app.token_endpoint_auth_method,
    app.registration_metadata?.software_id ?? null, app.registration_metadata?.software_version ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(identity)).digest('base64url');
}

/**
 * An application an administrator changed is found by its registration fingerprint only while the fingerprint still
 * describes it: registering the old metadata again must not hand back an application that no longer has it.
 */
export function withCurrentFingerprint(app: Application): Application {
  if (!app.registration_fingerprint || registrationFingerprint(app) === app.registration_fingerprint) return app;
  const { registration_fingerprint: _stale, ...rest } = app;
  return rest;
}

/**
 * The identities a new application claims, each with its own registration budget: the hosts of its redirect URIs
 * (a loopback host is everyone's, so not an identity), its software_id, the host of its metadata document URL.
 */
export function claimedIdentities(app: Pick<ApplicationDraft, 'callbacks' | 'registration_metadata' | 'external_client_id'>): string[] {
  const hosts = app.callbacks.filter((uri) => !isLoopbackRedirect(uri)).map((uri) => URL.parse(uri)?.hostname.toLowerCase()).filter(Boolean);
  const softwareId = app.registration_metadata?.software_id;
  const documentHost = app.external_client_id ? URL.parse(app.external_client_id)?.hostname.toLowerCase() : undefined;
  return [...new Set([
    ...hosts.map((host) => `redirect-host:${host}`),
    ...(typeof softwareId === 'string' ? [`software-id:${softwareId}`] : []),
    ...(documentHost ? [`document-host:${documentHost}`] : []),
  ])];
}

const DAY_MS = 24 * 3600 * 1000;

/** Last use is recorded to the day: at most one write per application per day on the token path. */
export const useWorthRecording = (app: Pick<Application, 'last_used_at'>, now: number) =>
  !app.last_used_at || now - Date.parse(app.last_used_at) >= DAY_MS;

/**
 * A dynamically registered application is idle, and may be cleaned up, when nobody consented to it and it got no
 * token for `days` days (counting from registration when it never did). Clients that vanish simply re-register.
 */
export function isIdleRegistration(app: Pick<Application, 'registration_type' | 'last_used_at' | 'created_at'>, hasConsents: boolean, days: number, now: number): boolean {
  if (app.registration_type !== 'dynamic' || hasConsents || days <= 0) return false;
  return now - Date.parse(app.last_used_at ?? app.created_at) >= days * DAY_MS;
}
