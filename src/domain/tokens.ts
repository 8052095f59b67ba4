import type { Application, ResourceServer, TokenDialect } from './model.ts';
import { isConfidential, isThirdParty } from './applications.ts';

/** Refresh tokens rotate on every use for third-party and public applications; otherwise as configured. */
export const rotatesRefreshTokens = (app: Application) =>
  isThirdParty(app) || !isConfidential(app) || app.refresh_token.rotation_type === 'rotating';

/**
 * A refresh token needs the refresh_token grant, consented `offline_access`, and every API it is for allowing offline
 * access. Without an API (identity only) only first-party and permissive applications get one.
 */
export function mayIssueRefreshToken(app: Application, scopes: ReadonlySet<string>, apis: readonly ResourceServer[]): boolean {
  if (!app.grant_types.includes('refresh_token') || !scopes.has('offline_access')) return false;
  return apis.length ? apis.every((api) => api.allow_offline_access) : app.third_party_security_mode !== 'strict';
}

/**
 * Seconds a new refresh token may live: the idle lifetime for rotating tokens (each use slides it), never beyond the
 * absolute lifetime counted from the first token of the chain. Third-party tokens always expire.
 */
export function refreshTokenLifetime(app: Application, chainStartedAt: number, now: number): number {
  const settings = app.refresh_token;
  const unlimited = !isThirdParty(app) && (settings.infinite_token_lifetime || settings.expiration_type === 'non-expiring');
  const absoluteLeft = unlimited ? Number.POSITIVE_INFINITY : chainStartedAt + settings.token_lifetime - now;
  const idle = rotatesRefreshTokens(app) && !(settings.infinite_idle_token_lifetime && !isThirdParty(app)) ? settings.idle_token_lifetime : Number.POSITIVE_INFINITY;
  const lifetime = Math.min(absoluteLeft, idle, 10 * 365 * 24 * 3600);
  return Math.max(1, Math.floor(lifetime));
}

/** Auth0's default access token profile. */
export const DEFAULT_TOKEN_DIALECT: TokenDialect = 'access_token';

export const tokenDialectOf = (api: Pick<ResourceServer, 'token_dialect'>): TokenDialect => api.token_dialect ?? DEFAULT_TOKEN_DIALECT;

/**
 * The claims an API's token dialect adds to the RFC 9068 access token Gatehouse always issues (`typ: at+jwt`, `jti`,
 * `client_id`, which its resource-server kit checks): Auth0's profile names the application in `azp` and, for client
 * credentials and password tokens, the grant in `gty`; the `_authz` dialects list the token's API scopes in `permissions`
 * (Gatehouse has no roles: what an application may get is decided by client grants and consent, so the permissions are
 * the scopes granted).
 */
export function dialectClaims(dialect: TokenDialect, token: { clientId: string; scopes: readonly string[]; grant?: 'client-credentials' | 'password' }): Record<string, unknown> {
  const auth0Profile = dialect === 'access_token' || dialect === 'access_token_authz';
  return {
    ...(auth0Profile ? { azp: token.clientId, ...(token.grant ? { gty: token.grant } : {}) } : {}),
    ...(dialect.endsWith('_authz') ? { permissions: [...token.scopes] } : {}),
  };
}

/**
 * RFC 7662 §4: introspection must not tell one client about another's tokens. A client learns the state of the tokens
 * issued to it; for any other token the answer is `{"active": false}`, as for an unknown one.
 */
export const mayIntrospect = (callerClientId: string, tokenClientId: string | undefined) => callerClientId === tokenClientId;
