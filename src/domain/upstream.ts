import type { Connection, ConnectionStrategy, User, UserIdentity } from './model.ts';

/**
 * Upstream identity providers: how a connection of each strategy reaches its provider (enterprise OpenID Connect,
 * generic OAuth 2.0 with a profile endpoint, and the social presets built on those two mechanics), and how what the
 * provider says about a person becomes a Gatehouse user.
 */

export type UpstreamStrategy = Exclude<ConnectionStrategy, 'auth0'>;

/** How Gatehouse talks to a provider: OpenID Connect (discovery, ID token, userinfo) or OAuth 2.0 and a profile endpoint. */
export type UpstreamEndpoints =
  | { protocol: 'oidc'; discovery: string; scope: string; channel: 'back_channel' | 'front_channel' }
  | { protocol: 'oauth2'; authorizationURL: string; tokenURL: string; profileURL: string; scope: string; emailsURL?: string };

/** What the operator gives for a preset is only the client id and secret: the rest is here. */
const PRESETS: Record<'google-oauth2' | 'github' | 'windowslive', UpstreamEndpoints> = {
  'google-oauth2': { protocol: 'oidc', discovery: 'https://accounts.google.com', scope: 'openid profile email', channel: 'back_channel' },
  // Microsoft personal accounts through the Microsoft identity platform (OpenID Connect, the consumers tenant).
  windowslive: {
    protocol: 'oidc', discovery: 'https://login.microsoftonline.com/consumers/v2.0/.well-known/openid-configuration', scope: 'openid profile email', channel: 'back_channel',
  },
  github: {
    protocol: 'oauth2',
    authorizationURL: 'https://github.com/login/oauth/authorize',
    tokenURL: 'https://github.com/login/oauth/access_token',
    profileURL: 'https://api.github.com/user',
    // GitHub's profile shows a public address, if any; which addresses are verified is a separate endpoint.
    emailsURL: 'https://api.github.com/user/emails',
    scope: 'read:user user:email',
  },
};

export const isUpstream = (connection: Pick<Connection, 'strategy'>): connection is Pick<Connection, 'strategy'> & { strategy: UpstreamStrategy } =>
  connection.strategy !== 'auth0';

/** Auth0 counts generic OAuth 2.0 connections as social ones, and enterprise OpenID Connect ones as not. */
export const isSocialStrategy = (strategy: ConnectionStrategy) => strategy !== 'auth0' && strategy !== 'oidc';

const DEFAULT_OIDC_SCOPE = 'openid profile email';

/** The endpoints of an upstream connection, from its options or its preset. */
export function upstreamEndpoints(connection: Pick<Connection, 'strategy' | 'options'>): UpstreamEndpoints {
  const options = connection.options ?? {};
  if (connection.strategy === 'oidc') {
    return {
      protocol: 'oidc',
      discovery: options.discovery_url ?? options.issuer ?? '',
      scope: withOpenId(options.scope ?? DEFAULT_OIDC_SCOPE),
      channel: options.type ?? 'back_channel',
    };
  }
  if (connection.strategy === 'oauth2') {
    return { protocol: 'oauth2', authorizationURL: options.authorizationURL ?? '', tokenURL: options.tokenURL ?? '', profileURL: options.profileURL ?? '', scope: options.scope ?? '' };
  }
  const preset = PRESETS[connection.strategy as keyof typeof PRESETS];
  return { ...preset, scope: options.scope ? (preset.protocol === 'oidc' ? withOpenId(options.scope) : options.scope) : preset.scope };
}

/** An OpenID Connect request always asks for `openid` (without it the provider returns no ID token). */
const withOpenId = (scope: string) => {
  const scopes = scope.split(/\s+/).filter(Boolean);
  return (scopes.includes('openid') ? scopes : ['openid', ...scopes]).join(' ');
};

/** What Gatehouse keeps of a person from their provider. */
export interface UpstreamProfile {
  /** Their stable id at the provider. */
  sub: string;
  email?: string;
  /** True only when the provider says so. */
  email_verified: boolean;
  name?: string;
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
const identifier = (value: unknown) => (typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : text(value));

/**
 * A profile from OpenID Connect claims (ID token merged with userinfo) or an OAuth 2.0 profile document. The id is
 * `sub`, or `id` / `user_id` for OAuth 2.0 providers that have no `sub` (GitHub's numeric `id`); `email_verified`
 * counts only when it is `true` (some providers send the string "true").
 */
export function profileFromClaims(claims: Record<string, unknown>, verifiedEmails: readonly string[] = []): UpstreamProfile | undefined {
  const sub = identifier(claims.sub) ?? identifier(claims.id) ?? identifier(claims.user_id);
  if (!sub) return undefined;
  const email = text(claims.email)?.toLowerCase() ?? verifiedEmails[0]?.toLowerCase();
  const verified = claims.email_verified === true || claims.email_verified === 'true' || (email !== undefined && verifiedEmails.some((e) => e.toLowerCase() === email));
  const name = text(claims.name) ?? text(claims.preferred_username) ?? text(claims.login);
  return { sub, ...(email ? { email } : {}), email_verified: verified, ...(name ? { name } : {}) };
}

/** GitHub's `/user/emails`: the primary verified address first, then the other verified ones. */
export function verifiedEmailsOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter((entry): entry is { email: string; primary?: boolean; verified: true } => typeof entry?.email === 'string' && entry.verified === true)
    .sort((a, b) => Number(Boolean(b.primary)) - Number(Boolean(a.primary)))
    .map((entry) => entry.email);
}

/**
 * The user id of a person signed in through an upstream connection: `github|12345` for a connection named after its
 * strategy (as in Auth0), `oidc|<connection>|<sub>` otherwise, so that two connections never share an id.
 */
export function upstreamUserId(connection: Pick<Connection, 'name' | 'strategy'>, sub: string): string {
  return connection.name === connection.strategy ? `${connection.strategy}|${sub}` : `${connection.strategy}|${connection.name}|${sub}`;
}

export function upstreamIdentity(connection: Pick<Connection, 'name' | 'strategy'>, sub: string): UserIdentity {
  return { connection: connection.name, provider: connection.strategy, user_id: sub, isSocial: isSocialStrategy(connection.strategy) };
}

/** A user's identities (Auth0's `identities[]`): stored ones, or the one identity of a database or host user. */
export function identitiesOf(user: Pick<User, 'user_id' | 'connection' | 'identities'>): UserIdentity[] {
  if (user.identities?.length) return user.identities;
  const [, id = user.user_id] = user.user_id.split('|');
  return [{ connection: user.connection, provider: 'auth0', user_id: id, isSocial: false }];
}

/** The connection whose `domain_aliases` list the domain of this email address (home-realm discovery), if any. */
export function connectionForEmail<C extends Pick<Connection, 'options'>>(connections: readonly C[], email: string): C | undefined {
  const domain = email.trim().toLowerCase().split('@')[1];
  if (!domain) return undefined;
  return connections.find((connection) => connection.options?.domain_aliases?.some((alias) => alias.toLowerCase() === domain));
}
