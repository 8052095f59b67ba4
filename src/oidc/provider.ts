import type { IncomingMessage } from 'node:http';
import Provider, { errors, type Adapter, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import { DPOP_PROOF_ALGORITHMS } from '../domain/access-tokens.ts';
import { corsOriginAllowed, DEVICE_CODE_GRANT, matchesWildcardCallback, requiresPkce } from '../domain/applications.ts';
import { IDENTITY_CLAIMS } from '../domain/authorization.ts';
import { secretMatches } from '../domain/ids.ts';
import { mayIntrospect } from '../domain/tokens.ts';
import { CLIENT_ASSERTION_ALGS, TOKEN_ENDPOINT_AUTH_METHODS, type KeyMaterial } from '../domain/model.ts';
import type { ApplicationDirectory } from '../services/application-directory.ts';
import { MetadataDocumentError, type Freshness } from '../services/client-metadata-documents.ts';
import { readTenantSettings } from '../services/tenant.ts';
import type { SignIn } from '../services/sign-in.ts';
import { recordRevocations } from '../services/revocations.ts';
import { recordUse } from '../services/usage.ts';
import { mapAdapterErrors, StoreUnavailableError, type Stores } from '../store/index.ts';
import { jwtAccessTokens } from './access-tokens.ts';
import { accountFinder } from './accounts.ts';
import { deviceCodePolling } from './device-polling.ts';
import { assertTrusted, MetadataDocumentUnusable } from './application-errors.ts';
import { authorizationRequestValidator, installOpenRedirectProtection } from './authorization-hooks.ts';
import { loadedApplication, rememberApplication } from './context.ts';
import { interactionPolicyFor, loadExistingGrant } from './interaction-policy.ts';
import { providerJwks } from './keys.ts';
import { registerPasswordGrant } from './password-grant.ts';
import { recordProtocolEvents } from './protocol-events.ts';
import { resourceIndicatorHooks } from './resource-hooks.ts';
import { refreshTokenTtl, tokenHooks } from './token-hooks.ts';
import { issuerBasePath, issuerUrl } from '../domain/issuer.ts';

export interface ProviderOptions {
  issuer: string;
  stores: Stores;
  /** Where every client is found (src/services/application-directory.ts). */
  directory: ApplicationDirectory;
  keys: KeyMaterial;
  /** The key material as this process uses it now (it follows rotations), for verifying the tokens Gatehouse issued. */
  currentKeys: () => KeyMaterial;
  cookieKeys: string[];
  /** Gatehouse's one reading of the client's address, scheme and host (src/http/client-address.ts). */
  requestOrigin: RequestOrigin;
  logger: Logger;
  signIn: SignIn;
  /** Seconds between two polls of a device (RFC 8628 `interval`, enforced in src/oidc/device-polling.ts). */
  devicePollIntervalSeconds: number;
  /** The pages oidc-provider renders itself, drawn by the HTTP layer (`src/http/pages/provider-pages.ts`). */
  pages: ProviderPages;
}

/** The HTML oidc-provider renders on its own routes: its error page, RP-initiated logout's pages, web_message and /activate. */
export interface ProviderPages {
  renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, error: Error): Promise<void>;
  logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void>;
  /** `response_mode=web_message`, registered as a response mode. */
  webMessage(ctx: KoaContextWithOIDC, redirectUri: string, response: Record<string, unknown>): Promise<void>;
  /** The device flow's pages at /activate: enter the code, compare it, connected. */
  userCodeInputSource(ctx: KoaContextWithOIDC, form: string, out: unknown, err?: Error & { userCode?: string }): Promise<void>;
  userCodeConfirmSource(ctx: KoaContextWithOIDC, form: string, client: { clientName?: string; clientId: string }, deviceInfo: unknown, userCode: string): Promise<void>;
  deviceSuccessSource(ctx: KoaContextWithOIDC): Promise<void>;
}

export interface RequestOrigin {
  address(req: IncomingMessage): string;
  protocol(req: IncomingMessage): string;
  host(req: IncomingMessage): string | undefined;
}

/**
 * Koa's `proxy` flag would believe X-Forwarded-For, -Proto and -Host from anyone: it stays off, and every context the
 * provider creates (its routes, `interactionDetails`, its cookies) reads the address (`ctx.ip`, used by the password
 * grant) and the scheme (`ctx.secure`, for Secure cookies) from Gatehouse's own reading instead. The host is always the
 * issuer's: oidc-provider builds its endpoints' URLs (discovery, redirects, client assertion audiences) from it, and a
 * Host header chosen by a caller must never put another origin in an answer a cache could keep.
 */
function readRequestOrigin(provider: Provider, origin: RequestOrigin, issuer: string): void {
  provider.proxy = false;
  const { host } = new URL(issuer);
  Object.defineProperties(provider.request, {
    ip: { get(this: { req: IncomingMessage }) { return origin.address(this.req); } },
    protocol: { get(this: { req: IncomingMessage }) { return origin.protocol(this.req); } },
    host: { get() { return host; } },
  });
}

/**
 * oidc-provider finds clients through the application directory; it never writes them. The application behind each
 * client is kept for the request (src/oidc/context.ts), where every hook reads it.
 */
class ApplicationClientAdapter implements Adapter {
  private readonly directory: ApplicationDirectory;
  /** A client id URL whose document failed in a request fails again at once in it (the error handler looks it up anew). */
  private readonly failed = new WeakMap<object, Map<string, MetadataDocumentUnusable>>();
  constructor(directory: ApplicationDirectory) {
    this.directory = directory;
  }
  async find(id: string) {
    const ctx = Provider.ctx;
    const failure = ctx && this.failed.get(ctx)?.get(id);
    if (failure) throw failure;
    let entry;
    try {
      entry = await this.directory.resolve(id, { freshness: freshnessFor(ctx), ...(ctx ? { address: ctx.ip } : {}) });
    } catch (err) {
      if (!(err instanceof MetadataDocumentError)) throw err;
      const unusable = new MetadataDocumentUnusable(err);
      if (ctx) this.failed.set(ctx, (this.failed.get(ctx) ?? new Map()).set(id, unusable));
      throw unusable;
    }
    if (!entry) return undefined;
    if (ctx) {
      rememberApplication(ctx, id, entry.application);
      // Everywhere but the authorization endpoint (whose validator shows the person a page), an application the trust
      // ladder holds back is refused: no token, refresh, introspection or userinfo for it.
      if (!AUTHORIZATION_ROUTES.has(ctx.oidc?.route ?? '')) assertTrusted(entry.application);
    }
    return { ...entry.client };
  }
  async upsert() {
    throw new Error('applications are written through the Management API or registration, not by oidc-provider');
  }
  async findByUid() { return undefined; }
  async findByUserCode() { return undefined; }
  async consume() {}
  async destroy() {}
  async revokeByGrantId() {}
}

/** Routes where a person is sent to authorize an application: its document must be fresh, and a refusal is a page. */
const AUTHORIZATION_ROUTES = new Set(['authorization', 'pushed_authorization_request', 'resume']);

/**
 * How fresh a metadata document must be for this request: at the authorization endpoint, fetched again once stale
 * (a failure stops it); elsewhere the same, but a failure falls back to the last valid document; outside a provider
 * route, as kept.
 */
function freshnessFor(ctx: KoaContextWithOIDC | undefined): Freshness {
  if (!ctx?.oidc) return 'stored';
  if (ctx.oidc.route === 'resume') return 'stored';
  return AUTHORIZATION_ROUTES.has(ctx.oidc.route) ? 'authorization' : 'tokens';
}

/** oidc-provider's words for a grant type the client may not use, where a client asks for a grant (RFC 8628 §3.2 too). */
const GRANT_TYPE_NOT_ALLOWED: Record<string, string> = {
  token: 'requested grant type is not allowed for this client',
  device_authorization: `${DEVICE_CODE_GRANT} is not allowed for this client`,
};

/**
 * RFC 6749 §5.2: a client using a grant type it is not authorized for gets `unauthorized_client`. oidc-provider
 * (pinned version) says `invalid_request`; this rewrites that one answer. The token tests pin the message.
 */
async function grantTypeErrorAsRfc6749(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  const body = ctx.body as { error?: string; error_description?: string } | undefined;
  if (body?.error === 'invalid_request' && ctx.oidc?.route && body.error_description === GRANT_TYPE_NOT_ALLOWED[ctx.oidc.route]) {
    ctx.body = { ...body, error: 'unauthorized_client' };
  }
}

/**
 * oidc-provider reads request bodies as they come and ignores Content-Encoding: a compressed body would be misread.
 * Its endpoints take unencoded bodies only (RFC 9110 §8.4.1 allows the 415).
 */
function refuseEncodedBodies(renderError: ProviderPages['renderError']) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    const encoding = ctx.get('content-encoding').trim().toLowerCase();
    if (!encoding || encoding === 'identity') return next();
    const error = new errors.InvalidRequest(`the Content-Encoding "${encoding}" is not supported on this endpoint: send the body unencoded`);
    const out = { error: error.message, error_description: error.error_description as string };
    ctx.status = 415;
    ctx.set('Cache-Control', 'no-store');
    // As oidc-provider answers its own errors: its error page to a browser (a form post), JSON to anything else.
    if (ctx.accepts('json', 'html') === 'html') await renderError(ctx, out, error);
    else ctx.body = out;
  };
}

/**
 * A store outage inside oidc-provider is RFC 6749's `temporarily_unavailable` with a 503 and Retry-After, which
 * oidc-provider answers as it is (JSON, its error page, or the redirect back to the client), instead of a 500
 * `server_error` logged with a stack trace. The outage stays the error's cause, for the Express edges.
 */
function outageAsTemporarilyUnavailable(err: unknown): unknown {
  if (!(err instanceof StoreUnavailableError)) return err;
  const answer = Object.assign(new errors.TemporarilyUnavailable('the service is temporarily unavailable, try again shortly', { cause: err }), { status: 503, statusCode: 503 });
  Provider.ctx?.set('Retry-After', String(err.retryAfterSeconds));
  return answer;
}

/** RFC 6749 §5.1: responses carrying tokens (or personal data) are not cached, for HTTP/1.0 caches too. */
async function pragmaBesideNoStore(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  if (ctx.response.get('Cache-Control') === 'no-store') ctx.set('Pragma', 'no-cache');
}

const DPOP_REPLAY = 'DPoP proof JWT Replay detected';

/**
 * RFC 9449 §11.1: a replayed DPoP proof at the token endpoint is `invalid_dpop_proof`. oidc-provider (pinned version)
 * answers `invalid_grant` and keeps the reason in `error_detail`; its error event fires after the body is set and
 * before it is sent, so the answer is rewritten there. The DPoP tests pin the message.
 */
function dpopReplayAsInvalidProof(ctx: KoaContextWithOIDC, err: { error_detail?: string }): void {
  if (err.error_detail === DPOP_REPLAY && typeof ctx.body === 'object') ctx.body = { error: 'invalid_dpop_proof', error_description: DPOP_REPLAY };
}

/**
 * Discovery lists the registration endpoint only while the tenant allows dynamic registration, and says
 * `client_id_metadata_document_supported` only while it supports metadata documents (both read per request).
 */
function advertiseRegistration(stores: Stores, issuer: string) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    await next();
    if (ctx.oidc?.route !== 'discovery' || ctx.status !== 200) return;
    const settings = await readTenantSettings(stores.durable);
    if (settings.flags.enable_dynamic_client_registration) ctx.body = { ...(ctx.body as object), registration_endpoint: issuerUrl(issuer, 'oidc/register') };
    if (settings.client_id_metadata_document_supported) ctx.body = { ...(ctx.body as object), client_id_metadata_document_supported: true };
  };
}

/**
 * OIDC Core and RP-Initiated Logout let a relying party POST to /authorize and to logout. A cross-site POST carries the
 * session cookie only when it is SameSite=None (oidc-provider requires that setting for POST), which browsers accept
 * only on a Secure cookie. Over plain http (development) no cookie is Secure: there the session cookie is Lax, and a
 * cross-site POST arrives without the session (the user signs in again).
 */
async function laxCookiesOverPlainHttp(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  const cookies = ctx.response.get('set-cookie') as string[] | string;
  if (ctx.secure || !cookies) return;
  ctx.set('set-cookie', [cookies].flat().map((cookie) => cookie.replace(/;\s*samesite=none/i, '; samesite=lax')));
}

/** RFC 8628 §3.2: the device authorization response says how often to poll (oidc-provider leaves it to the default). */
function devicePollInterval(seconds: number) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    await next();
    if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200) ctx.body = { ...(ctx.body as object), interval: seconds };
  };
}

/** Response modes Gatehouse registers itself (oidc-provider's own web_message is an experiment with an inline script). */
function advertiseResponseModes(modes: string[]) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    await next();
    if (ctx.oidc?.route !== 'discovery' || ctx.status !== 200) return;
    const body = ctx.body as { response_modes_supported?: string[] };
    ctx.body = { ...body, response_modes_supported: [...(body.response_modes_supported ?? []), ...modes] };
  };
}

/** Where interactions happen: one path per prompt, all under `<issuer path>/u`. */
export const interactionPath = (issuer: string, prompt: string) => `${issuerBasePath(issuer)}/u/${prompt}`;

export function createProvider(options: ProviderOptions): Provider {
  const { stores, issuer, logger } = options;
  const issuerPath = issuerBasePath(issuer);
  const tokens = tokenHooks(stores);
  const { pages } = options;
  const accessTokens = jwtAccessTokens(stores, options.directory, issuer, options.currentKeys);

  const configuration: Configuration = {
    adapter: (model: string) => mapAdapterErrors(model === 'Client' ? new ApplicationClientAdapter(options.directory) : stores.oidcAdapter(model), outageAsTemporarilyUnavailable),
    clients: [],
    jwks: providerJwks(options.keys) as Configuration['jwks'],
    cookies: {
      keys: options.cookieKeys,
      // Sent on cross-site POSTs to /authorize and logout (and to silent authentication in an iframe): see laxCookiesOverPlainHttp.
      long: { signed: true, httpOnly: true, sameSite: 'none' },
      // One path for every interaction page (/u/login, /u/consent), which default cookie scoping would split.
      short: { signed: true, httpOnly: true, sameSite: 'lax', path: `${issuerPath}/u` },
    },
    routes: {
      authorization: '/authorize',
      token: '/oauth/token',
      userinfo: '/userinfo',
      revocation: '/oauth/revoke',
      introspection: '/oauth/introspect',
      end_session: '/oidc/logout',
      jwks: '/.well-known/jwks.json',
      registration: '/oidc/register',
      pushed_authorization_request: '/oauth/par',
      device_authorization: '/oauth/device/code',
      code_verification: '/activate',
    },
    claims: Object.fromEntries(Object.entries(IDENTITY_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
    findAccount: accountFinder(stores),
    extraParams: { audience: authorizationRequestValidator() },
    allowOmittingSingleRegisteredRedirectUri: false,
    enableHttpPostMethods: true,
    clientBasedCORS: (ctx, origin, client) => {
      const app = loadedApplication(ctx, client.clientId);
      return app !== undefined && corsOriginAllowed(app, origin);
    },
    responseTypes: ['code', 'id_token token', 'id_token'],
    // Discovery advertises only what applications can use: secrets are stored hashed (no client_secret_jwt) and
    // applications register no keys (no private_key_jwt).
    clientAuthMethods: [...TOKEN_ENDPOINT_AUTH_METHODS],
    // Client assertions (private_key_jwt) are signed with asymmetric keys only: secrets are stored hashed.
    enabledJWA: { dPoPSigningAlgValues: DPOP_PROOF_ALGORITHMS, clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS] },
    pkce: {
      required: (ctx, client) => requiresPkce(loadedApplication(ctx, client.clientId)),
    },
    interactions: {
      policy: interactionPolicyFor(stores),
      url: (_ctx, interaction) => `${interactionPath(issuer, interaction.prompt.name === 'login' ? 'login' : 'consent')}?state=${interaction.uid}`,
    },
    formats: { customizers: { jwt: accessTokens.customizeJwt } },
    loadExistingGrant: loadExistingGrant(stores, issuer),
    issueRefreshToken: tokens.issueRefreshToken as Configuration['issueRefreshToken'],
    rotateRefreshToken: tokens.rotateRefreshToken,
    extraTokenClaims: tokens.extraTokenClaims as Configuration['extraTokenClaims'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => mayIntrospect(client.clientId, token.clientId) },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource: pages.logoutSource, postLogoutSuccessSource: pages.postLogoutSuccessSource },
      // OpenID Back-Channel Logout 1.0, for first-party applications that register a URL (src/domain/applications.ts).
      backchannelLogout: { enabled: true },
      // RFC 8628, for first-party applications that enable the grant (src/domain/applications.ts). The user code page is /activate.
      deviceFlow: {
        enabled: true,
        userCodeInputSource: pages.userCodeInputSource,
        userCodeConfirmSource: pages.userCodeConfirmSource,
        successSource: pages.deviceSuccessSource,
      },
      resourceIndicators: resourceIndicatorHooks(stores) as NonNullable<Configuration['features']>['resourceIndicators'],
    },
    ttl: {
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      // Grants outlive every refresh-token chain built on them; consent revocation removes them explicitly.
      Grant: 2 * 365 * 24 * 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: (ctx, token, client) => refreshTokenTtl(ctx as KoaContextWithOIDC, token as never, client),
      // Access tokens live as long as their API says (token_lifetime); 1 hour for userinfo-only tokens.
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
    },
    renderError: pages.renderError,
  };

  const provider = new Provider(issuer, configuration);
  readRequestOrigin(provider, options.requestOrigin, issuer);
  // Client secrets are stored as SHA-256 hashes: compare the hash of what the client presents.
  provider.Client.prototype.compareClientSecret = function compareHashedSecret(this: { clientSecret?: string }, actual: string) {
    return Promise.resolve(Boolean(this.clientSecret) && secretMatches(actual, this.clientSecret as string));
  };
  const exactRedirectUri = provider.Client.prototype.redirectUriAllowed;
  provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(this: InstanceType<Provider['Client']>, value: string) {
    if (exactRedirectUri.call(this, value)) return true;
    const app = loadedApplication(Provider.ctx, this.clientId);
    return app?.is_first_party === true && matchesWildcardCallback(value, app.callbacks);
  };
  registerPasswordGrant(provider, stores, options.signIn);
  provider.use(refuseEncodedBodies(pages.renderError));
  provider.registerResponseMode('web_message', pages.webMessage as Parameters<Provider['registerResponseMode']>[1]);
  provider.use(advertiseResponseModes(['web_message']));
  provider.use(laxCookiesOverPlainHttp);
  provider.use(grantTypeErrorAsRfc6749);
  provider.use(pragmaBesideNoStore);
  provider.use(devicePollInterval(options.devicePollIntervalSeconds));
  provider.use(deviceCodePolling(stores.redis, options.devicePollIntervalSeconds));
  provider.use(advertiseRegistration(stores, issuer));
  provider.use(accessTokens.introspection(configuration.features?.introspection?.allowedPolicy));
  accessTokens.acceptAtUserinfo(provider);
  installOpenRedirectProtection(provider);
  provider.on('grant.error', dpopReplayAsInvalidProof);
  provider.on('server_error', (ctx, err) => logger.error({ err, route: ctx.oidc?.route }, 'oidc-provider server error'));
  provider.on('backchannel.error', (_ctx: KoaContextWithOIDC, err: Error, client: { clientId: string }) => logger.warn({ client_id: client.clientId, reason: err.message }, 'back-channel logout failed'));
  provider.on('device_authorization.success', (ctx: KoaContextWithOIDC) => logger.info({ client_id: ctx.oidc.client?.clientId }, 'device authorization started'));
  recordProtocolEvents(provider, issuer);
  // oidc-provider revoked a grant itself (a refresh token revoked at /oauth/revoke or replayed, a code replayed, a logout):
  // its JWT access tokens end at resource servers too. It tells only once the grant is gone, so a failure is logged.
  provider.on('grant.revoked', (_ctx: KoaContextWithOIDC, grantId: string) => {
    recordRevocations(stores.durable, [{ kind: 'grant', grantId }]).catch((err) => logger.error({ err }, 'could not record a revoked grant for resource servers'));
  });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const app = ctx.oidc.client && loadedApplication(ctx, ctx.oidc.client.clientId);
    if (app) recordUse(stores.durable, app).catch((err) => logger.warn({ err, client_id: app.client_id }, 'could not record application use'));
  });
  return provider;
}
