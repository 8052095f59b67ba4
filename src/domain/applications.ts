import type { Application } from './model.ts';

export const isThirdParty = (app: Pick<Application, 'is_first_party'>) => !app.is_first_party;

export const isStrictThirdParty = (app: Pick<Application, 'is_first_party' | 'third_party_security_mode'>) =>
  !app.is_first_party && app.third_party_security_mode === 'strict';

export const isConfidential = (app: Pick<Application, 'token_endpoint_auth_method'>) => app.token_endpoint_auth_method !== 'none';

/** Whether errors after the application is identified must render Gatehouse's page instead of redirecting. */
export const protectsAgainstOpenRedirect = (app: Pick<Application, 'is_first_party' | 'third_party_security_mode' | 'redirection_policy'>) =>
  isStrictThirdParty(app) && app.redirection_policy !== 'allow_always';

/** RFC 8628's device authorization grant, under the name Auth0 stores in `grant_types`. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const ALL_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password', DEVICE_CODE_GRANT] as const;

/** Grant types that sign a user in without the authorization endpoint's safeguards: first-party applications only. */
export const FIRST_PARTY_GRANT_TYPES: ReadonlySet<string> = new Set(['password', DEVICE_CODE_GRANT]);

/**
 * The grant types an application may ever use, whatever its stored configuration says. Strict third-party:
 * code and refresh, plus client credentials for confidential applications created by an administrator (never through
 * dynamic registration). Permissive third-party: all but password and device code. First-party: all.
 */
export function permittedGrantTypes(app: Pick<Application, 'is_first_party' | 'third_party_security_mode' | 'token_endpoint_auth_method' | 'registration_type'>): Set<string> {
  if (isStrictThirdParty(app)) {
    const clientCredentials = isConfidential(app) && app.registration_type === 'management_api';
    return new Set(['authorization_code', 'refresh_token', ...(clientCredentials ? ['client_credentials'] : [])]);
  }
  return new Set(ALL_GRANT_TYPES.filter((g) => app.is_first_party || !FIRST_PARTY_GRANT_TYPES.has(g)));
}

/** The grant types an application may use now: those it enabled, within those it may ever use. */
export const enabledGrantTypes = (app: Pick<Application, 'grant_types' | 'is_first_party' | 'third_party_security_mode' | 'token_endpoint_auth_method' | 'registration_type'>): string[] => {
  const permitted = permittedGrantTypes(app);
  return app.grant_types.filter((g) => permitted.has(g));
};

/** Native applications get RFC 8252's redirect rules (oidc-provider's `application_type: native`); every other kind the web's. */
export const isNativeApplication = (app: Pick<Application, 'app_type'>) => app.app_type === 'native';

/** The client metadata oidc-provider works with, derived from the stored application. */
export interface OidcClientMetadata {
  client_id: string;
  client_secret?: string;
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: Application['token_endpoint_auth_method'];
  application_type: 'web' | 'native';
  id_token_signed_response_alg: string;
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
}

export function toOidcClientMetadata(app: Application): OidcClientMetadata {
  const grantTypes = enabledGrantTypes(app);
  const responseTypes: string[] = [];
  if (grantTypes.includes('authorization_code')) responseTypes.push('code');
  if (grantTypes.includes('implicit')) responseTypes.push('id_token token', 'id_token');
  return {
    client_id: app.client_id,
    ...(app.client_secret_hash ? { client_secret: app.client_secret_hash } : {}),
    client_name: app.name,
    redirect_uris: app.callbacks,
    post_logout_redirect_uris: app.allowed_logout_urls,
    grant_types: grantTypes,
    response_types: responseTypes,
    token_endpoint_auth_method: app.token_endpoint_auth_method,
    application_type: isNativeApplication(app) ? 'native' : 'web',
    // Display metadata (logo, URIs) stays out: our pages render it, and a bad value must never make the client unusable.
    id_token_signed_response_alg: app.jwt_configuration.alg,
    ...backchannelLogout(app),
  };
}

/** OpenID Back-Channel Logout for first-party applications that register a URL; the logout token names the session (`sid`). */
function backchannelLogout(app: Application): Pick<OidcClientMetadata, 'backchannel_logout_uri' | 'backchannel_logout_session_required'> {
  const [uri] = app.oidc_logout?.backchannel_logout_urls ?? [];
  return app.is_first_party && uri ? { backchannel_logout_uri: uri, backchannel_logout_session_required: true } : {};
}

/** A URL with user credentials (`https://user:pw@host/`): never a callback or an origin, registered or matched. */
export const carriesCredentials = (url: URL) => Boolean(url.username || url.password);

/**
 * Auth0's wildcard callbacks for first-party applications: `https://*.example.com/cb` accepts exactly one extra
 * host label (`https://eu.example.com/cb`), with the same scheme, port, path and query, and no user credentials (refused
 * when registered, so refused when matched). Third-party applications never get wildcards (the Management API refuses
 * them; this rule is only ever asked for first-party ones).
 */
export function matchesWildcardCallback(value: string, registered: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (carriesCredentials(url)) return false;
  return registered.some((pattern) => {
    if (!pattern.includes('://*.')) return false;
    let allowed: URL;
    try {
      allowed = new URL(pattern);
    } catch {
      return false;
    }
    const suffix = allowed.hostname.slice(1); // ".example.com"
    const label = url.hostname.slice(0, -suffix.length);
    return url.protocol === allowed.protocol && url.port === allowed.port && url.pathname === allowed.pathname && url.search === allowed.search
      && !url.hash && url.hostname.endsWith(suffix) && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(label);
  });
}

/**
 * Which browser origins may call the token, revocation and userinfo endpoints for an application: its Auth0
 * `allowed_origins` and `web_origins`, and for public applications the origins of their callbacks (SPAs and
 * registered browser clients exchange codes from where they are redirected to).
 */
export function corsOriginAllowed(app: Pick<Application, 'token_endpoint_auth_method' | 'callbacks' | 'allowed_origins' | 'web_origins'>, origin: string): boolean {
  if (origin === 'null') return false;
  if ([...app.allowed_origins, ...app.web_origins].some((allowed) => allowed.replace(/\/$/, '') === origin)) return true;
  return !isConfidential(app) && app.callbacks.some((uri) => URL.parse(uri)?.origin === origin);
}
