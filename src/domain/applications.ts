import type { Application, ClientAssertionAlg, PublicJwk, SigningAlg } from './model.ts';

export const isThirdParty = (app: Pick<Application, 'is_first_party'>) => !app.is_first_party;

export const isStrictThirdParty = (app: Pick<Application, 'is_first_party' | 'third_party_security_mode'>) =>
  !app.is_first_party && app.third_party_security_mode === 'strict';

export const isConfidential = (app: Pick<Application, 'token_endpoint_auth_method'>) => app.token_endpoint_auth_method !== 'none';

/** Applications that authenticate with a secret Gatehouse issued (shown once, stored hashed, rotatable). */
export const usesClientSecret = (app: Pick<Application, 'token_endpoint_auth_method'>) =>
  app.token_endpoint_auth_method === 'client_secret_post' || app.token_endpoint_auth_method === 'client_secret_basic';

/**
 * A `client_id` that is a URL: a client described by a metadata document (CIMD). Ids Gatehouse makes never look like one
 * (letters, digits and `_`), so a URL never names a stored application by its own id.
 */
export const isExternalClientId = (clientId: string) => /^https?:\/\//i.test(clientId);

/** What an application is called in protocol requests and tokens: its external client id (CIMD URL), else its own id. */
export const protocolClientId = (app: Pick<Application, 'client_id' | 'external_client_id'>) => app.external_client_id ?? app.client_id;

/**
 * PKCE is required of public applications and of every strict third-party application; when the application is not
 * known (never expected in a request that identified its client), it is required too.
 */
export const requiresPkce = (app: Pick<Application, 'token_endpoint_auth_method' | 'is_first_party' | 'third_party_security_mode'> | undefined) =>
  !app || !isConfidential(app) || isStrictThirdParty(app);

/**
 * Whether errors after the application is identified must render Gatehouse's page instead of redirecting. An error
 * still goes back to a registered loopback redirect URI (a native client on the person's own computer, RFC 8252): that
 * cannot send anyone to someone else's site, and it is how a native client (an MCP client in a terminal) learns why.
 */
export const protectsAgainstOpenRedirect = (app: Pick<Application, 'is_first_party' | 'third_party_security_mode' | 'redirection_policy'>, redirectUri?: string) =>
  isStrictThirdParty(app) && app.redirection_policy !== 'allow_always' && !(redirectUri !== undefined && isLoopbackRedirect(redirectUri));

/** RFC 8628's device authorization grant, under the name Auth0 stores in `grant_types`. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const ALL_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password', DEVICE_CODE_GRANT] as const;

/** Grant types that sign a user in without the authorization endpoint's safeguards: first-party applications only. */
export const FIRST_PARTY_GRANT_TYPES: ReadonlySet<string> = new Set(['password', DEVICE_CODE_GRANT]);

/**
 * The grant types an application may ever use, whatever its stored configuration says. Strict third-party:
 * code and refresh, plus client credentials for applications with a secret created by an administrator (never through
 * dynamic registration or a metadata document). Permissive third-party: all but password and device code. First-party: all.
 */
export function permittedGrantTypes(app: Pick<Application, 'is_first_party' | 'third_party_security_mode' | 'token_endpoint_auth_method' | 'registration_type'>): Set<string> {
  if (isStrictThirdParty(app)) {
    const clientCredentials = usesClientSecret(app) && app.registration_type === 'management_api';
    return new Set(['authorization_code', 'refresh_token', ...(clientCredentials ? ['client_credentials'] : [])]);
  }
  return new Set(ALL_GRANT_TYPES.filter((g) => app.is_first_party || !FIRST_PARTY_GRANT_TYPES.has(g)));
}

type ResponseType = 'code' | 'id_token token' | 'id_token';

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
  response_types: ResponseType[];
  token_endpoint_auth_method: Application['token_endpoint_auth_method'];
  token_endpoint_auth_signing_alg?: ClientAssertionAlg;
  /** `private_key_jwt` applications: the public keys their client assertions are checked with. */
  jwks?: { keys: PublicJwk[] };
  application_type: 'web' | 'native';
  id_token_signed_response_alg: SigningAlg;
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
}

export function toOidcClientMetadata(app: Application): OidcClientMetadata {
  const grantTypes = enabledGrantTypes(app);
  const responseTypes: ResponseType[] = [];
  if (grantTypes.includes('authorization_code')) responseTypes.push('code');
  if (grantTypes.includes('implicit')) responseTypes.push('id_token token', 'id_token');
  return {
    client_id: protocolClientId(app),
    ...(app.client_secret_hash ? { client_secret: app.client_secret_hash } : {}),
    client_name: app.name,
    redirect_uris: app.callbacks,
    post_logout_redirect_uris: app.allowed_logout_urls,
    grant_types: grantTypes,
    response_types: responseTypes,
    token_endpoint_auth_method: app.token_endpoint_auth_method,
    ...(app.token_endpoint_auth_method === 'private_key_jwt' ? { jwks: app.jwks ?? { keys: [] } } : {}),
    ...(app.token_endpoint_auth_signing_alg ? { token_endpoint_auth_signing_alg: app.token_endpoint_auth_signing_alg } : {}),
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

/** Host names of the user's own machine, as a URL's `hostname` spells them. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** An http redirect to the user's own machine (RFC 8252 §7.3): what native applications may use instead of https. */
export function isLoopbackRedirect(value: string): boolean {
  const url = URL.parse(value);
  return url?.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** Where a redirect URI sends a person: its host, and whether that is their own computer (a native application's loopback callback). */
export function redirectDestination(value: string): { host: string; loopback: boolean } {
  return { host: URL.parse(value)?.host || value, loopback: isLoopbackRedirect(value) };
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
