import { draftApplication, urlProblem, type ApplicationDraft, type GrantType } from './application-rules.ts';
import { CLIENT_ASSERTION_ALGS, type Application, type ClientAssertionAlg, type PublicJwk, type Trust } from './model.ts';
import { isNativeClient, REGISTRABLE_GRANT_TYPES } from './registration.ts';

/**
 * Client ID Metadata Documents (CIMD, draft-ietf-oauth-client-id-metadata-document; Auth0's rules where Auth0 states
 * them): a client whose `client_id` is an https URL where its metadata is published. What a URL and a document must be,
 * how a document becomes a strict third-party application, and how its keys may change. Fetching is in
 * src/net/public-fetch.ts; the use cases in src/services/client-metadata-documents.ts.
 */

export const CIMD_LIMITS = {
  /** The longest client id URL, in bytes. */
  urlBytes: 120,
  /** The largest document and key set read (the draft recommends 5 KB for documents; Auth0 reads 12 KB of keys). */
  documentBytes: 5 * 1024,
  jwksBytes: 12 * 1024,
  /** A document's HTTP caching is honoured within these bounds, in seconds: at least 5 minutes, at most a day. */
  minCacheSeconds: 300,
  maxCacheSeconds: 86_400,
} as const;

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Why a URL cannot be a client id, or undefined: https with a host and a path beyond `/`; no dot segments (`.`, `..`,
 * also percent-encoded), user credentials, query, fragment or port 0; valid percent-encoding; at most 120 bytes; no
 * surrounding white space; not a loopback host unless the operator exempted it (`hostExempt`).
 */
export function clientIdUrlProblem(value: string, hostExempt: (host: string) => boolean): string | undefined {
  if (value !== value.trim()) return 'must not start or end with white space';
  if (new TextEncoder().encode(value).length > CIMD_LIMITS.urlBytes) return `must be at most ${CIMD_LIMITS.urlBytes} bytes long`;
  if (!value.startsWith('https://')) return 'must be an https:// URL';
  const url = URL.parse(value);
  if (!url || !url.hostname) return 'is not a valid URL with a host';
  if (value.includes('#')) return 'must not contain a fragment';
  if (value.includes('?')) return 'must not contain a query';
  if (url.username || url.password || value.slice(8).split('/')[0]?.includes('@')) return 'must not contain user credentials';
  if (url.port === '0') return 'must not use port 0';
  if (/%(?![0-9a-f]{2})/i.test(value)) return 'contains invalid percent-encoding';
  const rawPath = value.slice(8).replace(/^[^/]*/, '');
  if (rawPath === '' || rawPath === '/') return 'must have a path beyond /';
  if (rawPath.split('/').some((segment) => ['.', '..'].includes(segment.replace(/%2e/gi, '.')))) return 'must not contain . or .. path segments';
  if (LOOPBACK_HOST.test(url.hostname) && !hostExempt(url.hostname)) return 'must not name a loopback host';
  return undefined;
}

/** What a document maps to, in the shape of Auth0's `mapped_fields`. */
export interface CimdMappedFields {
  external_client_id: string;
  name: string;
  app_type: 'regular_web' | 'native';
  callbacks: string[];
  logo_uri?: string;
  description?: string;
  grant_types: GrantType[];
  token_endpoint_auth_method: 'none' | 'private_key_jwt';
  jwks_uri?: string;
  client_authentication_methods?: { private_key_jwt: { credentials: { credential_type: 'public_key'; kid: string; alg?: string }[] } };
}

export interface CimdValidation {
  valid: boolean;
  violations: string[];
  warnings: string[];
}

/** A document that passed: what it maps to, and what is kept beside it. */
export interface CimdDocument {
  mapped: CimdMappedFields;
  /** The algorithm its client assertions must use, when it names one. */
  assertionAlg?: ClientAssertionAlg;
  /** RFC 7591 descriptive metadata, kept as sent. */
  descriptive: Record<string, unknown>;
}

const DESCRIPTIVE_URLS = ['client_uri', 'policy_uri', 'tos_uri'] as const;
const KNOWN_MEMBERS = new Set([
  'client_id', 'client_name', 'redirect_uris', 'grant_types', 'response_types', 'application_type', 'token_endpoint_auth_method',
  'token_endpoint_auth_methods_supported', 'token_endpoint_auth_signing_alg', 'jwks_uri', 'jwks', 'logo_uri', 'description',
  'client_uri', 'policy_uri', 'tos_uri', 'contacts', 'software_id', 'software_version', 'scope', 'client_secret', 'client_secret_expires_at',
]);
const SHARED_SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);
/** The methods a CIMD client may use, the stronger first (chosen first among a document's RP Metadata Choices). */
const CIMD_AUTH_METHODS = ['private_key_jwt', 'none'] as const;

const isString = (value: unknown): value is string => typeof value === 'string';
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const quoted = (value: unknown) => JSON.stringify(value)?.slice(0, 200) ?? String(value);

/**
 * `token_endpoint_auth_method`, or a choice from OpenID Connect RP Metadata Choices' `token_endpoint_auth_methods_supported`
 * (ChatGPT's documents declare `private_key_jwt` and offer `none` too): the declared method when Gatehouse supports it,
 * else the strongest offered one; `private_key_jwt` only with a `jwks_uri`.
 */
function chooseAuthMethod(doc: Record<string, unknown>, violations: string[], warnings: string[]): CimdMappedFields['token_endpoint_auth_method'] | undefined {
  const declared = doc.token_endpoint_auth_method;
  const offered = doc.token_endpoint_auth_methods_supported;
  if (offered !== undefined && !isStringArray(offered)) violations.push('token_endpoint_auth_methods_supported must be an array of strings');
  if (declared !== undefined && !isString(declared)) violations.push('token_endpoint_auth_method must be a string');
  if (isString(declared) && SHARED_SECRET_METHODS.has(declared)) {
    violations.push(`token_endpoint_auth_method ${declared} is not allowed: a client identified by a metadata document never shares a secret (use none or private_key_jwt)`);
    return undefined;
  }
  const usable = (method: string) => method !== 'private_key_jwt' || doc.jwks_uri !== undefined;
  const candidates = [
    ...(isString(declared) ? [declared] : []),
    ...CIMD_AUTH_METHODS.filter((method) => isStringArray(offered) && offered.includes(method)),
  ];
  const chosen = candidates.find((method): method is CimdMappedFields['token_endpoint_auth_method'] => (CIMD_AUTH_METHODS as readonly string[]).includes(method) && usable(method));
  if (chosen) {
    if (isString(declared) && declared !== chosen) warnings.push(`token_endpoint_auth_method ${declared} cannot be used here: ${chosen}, which the document also offers, is used`);
    return chosen;
  }
  if (declared === undefined && offered === undefined) {
    warnings.push('token_endpoint_auth_method is missing: none is assumed (the client has no secret)');
    return 'none';
  }
  violations.push(declared === 'private_key_jwt' || (isStringArray(offered) && offered.includes('private_key_jwt'))
    ? 'token_endpoint_auth_method private_key_jwt needs a jwks_uri'
    : `token_endpoint_auth_method must be none or private_key_jwt (got ${quoted(declared ?? offered)})`);
  return undefined;
}

/**
 * Checks a fetched document against the URL it was fetched from and maps it to an application's fields. Violations make
 * it unusable; warnings say what was ignored (unknown properties, unusable grant types, a logo not served over https…).
 */
export function readClientMetadataDocument(url: string, doc: unknown): { validation: CimdValidation; document?: CimdDocument } {
  const violations: string[] = [];
  const warnings: string[] = [];
  const done = (document?: CimdDocument) => ({ validation: { valid: violations.length === 0, violations, warnings }, ...(document && !violations.length ? { document } : {}) });
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    violations.push('the document is not a JSON object');
    return done();
  }
  const d = doc as Record<string, unknown>;
  if (d.client_id !== url) violations.push(`client_id ${quoted(d.client_id)} is not the URL the document was fetched from (${url})`);
  const name = isString(d.client_name) ? d.client_name.trim() : '';
  if (!name) violations.push('client_name is required');
  else if (name.length > 255) violations.push('client_name must be at most 255 characters long');
  if ('client_secret' in d || 'client_secret_expires_at' in d) violations.push('client_secret and client_secret_expires_at are not allowed: the document is public');
  if ('jwks' in d) violations.push('inline jwks are not accepted: publish the keys at a jwks_uri on the same origin as the document');
  if (d.application_type !== undefined && d.application_type !== 'web' && d.application_type !== 'native') {
    violations.push(`application_type must be web or native (got ${quoted(d.application_type)})`);
  }

  const redirectUris = isStringArray(d.redirect_uris) ? d.redirect_uris : [];
  if (!redirectUris.length) violations.push('redirect_uris is required: a non-empty array of URLs');
  if (new Set(redirectUris).size !== redirectUris.length) violations.push('redirect_uris must not repeat a URL');
  const native = isNativeClient(isString(d.application_type) ? d.application_type : undefined, redirectUris);
  redirectUris.forEach((uri, i) => {
    const problem = urlProblem(uri, 'callback', { thirdParty: true, native });
    if (problem) violations.push(`redirect_uris[${i}] ${quoted(uri)} ${problem}`);
  });

  let grantTypes: GrantType[] = ['authorization_code'];
  if (d.grant_types === undefined) warnings.push('grant_types is missing: authorization_code is assumed (RFC 7591)');
  else if (!isStringArray(d.grant_types)) violations.push('grant_types must be an array of strings');
  else {
    grantTypes = d.grant_types.filter((g): g is GrantType => (REGISTRABLE_GRANT_TYPES as readonly string[]).includes(g));
    const ignored = d.grant_types.filter((g) => !grantTypes.includes(g as GrantType));
    if (ignored.length) warnings.push(`grant types ${ignored.join(', ')} are not available to clients identified by a metadata document and were ignored`);
    if (!grantTypes.includes('authorization_code')) violations.push('grant_types must include authorization_code');
  }
  if (d.response_types !== undefined && (!isStringArray(d.response_types) || d.response_types.some((t) => t !== 'code'))) {
    violations.push(`response_types must be ["code"] (got ${quoted(d.response_types)})`);
  }

  const method = chooseAuthMethod(d, violations, warnings);
  let jwksUri: string | undefined;
  let assertionAlg: ClientAssertionAlg | undefined;
  if (method === 'private_key_jwt') {
    jwksUri = isString(d.jwks_uri) ? d.jwks_uri : undefined;
    const keysUrl = jwksUri === undefined ? undefined : URL.parse(jwksUri);
    if (!keysUrl || keysUrl.protocol !== 'https:') violations.push('jwks_uri must be an https URL');
    else if (keysUrl.origin !== URL.parse(url)?.origin) violations.push(`jwks_uri must be on the same origin as the document (${URL.parse(url)?.origin})`);
    if (d.token_endpoint_auth_signing_alg !== undefined) {
      if ((CLIENT_ASSERTION_ALGS as readonly unknown[]).includes(d.token_endpoint_auth_signing_alg)) assertionAlg = d.token_endpoint_auth_signing_alg as ClientAssertionAlg;
      else violations.push(`token_endpoint_auth_signing_alg must be one of ${CLIENT_ASSERTION_ALGS.join(', ')} (got ${quoted(d.token_endpoint_auth_signing_alg)})`);
    }
  } else if (d.jwks_uri !== undefined) warnings.push('jwks_uri is ignored: the client does not authenticate with private_key_jwt');

  let logo: string | undefined;
  if (d.logo_uri !== undefined) {
    if (isString(d.logo_uri) && URL.parse(d.logo_uri)?.protocol === 'https:') logo = d.logo_uri;
    else warnings.push('logo_uri is ignored: it must be an https URL');
  }
  let description: string | undefined;
  if (d.description !== undefined) {
    if (isString(d.description) && d.description.length <= 140) description = d.description;
    else warnings.push('description is ignored: it must be text of at most 140 characters');
  }
  const descriptive: Record<string, unknown> = {};
  for (const field of DESCRIPTIVE_URLS) {
    if (d[field] === undefined) continue;
    if (isString(d[field]) && /^https?:$/.test(URL.parse(d[field])?.protocol ?? '')) descriptive[field] = d[field];
    else warnings.push(`${field} is ignored: it must be an http or https URL`);
  }
  for (const field of ['software_id', 'software_version', 'scope'] as const) {
    if (d[field] === undefined) continue;
    if (isString(d[field])) descriptive[field] = d[field];
    else warnings.push(`${field} is ignored: it must be a string`);
  }
  if (d.contacts !== undefined) {
    if (isStringArray(d.contacts)) descriptive.contacts = d.contacts;
    else warnings.push('contacts is ignored: it must be an array of strings');
  }
  const unknown = Object.keys(d).filter((member) => !KNOWN_MEMBERS.has(member));
  if (unknown.length) warnings.push(`propert${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((m) => m.slice(0, 64)).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not used and ignored`);

  if (!method) return done();
  return done({
    mapped: {
      external_client_id: url,
      name,
      app_type: native ? 'native' : 'regular_web',
      callbacks: redirectUris,
      ...(logo ? { logo_uri: logo } : {}),
      ...(description ? { description } : {}),
      grant_types: grantTypes,
      token_endpoint_auth_method: method,
      ...(jwksUri ? { jwks_uri: jwksUri } : {}),
    },
    ...(assertionAlg ? { assertionAlg } : {}),
    descriptive,
  });
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const PUBLIC_MEMBERS = ['kty', 'kid', 'alg', 'use', 'key_ops', 'n', 'e', 'crv', 'x', 'y'];

/**
 * The signing keys a published key set offers: RSA, EC or OKP public keys with a key id. A set holding private or
 * symmetric key material is refused whole; keys without an id, or for encryption, are skipped with a warning.
 */
export function readPublishedKeys(jwks: unknown): { keys: PublicJwk[]; violations: string[]; warnings: string[] } {
  const violations: string[] = [];
  const warnings: string[] = [];
  const entries = typeof jwks === 'object' && jwks !== null ? (jwks as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(entries)) return { keys: [], violations: ['the key set is not a JSON Web Key Set ({"keys": [...]})'], warnings };
  const keys: PublicJwk[] = [];
  entries.forEach((entry: unknown, i) => {
    const key = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {};
    if (PRIVATE_MEMBERS.some((member) => member in key)) {
      violations.push(`keys[${i}] holds private or symmetric key material: the key set must hold public keys only`);
      return;
    }
    if (!['RSA', 'EC', 'OKP'].includes(String(key.kty))) return void warnings.push(`keys[${i}] is ignored: kty must be RSA, EC or OKP`);
    if (!isString(key.kid) || !key.kid) return void warnings.push(`keys[${i}] is ignored: it has no kid`);
    if (key.use !== undefined && key.use !== 'sig') return void warnings.push(`key ${key.kid} is ignored: it is not for signatures`);
    if (keys.some((k) => k.kid === key.kid)) return void warnings.push(`key ${key.kid} is ignored: its kid repeats an earlier key's`);
    keys.push(Object.fromEntries(PUBLIC_MEMBERS.filter((m) => key[m] !== undefined).map((m) => [m, key[m]])) as PublicJwk);
  });
  if (!violations.length && !keys.length) violations.push('the key set publishes no usable signing key');
  return { keys: violations.length ? [] : keys, violations, warnings };
}

const keyMaterial = (key: PublicJwk) => JSON.stringify([key.kty, key.n, key.e, key.crv, key.x, key.y]);

/**
 * Key rotation: a new key id is accepted; a key id already known keeps its first key (a different key under the same id
 * is refused, with a warning); a key no longer published is dropped.
 */
export function mergePublishedKeys(stored: readonly PublicJwk[], published: readonly PublicJwk[]): { keys: PublicJwk[]; warnings: string[] } {
  const warnings: string[] = [];
  const keys = published.map((key) => {
    const known = stored.find((k) => k.kid === key.kid);
    if (known && keyMaterial(known) !== keyMaterial(key)) {
      warnings.push(`key ${key.kid} was published with new key material under the same kid: refused, the key first seen is kept (publish a new key under a new kid)`);
      return known;
    }
    return known ?? key;
  });
  return { keys, warnings };
}

/** Auth0's view of the keys a `private_key_jwt` application is accepted with. */
export const clientAuthenticationMethods = (keys: readonly PublicJwk[], alg?: string): NonNullable<CimdMappedFields['client_authentication_methods']> => ({
  private_key_jwt: { credentials: keys.map((key) => ({ credential_type: 'public_key', kid: key.kid, ...(key.alg ?? alg ? { alg: key.alg ?? alg } : {}) })) },
});

/** A document's cache lifetime (seconds, from its HTTP caching headers), within Gatehouse's bounds. */
export const documentLifetimeSeconds = (httpSeconds: number) => Math.min(CIMD_LIMITS.maxCacheSeconds, Math.max(CIMD_LIMITS.minCacheSeconds, Math.floor(httpSeconds)));

export interface CimdOrigin {
  createdBy: NonNullable<Application['external_metadata_created_by']>;
  trust: Trust;
  /** Client-created applications: when the document must be fetched again. */
  expiresAt?: string;
}

/** A document as a strict third-party application (always strict; never client credentials, never a shared secret). */
export function cimdApplicationDraft(document: CimdDocument, keys: readonly PublicJwk[] | undefined, origin: CimdOrigin, now: string): ApplicationDraft {
  const { mapped } = document;
  const draft = draftApplication({
    name: mapped.name,
    ...(mapped.description ? { description: mapped.description } : {}),
    ...(mapped.logo_uri ? { logo_uri: mapped.logo_uri } : {}),
    app_type: mapped.app_type,
    is_first_party: false,
    third_party_security_mode: 'strict',
    callbacks: mapped.callbacks,
    grant_types: mapped.grant_types,
    token_endpoint_auth_method: mapped.token_endpoint_auth_method,
  }, { allowPermissiveThirdParty: false }, now);
  return {
    ...draft,
    registration_type: origin.createdBy === 'client' ? 'dynamic' : 'management_api',
    registration_metadata: document.descriptive,
    external_client_id: mapped.external_client_id,
    external_metadata_type: 'cimd',
    external_metadata_created_by: origin.createdBy,
    ...(origin.expiresAt ? { external_metadata_expires_at: origin.expiresAt } : {}),
    ...(mapped.jwks_uri ? { jwks_uri: mapped.jwks_uri, jwks: { keys: [...keys ?? []] } } : {}),
    ...(document.assertionAlg ? { token_endpoint_auth_signing_alg: document.assertionAlg } : {}),
    trust: origin.trust,
  };
}

/**
 * An application brought in line with its document fetched again: what the document decides is replaced (or removed
 * when the document no longer has it); everything else (its id, trust, what an administrator changed, who created it)
 * stays.
 */
export function refreshedCimdApplication(existing: Application, document: CimdDocument, keys: readonly PublicJwk[] | undefined, expiresAt: string | undefined, now: string): Application {
  const drafted = cimdApplicationDraft(document, keys, {
    createdBy: existing.external_metadata_created_by ?? 'admin', trust: existing.trust ?? 'trusted', ...(expiresAt ? { expiresAt } : {}),
  }, now);
  const next: Application = {
    ...existing,
    name: drafted.name,
    app_type: drafted.app_type,
    callbacks: drafted.callbacks,
    grant_types: drafted.grant_types,
    token_endpoint_auth_method: drafted.token_endpoint_auth_method,
    registration_metadata: document.descriptive,
    updated_at: now,
  };
  for (const field of ['logo_uri', 'jwks_uri', 'jwks', 'token_endpoint_auth_signing_alg', 'external_metadata_expires_at'] as const) {
    if (drafted[field] === undefined) delete next[field];
    else Object.assign(next, { [field]: drafted[field] });
  }
  // An administrator may describe the application too (Auth0 lets them edit it): a document without one keeps theirs.
  if (drafted.description !== undefined) next.description = drafted.description;
  return next;
}
