import { invalidBody, notSupported } from './errors.ts';
import { applyPatch } from './updates.ts';
import type { ResourceServer, TokenDialect } from './model.ts';
import { DEFAULT_TOKEN_DIALECT } from './tokens.ts';

/** What an administrator may set on an API; `identifier` only at creation (it is what tokens carry as `aud`). */
export type ResourceServerSettings = Pick<ResourceServer,
  'name' | 'scopes' | 'signing_alg' | 'signing_secret' | 'token_lifetime' | 'token_lifetime_for_web' | 'allow_offline_access' | 'skip_consent_for_verifiable_first_party_clients'
> & {
  token_dialect: TokenDialect;
  /** Each subject type's policy may be sent on its own. */
  subject_type_authorization: Partial<ResourceServer['subject_type_authorization']>;
};

export type ResourceServerCreate = Partial<ResourceServerSettings> & { identifier: string };
export type ResourceServerPatch = Partial<ResourceServerSettings>;

export const MAX_TOKEN_LIFETIME = 2592000;
/** Auth0's shortest `signing_secret`. */
export const MIN_SIGNING_SECRET_LENGTH = 16;
const DEFAULT_TOKEN_LIFETIME = 86400;
/** Auth0's observed default for tokens issued through the implicit flow (never longer than token_lifetime). */
const DEFAULT_TOKEN_LIFETIME_FOR_WEB = 7200;

/**
 * `newSecret` gives an HS256 API its signing secret when the request names none (the service passes a random one).
 */
export function draftResourceServer(input: ResourceServerCreate, id: string, now: string, newSecret?: () => string): ResourceServer {
  const tokenLifetime = input.token_lifetime ?? DEFAULT_TOKEN_LIFETIME;
  const api: ResourceServer = {
    id,
    identifier: input.identifier,
    name: input.name ?? input.identifier,
    is_system: false,
    scopes: input.scopes ?? [],
    signing_alg: input.signing_alg ?? 'RS256',
    token_lifetime: tokenLifetime,
    token_lifetime_for_web: input.token_lifetime_for_web ?? Math.min(DEFAULT_TOKEN_LIFETIME_FOR_WEB, tokenLifetime),
    token_dialect: input.token_dialect ?? DEFAULT_TOKEN_DIALECT,
    allow_offline_access: input.allow_offline_access ?? false,
    skip_consent_for_verifiable_first_party_clients: input.skip_consent_for_verifiable_first_party_clients ?? false,
    subject_type_authorization: {
      user: input.subject_type_authorization?.user ?? { policy: 'allow_all' },
      client: input.subject_type_authorization?.client ?? { policy: 'require_client_grant' },
    },
    created_at: now,
    updated_at: now,
  };
  checkResourceServer(api);
  return withSigningSecret(api, input.signing_secret, undefined, newSecret);
}

/**
 * What may change on the system API: how long Management API tokens live, as on any API (a short lifetime bounds how
 * long a token outlives a change the guard cannot see). Everything else is what the guard relies on.
 */
const SYSTEM_API_SETTINGS: ReadonlySet<string> = new Set<keyof ResourceServerPatch>(['token_lifetime', 'token_lifetime_for_web']);

/**
 * Top-level fields replace; `subject_type_authorization` merges per subject type. Sending `signing_secret` rotates an
 * HS256 API's secret (tokens signed with the old one stop verifying); `newSecret` serves an API switched to HS256.
 */
export function patchResourceServer(existing: ResourceServer, patch: ResourceServerPatch, now: string, newSecret?: () => string): ResourceServer {
  if (Object.keys(patch).some((property) => !SYSTEM_API_SETTINGS.has(property))) checkNotSystem(existing);
  const { subject_type_authorization, signing_secret, ...topLevel } = patch;
  const next: ResourceServer = {
    ...applyPatch(existing, topLevel, now),
    subject_type_authorization: { ...existing.subject_type_authorization, ...subject_type_authorization },
  };
  checkResourceServer(next);
  return withSigningSecret(next, signing_secret, existing.signing_secret, newSecret);
}

/**
 * An API has a signing secret exactly when it signs with HS256: the one sent, else the one it had, else a new one.
 * Tokens of every other API are signed with Gatehouse's keys, so a secret there would be refused, and is dropped.
 */
function withSigningSecret(api: ResourceServer, sent: string | undefined, kept: string | undefined, newSecret: (() => string) | undefined): ResourceServer {
  const { signing_secret: _previous, ...rest } = api;
  if (api.signing_alg !== 'HS256') {
    if (sent !== undefined) throw invalidBody('signing_secret is used only when signing_alg is HS256');
    return rest;
  }
  const secret = sent ?? kept ?? newSecret?.();
  if (secret === undefined) throw invalidBody('signing_secret is required when signing_alg is HS256');
  return { ...rest, signing_secret: secret };
}

/**
 * The system API (the Management API itself) is Gatehouse's: its scopes and policies are what the guard relies on.
 * Auth0 answers changes to its system APIs with a 400 (the payload is refused), not a 403 (the caller is authorized;
 * the operation is what is not possible), so Gatehouse does the same.
 */
export function checkNotSystem(api: ResourceServer): void {
  if (api.is_system) throw notSupported(`The resource server ${api.identifier} is a system API: it cannot be changed or deleted`);
}

function checkResourceServer(api: ResourceServer): void {
  const seen = new Set<string>();
  for (const { value } of api.scopes) {
    if (seen.has(value)) throw invalidBody(`Scope ${value} is defined twice in scopes`);
    seen.add(value);
  }
  if (api.token_lifetime_for_web > api.token_lifetime) {
    throw invalidBody(`token_lifetime_for_web (${api.token_lifetime_for_web}) cannot be longer than token_lifetime (${api.token_lifetime})`);
  }
}
