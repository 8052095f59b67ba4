import {
  carriesCredentials, DEVICE_CODE_GRANT, enabledGrantTypes, FIRST_PARTY_GRANT_TYPES, isConfidential, isLoopbackRedirect, isNativeApplication, isStrictThirdParty, LOOPBACK_HOSTS,
  usesClientSecret,
} from './applications.ts';
import { invalidBody, notSupported } from './errors.ts';
import type { Application, RefreshTokenSettings } from './model.ts';
import { applyPatch } from './updates.ts';

/**
 * How applications are created and changed through the Management API: Auth0's defaults, and the restrictions of
 * third-party applications (spec §1, §2.6, §2.7). The protocol layer reads the result through applications.ts.
 */

export const GRANT_TYPES = ['authorization_code', 'implicit', 'refresh_token', 'client_credentials', 'password', DEVICE_CODE_GRANT] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** OAuth 2.1 alignment: strict third-party applications never use implicit or password grants. */
const STRICT_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];

/** What an administrator may set on an application. Nested objects may be sent in part. */
export type ApplicationSettings = Required<Pick<Application,
  'name' | 'description' | 'logo_uri' | 'app_type' | 'is_first_party' | 'third_party_security_mode' | 'redirection_policy' | 'callbacks'
  | 'allowed_origins' | 'web_origins' | 'allowed_logout_urls' | 'token_endpoint_auth_method' | 'client_metadata' | 'oidc_conformant'
  | 'cross_origin_authentication' | 'oidc_logout'
>> & {
  grant_types: GrantType[];
  jwt_configuration: Partial<Application['jwt_configuration']>;
  refresh_token: Partial<RefreshTokenSettings>;
};

export type ApplicationCreate = Partial<ApplicationSettings> & Pick<ApplicationSettings, 'name'>;
export type ApplicationPatch = Partial<ApplicationSettings>;

/** A new application, before Gatehouse gives it an id and (when confidential) a secret. */
export type ApplicationDraft = Omit<Application, 'client_id' | 'client_secret_hash'>;

/**
 * The curated property list of strict third-party applications (spec §2.6). Everything else, such as logout URLs or
 * cross-origin authentication, is refused by name, even when sent with its default value.
 */
export const STRICT_THIRD_PARTY_PROPERTIES: ReadonlySet<keyof ApplicationSettings> = new Set<keyof ApplicationSettings>([
  'name', 'description', 'logo_uri', 'app_type', 'is_first_party', 'third_party_security_mode', 'redirection_policy',
  'callbacks', 'allowed_origins', 'web_origins', 'grant_types', 'token_endpoint_auth_method', 'jwt_configuration',
  'refresh_token', 'client_metadata', 'oidc_conformant',
]);

/**
 * What an application's metadata document decides (CIMD, as Auth0 keeps it): changed by changing the document and fetching
 * it again, never through the Management API.
 */
export const CIMD_DOCUMENT_FIELDS: ReadonlySet<keyof ApplicationSettings> = new Set<keyof ApplicationSettings>(['name', 'logo_uri', 'callbacks', 'token_endpoint_auth_method']);

export interface ThirdPartyPolicy {
  /** From the tenant configuration: only then may permissive third-party applications be created. */
  allowPermissiveThirdParty: boolean;
}

const isPublicType = (appType: Application['app_type']) => appType === 'spa' || appType === 'native';

/**
 * Refresh tokens always expire by default (30 days, 15 idle); public applications rotate them, as OAuth 2.1 and the
 * MCP specification require for public clients.
 */
export const defaultRefreshToken = (publicClient: boolean): RefreshTokenSettings => ({
  rotation_type: publicClient ? 'rotating' : 'non-rotating',
  expiration_type: 'expiring',
  leeway: 0,
  token_lifetime: 2592000,
  infinite_token_lifetime: false,
  idle_token_lifetime: 1296000,
  infinite_idle_token_lifetime: false,
});

export function draftApplication(input: ApplicationCreate, policy: ThirdPartyPolicy, now: string): ApplicationDraft {
  const isFirstParty = input.is_first_party ?? true;
  if (isFirstParty && input.third_party_security_mode !== undefined) {
    throw invalidBody('third_party_security_mode applies to third-party applications only (is_first_party: false)');
  }
  const mode = isFirstParty ? undefined : input.third_party_security_mode ?? 'strict';
  if (mode === 'permissive' && !policy.allowPermissiveThirdParty) {
    throw invalidBody('This tenant cannot create permissive third-party applications: omit third_party_security_mode or set it to "strict"');
  }
  if (mode === 'strict') refuseUncuratedProperties(input);

  const appType = input.app_type ?? 'regular_web';
  const authMethod = input.token_endpoint_auth_method ?? (isPublicType(appType) ? 'none' : 'client_secret_post');
  const redirectionPolicy = input.redirection_policy ?? (mode ? 'open_redirect_protection' : undefined);
  const app: ApplicationDraft = {
    name: input.name,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.logo_uri !== undefined ? { logo_uri: input.logo_uri } : {}),
    app_type: appType,
    is_first_party: isFirstParty,
    ...(mode ? { third_party_security_mode: mode } : {}),
    ...(redirectionPolicy ? { redirection_policy: redirectionPolicy } : {}),
    callbacks: input.callbacks ?? [],
    allowed_origins: input.allowed_origins ?? [],
    web_origins: input.web_origins ?? [],
    allowed_logout_urls: input.allowed_logout_urls ?? [],
    // A machine-to-machine application has no user to send through /authorize.
    grant_types: input.grant_types ?? (appType === 'non_interactive' ? ['client_credentials'] : ['authorization_code', 'refresh_token']),
    token_endpoint_auth_method: authMethod,
    jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 3600, ...input.jwt_configuration },
    refresh_token: { ...defaultRefreshToken(authMethod === 'none'), ...input.refresh_token },
    client_metadata: input.client_metadata ?? {},
    oidc_conformant: true,
    cross_origin_authentication: input.cross_origin_authentication ?? false,
    ...(input.oidc_logout ? { oidc_logout: input.oidc_logout } : {}),
    registration_type: 'management_api',
    created_at: now,
    updated_at: now,
  };
  checkApplication(app);
  return app;
}

/** Applies a PATCH: top-level fields replace, `jwt_configuration` and `refresh_token` merge, the result is re-checked. */
export function patchApplication(existing: Application, patch: ApplicationPatch, now: string): Application {
  checkChangeable(existing);
  if (patch.is_first_party !== undefined && patch.is_first_party !== existing.is_first_party) {
    throw invalidBody('is_first_party cannot be changed: an application is first-party or third-party for life; create a new application instead');
  }
  if (patch.third_party_security_mode !== undefined && patch.third_party_security_mode !== existing.third_party_security_mode) {
    throw invalidBody('third_party_security_mode cannot be changed: create a new application to use another security mode');
  }
  if (isStrictThirdParty(existing)) refuseUncuratedProperties(patch);
  if (existing.external_metadata_type === 'cimd') {
    const fromDocument = Object.keys(patch).filter((key) => CIMD_DOCUMENT_FIELDS.has(key as keyof ApplicationSettings));
    if (fromDocument.length) {
      throw invalidBody(`${fromDocument.join(', ')} of application ${existing.client_id} come${fromDocument.length > 1 ? '' : 's'} from its metadata document (${existing.external_client_id}): change the document, then fetch it again with POST /api/v2/clients/cimd/register`);
    }
  }

  const { jwt_configuration, refresh_token, ...topLevel } = patch;
  const { client_secret_hash, ...rest } = applyPatch(existing, topLevel, now);
  const next: Application = {
    ...rest,
    jwt_configuration: { ...existing.jwt_configuration, ...jwt_configuration },
    refresh_token: { ...existing.refresh_token, ...refresh_token },
  };
  checkApplication(next);
  // Public applications have no secret; one turned confidential gets its first secret through rotate-secret.
  return usesClientSecret(next) && client_secret_hash ? { ...next, client_secret_hash } : next;
}

/** The applications Gatehouse runs on (the admin application) are not changed or deleted through the API. */
export function checkChangeable(app: Pick<Application, 'registration_type' | 'client_id'>): void {
  if (app.registration_type === 'system') {
    throw notSupported(`Application ${app.client_id} is Gatehouse's own Management API application: it cannot be changed or deleted through the API`);
  }
}

/** Rotating a secret only makes sense for a confidential application. */
export function checkRotatable(app: Application): void {
  checkChangeable(app);
  if (!usesClientSecret(app)) {
    const how = isConfidential(app) ? 'authenticates with private_key_jwt (keys from its jwks_uri)' : 'is public (token_endpoint_auth_method "none")';
    throw invalidBody(`Application ${app.client_id} ${how} and has no secret to rotate`);
  }
}

function refuseUncuratedProperties(input: ApplicationPatch): void {
  const refused = Object.keys(input).filter((key) => !STRICT_THIRD_PARTY_PROPERTIES.has(key as keyof ApplicationSettings));
  if (refused.length) {
    throw invalidBody(`Property ${refused.join(', ')} is not available for strict third-party applications`);
  }
}

type CheckedApplication = ApplicationDraft | Application;

/** Rules on the whole application, so that a PATCH cannot reach a state that a create would refuse. */
function checkApplication(app: CheckedApplication): void {
  checkGrantTypes(app);
  if (isStrictThirdParty(app) && app.jwt_configuration.alg !== 'RS256') {
    throw invalidBody(`jwt_configuration.alg must be RS256 for strict third-party applications (got ${app.jwt_configuration.alg})`);
  }
  checkRefreshToken(app);
  checkUrls(app, 'callbacks', 'callback');
  checkUrls(app, 'allowed_logout_urls', 'callback');
  checkUrls(app, 'allowed_origins', 'origin');
  checkUrls(app, 'web_origins', 'origin');
  checkBackchannelLogout(app);
}

/** Back-channel logout posts to the application's server: first-party applications only, to one exact URL. */
function checkBackchannelLogout(app: CheckedApplication): void {
  const urls = app.oidc_logout?.backchannel_logout_urls ?? [];
  if (urls.length && !app.is_first_party) throw invalidBody('oidc_logout (back-channel logout) is available to first-party applications only');
  for (const value of urls) {
    const problem = urlProblem(value, 'endpoint', { thirdParty: false, native: false });
    if (problem) throw invalidBody(`oidc_logout.backchannel_logout_urls entry "${value.slice(0, 200)}" ${problem}`);
  }
}

function checkGrantTypes(app: CheckedApplication): void {
  for (const grantType of app.grant_types) {
    if (isStrictThirdParty(app) && !STRICT_GRANT_TYPES.includes(grantType as GrantType)) {
      throw invalidBody(`Grant type ${grantType} is not allowed for strict third-party applications (allowed: ${STRICT_GRANT_TYPES.join(', ')})`);
    }
    if (FIRST_PARTY_GRANT_TYPES.has(grantType) && !app.is_first_party) {
      throw invalidBody(`Grant type ${grantType} is available to first-party applications only`);
    }
  }
  if (app.grant_types.includes('client_credentials') && !usesClientSecret(app)) {
    throw invalidBody('Grant type client_credentials requires a confidential application: set token_endpoint_auth_method to client_secret_post or client_secret_basic');
  }
}

function checkRefreshToken(app: CheckedApplication): void {
  const rt = app.refresh_token;
  if (isStrictThirdParty(app)) {
    if (rt.expiration_type !== 'expiring') throw invalidBody('refresh_token.expiration_type must be "expiring" for strict third-party applications');
    if (rt.infinite_token_lifetime || rt.infinite_idle_token_lifetime) {
      throw invalidBody('refresh_token.infinite_token_lifetime and refresh_token.infinite_idle_token_lifetime must be false for strict third-party applications');
    }
  }
  const bothFinite = rt.expiration_type === 'expiring' && !rt.infinite_token_lifetime && !rt.infinite_idle_token_lifetime;
  if (bothFinite && rt.idle_token_lifetime > rt.token_lifetime) {
    throw invalidBody('refresh_token.idle_token_lifetime cannot be longer than refresh_token.token_lifetime');
  }
}

type UrlList = 'callbacks' | 'allowed_logout_urls' | 'allowed_origins' | 'web_origins';

function checkUrls(app: CheckedApplication, property: UrlList, kind: UrlKind): void {
  const kindOfApp = { thirdParty: !app.is_first_party, native: isNativeApplication(app), implicit: enabledGrantTypes(app).includes('implicit') };
  for (const value of app[property]) {
    const problem = urlProblem(value, kind, kindOfApp);
    if (problem) throw invalidBody(`${property} entry "${value.slice(0, 200)}" ${problem}`);
  }
}

/** A browser redirect (callback, logout URL), a browser origin, or a server endpoint Gatehouse calls (back-channel logout). */
export type UrlKind = 'callback' | 'origin' | 'endpoint';

/** Schemes that run code or read local files where a browser lands; never a redirect target. */
const DANGEROUS_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:']);

/**
 * Why a callback URL (or logout URL) or an origin is not acceptable, or undefined. Third-party applications get exact
 * https URLs only (http for a native application's loopback redirect, RFC 8252 §7.3). First-party applications keep
 * Auth0's freedoms: plain http, a wildcard for the leftmost subdomain label, and custom schemes for native applications.
 * Redirect URLs also follow the rules /authorize applies to the client (oidc-provider's client metadata checks), so that
 * an application accepted here is never refused there: see `redirectProblem`.
 */
export function urlProblem(value: string, kind: UrlKind, app: { thirdParty: boolean; native: boolean; implicit?: boolean }): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  if (value.includes('#')) return 'must not contain a fragment';
  if (carriesCredentials(url)) return 'must not contain user credentials';
  if (kind === 'endpoint') {
    if (value.includes('*')) return 'must be exact: no wildcards';
    return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'must be an http or https URL';
  }
  if (value.includes('*')) {
    if (app.thirdParty) return 'must be exact: wildcards are not allowed for third-party applications';
    if (!/^\*\.[^*]+\.[^*]+$/.test(url.hostname) || value.indexOf('*') !== value.lastIndexOf('*')) {
      return 'may hold a wildcard only as the leftmost label of the host name (https://*.example.com)';
    }
  }
  const loopbackForNative = app.native && isLoopbackRedirect(value);
  const web = url.protocol === 'https:' || (url.protocol === 'http:' && (!app.thirdParty || loopbackForNative));
  if (kind === 'origin') {
    if (!web) return app.thirdParty ? 'must be an https origin' : 'must be an http or https origin';
    if (value.replace(/\/$/, '') !== url.origin) return `must be an origin only (scheme://host[:port]), such as ${url.origin}`;
    return undefined;
  }
  if (web) return redirectProblem(url, app);
  if (app.thirdParty) return 'must use https (or http on a loopback host, for native applications)';
  if (!app.native || DANGEROUS_SCHEMES.has(url.protocol)) return `must use http or https${app.native ? ', or a custom scheme of your own' : ''}`;
  return undefined;
}

/**
 * OpenID Connect Registration and RFC 8252 on web redirect URLs, as oidc-provider applies them to every request:
 * native applications use http on a loopback host only, and never https there; the implicit flow, which returns
 * tokens in the URL, needs https and no localhost.
 */
function redirectProblem(url: URL, app: { native: boolean; implicit?: boolean }): string | undefined {
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (app.native) {
    if (url.protocol === 'http:' && !loopback) return 'must use https, or http on a loopback host (native applications, RFC 8252)';
    if (url.protocol === 'https:' && loopback) return 'must not use https on a loopback host: native applications use http there (RFC 8252)';
  } else if (app.implicit) {
    if (url.protocol === 'http:') return 'must use https: the implicit flow returns tokens in the URL';
    if (url.hostname === 'localhost') return 'must not use localhost with the implicit flow';
  }
  return undefined;
}
