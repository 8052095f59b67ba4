import { draftApplication, isLoopbackRedirect, urlProblem, type ApplicationDraft, type GrantType } from './application-rules.ts';
import { RuleError } from './errors.ts';
import { TOKEN_ENDPOINT_AUTH_METHODS, type Application, type ThirdPartySecurityMode } from './model.ts';

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
const REGISTRABLE_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token'];

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
  const native = request.application_type === 'native' || request.redirect_uris.every(isLoopbackRedirect);
  request.redirect_uris.forEach((uri, i) => {
    const problem = urlProblem(uri, 'callback', { thirdParty: true, native });
    if (problem) throw new RegistrationError('invalid_redirect_uri', `redirect_uris[${i}] "${uri.slice(0, 200)}" ${problem}`);
  });
  const authMethod = request.token_endpoint_auth_method ?? 'client_secret_post';
  if (!(TOKEN_ENDPOINT_AUTH_METHODS as readonly string[]).includes(authMethod)) {
    throw new RegistrationError('invalid_client_metadata', `token_endpoint_auth_method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')} (got ${authMethod})`);
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
