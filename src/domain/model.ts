/**
 * The entities Gatehouse stores, shaped like Auth0's Management API objects so that they can be returned as they are,
 * minus the internal fields (secret and password hashes, oidc grant ids), which no API ever returns.
 */

export type AppType = 'regular_web' | 'spa' | 'native' | 'non_interactive';
export type ThirdPartySecurityMode = 'strict' | 'permissive';
export type RedirectionPolicy = 'open_redirect_protection' | 'allow_always';
/**
 * How an administrator, or a client registering itself, may make an application authenticate: secrets are stored hashed
 * (so no client_secret_jwt), and no keys are registered this way.
 */
export const CONFIGURABLE_AUTH_METHODS = ['none', 'client_secret_post', 'client_secret_basic'] as const;
/**
 * Every way an application authenticates at the token endpoint (what discovery advertises): also `private_key_jwt`, for
 * clients described by a metadata document (CIMD), whose keys come from their own `jwks_uri`.
 */
export const TOKEN_ENDPOINT_AUTH_METHODS = [...CONFIGURABLE_AUTH_METHODS, 'private_key_jwt'] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];
/** Algorithms a `private_key_jwt` client assertion may use: asymmetric ones only (never `none` or an HMAC). */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'] as const;
export type ClientAssertionAlg = (typeof CLIENT_ASSERTION_ALGS)[number];
export type SubjectType = 'user' | 'client';
export type AccessPolicy = 'allow_all' | 'require_client_grant' | 'deny_all';
/** The asymmetric algorithms Gatehouse signs with: one key of its own for each (APIs and applications choose one). */
export const SIGNING_ALGS = ['RS256', 'RS512', 'PS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
/** APIs may also sign their tokens with a secret of their own (HS256), which no JWKS publishes. */
export type ApiSigningAlg = SigningAlg | 'HS256';
/** Auth0's access token profiles: Auth0's own (`access_token`) or RFC 9068's; `_authz` adds the `permissions` claim. */
export type TokenDialect = 'access_token' | 'access_token_authz' | 'rfc9068_profile' | 'rfc9068_profile_authz';

export interface RefreshTokenSettings {
  rotation_type: 'rotating' | 'non-rotating';
  expiration_type: 'expiring' | 'non-expiring';
  leeway: number;
  token_lifetime: number;
  infinite_token_lifetime: boolean;
  idle_token_lifetime: number;
  infinite_idle_token_lifetime: boolean;
}

/** An application (Auth0 "client"). */
export interface Application {
  client_id: string;
  name: string;
  description?: string;
  logo_uri?: string;
  app_type: AppType;
  is_first_party: boolean;
  /** Set for third-party applications only. Immutable. */
  third_party_security_mode?: ThirdPartySecurityMode;
  /** Meaningful for strict third-party applications only. */
  redirection_policy?: RedirectionPolicy;
  callbacks: string[];
  allowed_origins: string[];
  web_origins: string[];
  allowed_logout_urls: string[];
  grant_types: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  jwt_configuration: { alg: SigningAlg; lifetime_in_seconds: number };
  refresh_token: RefreshTokenSettings;
  client_metadata: Record<string, string>;
  oidc_conformant: true;
  /** OpenID Back-Channel Logout (first-party applications only): where a logout token is posted when the user signs out. */
  oidc_logout?: { backchannel_logout_urls: string[]; backchannel_logout_initiators?: { mode: 'all' } };
  /** Auth0's cross-origin authentication switch (first-party and permissive applications only); stored, not used. */
  cross_origin_authentication?: boolean;
  /** How the application came to exist: through the Management API, dynamic registration, or Gatehouse itself. */
  registration_type: 'management_api' | 'dynamic' | 'system';
  /** RFC 7591 descriptive metadata kept from dynamic registration. */
  registration_metadata?: Record<string, unknown>;
  /** When a token was last issued to it (to the day): what the idle clean-up of registered applications looks at. */
  last_used_at?: string;
  /**
   * Client ID Metadata Documents (CIMD, Auth0's names): the URL that is this application's `client_id` in every protocol
   * request and in its tokens (its `tpc_` id names it everywhere else), where its description is published.
   */
  external_client_id?: string;
  external_metadata_type?: 'cimd';
  /** `client`: created when the client first used its URL; `admin`: imported through the Management API. */
  external_metadata_created_by?: 'client' | 'admin';
  /** When the document must be fetched again (HTTP caching within Gatehouse's bounds); client-created ones only. */
  external_metadata_expires_at?: string;
  /** `private_key_jwt` applications: where their public keys are published (same origin as the document). */
  jwks_uri?: string;
  /** The public keys accepted from `jwks_uri` (a key id keeps its first key; a key no longer published is dropped). */
  jwks?: { keys: PublicJwk[] };
  /** The algorithm its client assertions must use, when its document names one. */
  token_endpoint_auth_signing_alg?: ClientAssertionAlg;
  /**
   * Applications that registered themselves (dynamic registration, CIMD): whether they may get tokens (`trusted`), await
   * an administrator (`pending`) or are refused (`blocked`). Absent: trusted (applications an administrator created).
   */
  trust?: Trust;
  /**
   * Public dynamically registered applications: what identifies their registration (src/domain/registration.ts), so that
   * registering the same again returns this application instead of a new one.
   */
  registration_fingerprint?: string;
  created_at: string;
  updated_at: string;
  /** SHA-256 of the client secret (hex). Never returned by any API. */
  client_secret_hash?: string;
}

export type Trust = 'trusted' | 'pending' | 'blocked';

/** A public JSON Web Key (no private members). */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}

export interface ApiScope {
  value: string;
  description?: string;
}

/** An API (Auth0 "resource server"). */
export interface ResourceServer {
  id: string;
  identifier: string;
  name: string;
  is_system: boolean;
  scopes: ApiScope[];
  signing_alg: ApiSigningAlg;
  /** HS256 APIs only: the secret their tokens are signed with (Auth0's field). Sealed at rest by the store. */
  signing_secret?: string;
  token_lifetime: number;
  token_lifetime_for_web: number;
  /** Absent on APIs stored before it existed: see `tokenDialectOf`. */
  token_dialect?: TokenDialect;
  allow_offline_access: boolean;
  skip_consent_for_verifiable_first_party_clients: boolean;
  subject_type_authorization: {
    user: { policy: AccessPolicy };
    client: { policy: Exclude<AccessPolicy, 'allow_all'> };
  };
  created_at: string;
  updated_at: string;
}

/** The most an application may get for an API, for one subject type. */
export interface ClientGrant {
  id: string;
  /** Exactly one of `client_id` and `default_for` is set. */
  client_id?: string;
  default_for?: 'third_party_clients';
  audience: string;
  scope: string[];
  allow_all_scopes: boolean;
  subject_type: SubjectType;
  is_system: boolean;
  created_at: string;
  updated_at: string;
}

/** Auth0's strategy names: the database (`auth0`), enterprise OpenID Connect, generic OAuth 2.0, and social presets. */
export type ConnectionStrategy = 'auth0' | 'oidc' | 'oauth2' | 'google-oauth2' | 'github' | 'windowslive';

/** Auth0's password strength levels (src/domain/password-policy.ts says what each requires). */
export type PasswordPolicyLevel = 'none' | 'low' | 'fair' | 'good' | 'excellent';

/**
 * A connection's `options`, in Auth0's names, without its secrets (those are in `secret_options`). Which fields apply
 * depends on the strategy: src/domain/connection-rules.ts checks them.
 */
export interface ConnectionOptions {
  // Database (`auth0`).
  /** Sign-up from the login page is open unless this is true (Auth0's default: open). */
  disable_signup?: boolean;
  passwordPolicy?: PasswordPolicyLevel | null;
  password_complexity_options?: { min_length?: number } | null;
  // Upstream identity providers (every other strategy).
  client_id?: string;
  /** Enterprise OpenID Connect: the provider's discovery document (or its `issuer`, discovered at the well-known path). */
  discovery_url?: string;
  issuer?: string;
  /** `back_channel`: authorization code flow with the client secret (default); `front_channel`: see README. */
  type?: 'back_channel' | 'front_channel';
  /** Space-separated scopes asked of the upstream provider (`openid profile email` by default). */
  scope?: string;
  /** Email domains whose users are sent straight to this provider from the login page (home-realm discovery). */
  domain_aliases?: string[];
  /** Generic OAuth 2.0: the provider's endpoints, and the profile endpoint read with the access token. */
  authorizationURL?: string;
  tokenURL?: string;
  profileURL?: string;
  /**
   * Gatehouse's own option: sign a person in to an existing account with the same email address when this provider
   * says the address is verified (off by default; README, "Linking accounts by verified email").
   */
  link_by_verified_email?: boolean;
}

/** The options a connection keeps sealed at rest (src/store/collections.ts); never returned by any API. */
export interface ConnectionSecrets {
  client_secret?: string;
}

export interface Connection {
  id: string;
  name: string;
  strategy: ConnectionStrategy;
  display_name?: string;
  is_domain_connection: boolean;
  enabled_clients: string[];
  /** Absent on connections stored before options existed: an `auth0` connection with Auth0's defaults. */
  options?: ConnectionOptions;
  /** Sealed at rest with the key-encryption key. Never returned by any API. */
  secret_options?: ConnectionSecrets;
  created_at: string;
  updated_at: string;
}

/** Where an account can sign in from (Auth0's `identities[]`): its own connection, and any linked to it. */
export interface UserIdentity {
  connection: string;
  /** The strategy (`auth0`, `oidc`, `github`…). */
  provider: string;
  /** The id at that provider (the upstream `sub`; for the database, the part of `user_id` after `auth0|`). */
  user_id: string;
  isSocial: boolean;
}

export interface User {
  user_id: string;
  email: string;
  email_verified: boolean;
  name?: string;
  connection: string;
  blocked: boolean;
  logins_count: number;
  last_login?: string;
  /** Stored for users of upstream providers and linked accounts; absent means the one identity of `connection`. */
  identities?: UserIdentity[];
  /** When the password was last reset through a link: sessions and refresh tokens from before it no longer count. */
  last_password_reset?: string;
  created_at: string;
  updated_at: string;
  /** Memory-hard KDF output (PHC string); empty for users without a password (upstream and host users). Never returned by any API. */
  password_hash: string;
  /** Set on operators only: users of the reserved operators' connection (src/domain/operators.ts). */
  operator_role?: OperatorRole;
}

/** Who makes a Management API change: an operator (their user id, through the console) or an application (its client id). */
export interface Actor {
  type: 'user' | 'client';
  id: string;
}

/** What an operator may do in the console and the Management API: every scope, or the `read:` scopes. */
export type OperatorRole = 'admin' | 'viewer';

/** A single-use link that lets its holder become an operator (first-start sign-up links have no email). */
export interface OperatorInvitation {
  /** Time-ordered (src/domain/ids.ts), so that expired invitations are cleaned by key. */
  id: string;
  /** SHA-256 of the link's secret: the secret itself is never stored. */
  token_hash: string;
  email?: string;
  role: OperatorRole;
  /** Who invited: an operator's user id, an application's client id, or `gatehouse` for the first-start link. */
  invited_by: string;
  expires_at: string;
  created_at: string;
}

/** What a user consented to for one (application, API). Auth0's `clientID` spelling is kept on purpose. */
export interface UserGrant {
  id: string;
  user_id: string;
  clientID: string;
  audience: string;
  scope: string[];
  created_at: string;
  updated_at: string;
  /** oidc-provider Grant ids whose tokens this consent covers; revoking the consent revokes them. Never returned. */
  oidc_grant_ids: string[];
}

export interface TenantSettings {
  friendly_name: string;
  picture_url?: string;
  support_email?: string;
  support_url?: string;
  default_audience: string;
  flags: {
    enable_dynamic_client_registration: boolean;
  };
  dynamic_client_registration_security_mode: ThirdPartySecurityMode;
  /**
   * Client ID Metadata Documents (Auth0's name): a client may use the https URL of its metadata document as its
   * `client_id`, and Gatehouse fetches it. Advertised in discovery while on.
   */
  client_id_metadata_document_supported: boolean;
  /** The trust ladder of applications that register themselves (src/domain/trust.ts). */
  self_registered_clients: SelfRegisteredClientPolicy;
  /** Whether this tenant may create permissive third-party applications at all. */
  allow_permissive_third_party_clients: boolean;
  branding: { primary_color: string; page_background: string; logo_url?: string };
}

/** A tenant's rule that trusts or blocks new self-registered clients ahead of time; it matches on exactly one thing. */
export interface TrustRule {
  /** The exact client id URL of a metadata document. */
  cimd_url?: string;
  /** Client id URLs starting with this. */
  cimd_url_prefix?: string;
  /** The host of a redirect URI (blocks when any redirect URI has it; trusts when all of them have trusted hosts). */
  redirect_host?: string;
  trust: 'trusted' | 'blocked';
}

export interface SelfRegisteredClientPolicy {
  /** What a new client starts as, per way of registering. */
  initial_trust: { dynamic_registration: 'trusted' | 'pending'; client_id_metadata_document: 'trusted' | 'pending' };
  trust_rules: TrustRule[];
  /** A registration over its budget (per claimed identity or address) is refused (429), or admitted as `pending`. */
  over_budget: 'refuse' | 'admit_as_pending';
}

/** What an ACL rule can match on (Auth0's names); see src/domain/network-access.ts for how each is compared. */
export interface NetworkAclSignals {
  ipv4_cidrs?: string[];
  ipv6_cidrs?: string[];
  user_agents?: string[];
  /** ISO 3166-1 alpha-2, upper case. */
  geo_country_codes?: string[];
  /** ISO 3166-2 (`US-CA`), upper case. */
  geo_subdivision_codes?: string[];
  asns?: number[];
  /** Lower-case hex. */
  ja3_fingerprints?: string[];
  /** Lower case. */
  ja4_fingerprints?: string[];
}

export interface NetworkAcl {
  id: string;
  description: string;
  active: boolean;
  priority: number;
  rule: {
    scope: 'dynamic_client_registration' | 'authentication' | 'management' | 'tenant';
    action: { block?: true; allow?: true; log?: true };
    match?: NetworkAclSignals;
    not_match?: NetworkAclSignals;
  };
  created_at: string;
  updated_at: string;
}

/** Signing keys (private JWKs, the first one signs) and cookie keys (the first one signs). */
export interface KeyMaterial {
  id: 'keys';
  signing: SigningKey[];
  cookies: string[];
}

export interface SigningKey {
  kid: string;
  kty: string;
  alg: string;
  created_at: string;
  /** When it starts signing (staged rotation: published first, signing from then on); its creation when absent. */
  activates_at?: string;
  [member: string]: unknown;
}

/** A tenant log event, in Auth0's shape (`/api/v2/logs`); `src/domain/log-events.ts` defines the types. */
export interface LogEvent {
  /** Time-ordered (`newTimeOrderedId`): given when the event is written, so it sorts by the order of writing. */
  log_id: string;
  /** When it happened (ISO 8601). */
  date: string;
  type: string;
  description: string;
  ip?: string;
  user_agent?: string;
  hostname?: string;
  client_id?: string;
  client_name?: string;
  user_id?: string;
  user_name?: string;
  connection?: string;
  audience?: string;
  scope?: string;
  details?: Record<string, unknown>;
}

export type LogStreamStatus = 'active' | 'paused' | 'suspended';
export type LogStreamContentFormat = 'JSONARRAY' | 'JSONLINES' | 'JSONOBJECT';

/** A log stream (Auth0's shape, type `http` only): where tenant log events are delivered, and how far it got. */
export interface LogStream {
  id: string;
  name: string;
  type: 'http';
  status: LogStreamStatus;
  /** Why it is suspended, or the last delivery problem while it retries (Gatehouse's addition: Auth0's `status` is an enum). */
  status_reason?: string;
  sink: {
    httpEndpoint: string;
    httpContentType: string;
    httpContentFormat: LogStreamContentFormat;
  };
  /** The Authorization header sent with every delivery. Sealed at rest; never returned. */
  http_authorization?: string;
  /** Extra headers sent with every delivery (they often carry an API key): sealed at rest. */
  http_custom_headers?: { header: string; value: string }[];
  filters: { type: 'category'; name: string }[];
  isPriority: boolean;
  created_at: string;
  updated_at: string;
  /** Delivery state, never returned: the last log_id delivered (or skipped), a lease held by the process delivering. */
  cursor: string;
  /** `<holder>:<expiry ms>`, or "" when nobody delivers: claimed and released with conditioned updates. */
  lease: string;
  /** Consecutive failed deliveries, and when the next attempt may start (ms since the epoch). */
  failures: number;
  retry_at: number;
}

/** How one user uses one application for one API: first and last token, and how many (aggregated, not one write per token). */
export interface ConnectionActivity {
  /** Derived from the three below (`connectionActivityId`), so that every process adds to the same record. */
  id: string;
  user_id: string;
  client_id: string;
  audience: string;
  first_used_at: string;
  last_used_at: string;
  tokens_issued: number;
}

/**
 * Access tokens that resource servers must refuse from now on (src/domain/revocations.ts). What was revoked is named
 * only by a digest, which a resource server computes from the claims of the tokens it receives. Kept only while a
 * token it refuses could still be alive.
 */
export interface Revocation {
  /** Time-ordered (`newTimeOrderedId`): the feed of revocations reads them in this order. */
  id: string;
  /** Digest of what was revoked: a protocol grant, a user, an application, or an application's or anyone's access to an API. */
  key: string;
  /** The API whose tokens it concerns, when only one API's are (resource servers read the revocations of their own API). */
  audience?: string;
  /** Tokens issued before this time (epoch seconds, their `iat`) are refused. */
  issued_before: number;
  /** No token it refuses is valid after this time (epoch seconds): it can be forgotten then. */
  expires_at: number;
}
