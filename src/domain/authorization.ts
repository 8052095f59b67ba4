import type { Application } from './model.ts';
import { isStrictThirdParty } from './applications.ts';
import type { ConsentRequest } from './consent.ts';

/**
 * Authorization request parameters a strict third-party application may send (Auth0's allow-list, plus
 * `response_mode` query/form_post, which real clients send). Custom `ext-*` parameters are allowed too.
 */
export const STRICT_AUTHORIZE_PARAMETERS = new Set([
  'acr_values', 'audience', 'authorization_details', 'client_id', 'code_challenge', 'code_challenge_method', 'connection',
  'correlation_id', 'display', 'dpop_jkt', 'login_hint', 'max_age', 'nonce', 'prompt', 'redirect_uri', 'resource',
  'response_mode', 'response_type', 'scope', 'state', 'ui_locales',
]);

/** Auth0's SDK telemetry (`auth0Client`, a base64 JSON naming the SDK): ignored, never a reason to refuse a request. */
const SDK_TELEMETRY_PARAMETERS = new Set(['auth0Client']);

/** How a client authenticates in the body of a back-channel request, such as a pushed authorization request (RFC 9126). */
const CLIENT_AUTHENTICATION_PARAMETERS = new Set(['client_secret', 'client_assertion', 'client_assertion_type']);

/** Scopes that ask for the user's identity (ID token, userinfo claims); strict third-party applications get none. */
export const IDENTITY_SCOPES = new Set(['openid', 'profile', 'email', 'address', 'phone']);

/**
 * The identity scopes Gatehouse delivers, with the claims each one releases (oidc-provider's `claims`). The others
 * (`address`, `phone`) release nothing, since users have no such data: they are never asked for or granted.
 */
export const IDENTITY_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'updated_at'],
};

/** Scopes about the user and the session rather than an API, that a token or a claim delivers: identity scopes and `offline_access`. */
export const isProtocolScope = (scope: string) => scope === 'offline_access' || Object.hasOwn(IDENTITY_CLAIMS, scope);

/**
 * Why a strict third-party application's authorization request is refused, or undefined when it is acceptable.
 * PKCE and redirect URIs are checked by the protocol layer; this covers what Auth0's strict mode adds. A pushed
 * authorization request (RFC 9126) gets the same rules, applied to the parameters it pushes (plus the client's
 * authentication, which a pushed request carries in its body).
 */
export function strictAuthorizationViolation(app: Application, request: { parameterNames: Iterable<string>; responseMode?: string; route: string }): string | undefined {
  if (!isStrictThirdParty(app)) return undefined;
  const pushed = request.route === 'pushed_authorization_request';
  const rejected = [...request.parameterNames].filter((name) => !STRICT_AUTHORIZE_PARAMETERS.has(name) && !name.startsWith('ext-')
    && !SDK_TELEMETRY_PARAMETERS.has(name) && !(pushed && CLIENT_AUTHENTICATION_PARAMETERS.has(name)));
  if (rejected.length) return `parameter${rejected.length > 1 ? 's' : ''} ${rejected.join(', ')} ${rejected.length > 1 ? 'are' : 'is'} not allowed for third-party applications`;
  if (request.responseMode && !['query', 'form_post'].includes(request.responseMode)) return `response_mode ${request.responseMode} is not allowed for third-party applications`;
  return undefined;
}

/**
 * The scopes an authorization request actually asks for. Strict third-party applications get API scopes only
 * (identity scopes are ignored, as Auth0 documents); `offline_access` counts only for applications allowed refresh
 * tokens. Unlike OIDC's rule, `offline_access` does not need `prompt=consent`: consent is explicit where it matters.
 */
export function effectiveRequestedScopes(app: Application, requested: readonly string[]): string[] {
  const unique = [...new Set(requested.filter(Boolean))];
  return unique.filter((scope) => {
    if (scope === 'offline_access') return app.grant_types.includes('refresh_token');
    return !(isStrictThirdParty(app) && IDENTITY_SCOPES.has(scope));
  });
}

/**
 * What an authorization asks for, and so what consent is asked for, stored and granted: per API the requested scopes
 * it allows this application (`apis`: each API's allowed scopes, from `decideApiAccess`), and the protocol scopes
 * something delivers. The one answer for the interaction policy, the consent page, the grant it saves and the
 * password grant.
 */
export function authorizationRequest(app: Application, requested: readonly string[], apis: ReadonlyMap<string, ReadonlySet<string>>): ConsentRequest {
  const scopes = effectiveRequestedScopes(app, requested);
  return {
    resourceScopes: Object.fromEntries([...apis].map(([identifier, allowed]) => [identifier, scopes.filter((scope) => allowed.has(scope))])),
    oidcScopes: scopes.filter(isProtocolScope),
  };
}

/** The `scope` parameter of a decided request: the requested scopes it kept, in the order they were sent. */
export function scopeParameter(requested: readonly string[], request: ConsentRequest): string {
  const kept = new Set([...request.oidcScopes, ...Object.values(request.resourceScopes).flat()]);
  return [...new Set(requested)].filter((scope) => kept.has(scope)).join(' ');
}

/** The APIs a request names: RFC 8707 `resource`, else Auth0's `audience` (the tenant's default applies when none). */
export function requestedApis(request: { resource?: unknown; audience?: unknown }): string[] {
  return [request.resource ?? request.audience].flat().filter((value): value is string => typeof value === 'string' && value !== '');
}

/** `audience` (Auth0) and `resource` (RFC 8707) mean the same; naming two different APIs is an error. */
export function conflictingTarget(audience: string | undefined, resource: string | string[] | undefined): string | undefined {
  if (!audience || resource === undefined) return undefined;
  const resources = [resource].flat();
  return resources.length === 1 && resources[0] === audience ? undefined : `audience "${audience}" and resource "${resources.join(' ')}" name different APIs: send one of them`;
}

/**
 * oidc-provider cannot issue a code that grants nothing, so a request naming no scope the application may get is
 * refused up front, with the scopes it could ask for. Returns that description, or undefined when something is grantable.
 */
export function nothingToGrant(scopes: readonly string[], apiScopes: ReadonlyMap<string, ReadonlySet<string>>): string | undefined {
  const grantable = scopes.some((scope) => isProtocolScope(scope) || [...apiScopes.values()].some((allowed) => allowed.has(scope)));
  if (grantable) return undefined;
  const offers = [...apiScopes].map(([api, allowed]) => `${api}: ${[...allowed].join(' ') || '(none)'}`).join('; ');
  return `the request names no scope this application may be granted; ask for at least one of ${offers || 'the scopes of an API'}`;
}

/**
 * Requested scopes the application may never be granted here: neither a scope about the user or the session
 * (identity scopes, `offline_access`: ignored where they do not apply) nor one any requested API allows it. They are
 * left out of what is granted (RFC 6749 §3.3); a request that can gain nothing else is refused with them named
 * (src/oidc/interaction-policy.ts), which ends a client's step-up loop.
 */
export function unreachableScopes(requested: readonly string[], apis: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  return [...new Set(requested.filter(Boolean))].filter((scope) => !isProtocolScope(scope) && !IDENTITY_SCOPES.has(scope)
    && ![...apis.values()].some((allowed) => allowed.has(scope)));
}

/**
 * Silent authentication in an iframe (`response_mode=web_message`) posts the response to the parent page: Auth0 allows
 * it only when the redirect URI's origin is one of the application's `web_origins`. Returns why a request is refused.
 */
export function webMessageViolation(app: Pick<Application, 'web_origins'>, responseMode: string | undefined, redirectUri: string | undefined): string | undefined {
  if (responseMode !== 'web_message') return undefined;
  const origin = URL.parse(redirectUri ?? '')?.origin;
  if (origin && app.web_origins.some((allowed) => allowed.replace(/\/$/, '') === origin)) return undefined;
  return `response_mode web_message needs the origin of redirect_uri (${origin ?? 'none'}) among the application's web_origins`;
}
