import type { IncomingMessage } from 'node:http';
import Provider, { type Adapter, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import { corsOriginAllowed, matchesWildcardCallback, requiresPkce } from '../domain/applications.ts';
import { IDENTITY_CLAIMS } from '../domain/authorization.ts';
import { secretMatches } from '../domain/ids.ts';
import { mayIntrospect } from '../domain/tokens.ts';
import type { KeyMaterial } from '../domain/model.ts';
import type { ApplicationDirectory } from '../services/application-directory.ts';
import { MetadataDocumentError, type Freshness } from '../services/client-metadata-documents.ts';
import { readTenantSettings } from '../services/tenant.ts';
import type { SignIn } from '../services/sign-in.ts';
import { recordUse } from '../services/usage.ts';
import type { Stores } from '../store/index.ts';
import { accountFinder } from './accounts.ts';
import { assertTrusted, MetadataDocumentUnusable } from './application-errors.ts';
import { authorizationRequestValidator, installOpenRedirectProtection } from './authorization-hooks.ts';
import { loadedApplication, rememberApplication } from './context.ts';
import { interactionPolicyFor, loadExistingGrant } from './interaction-policy.ts';
import { providerJwks } from './keys.ts';
import { registerPasswordGrant } from './password-grant.ts';
import { resourceIndicatorHooks } from './resource-hooks.ts';
import { refreshTokenTtl, tokenHooks } from './token-hooks.ts';

export interface ProviderOptions {
  issuer: string;
  stores: Stores;
  /** Where every client is found (src/services/application-directory.ts). */
  directory: ApplicationDirectory;
  keys: KeyMaterial;
  cookieKeys: string[];
  /** Gatehouse's one reading of the client's address, scheme and host (src/http/client-address.ts). */
  requestOrigin: RequestOrigin;
  logger: Logger;
  signIn: SignIn;
  /** The pages oidc-provider renders itself, drawn by the HTTP layer (`src/http/pages/provider-pages.ts`). */
  pages: ProviderPages;
}

/** The HTML oidc-provider renders on its own routes: its error page and RP-initiated logout's two pages. */
export interface ProviderPages {
  renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, error: Error): Promise<void>;
  logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void>;
}

export interface RequestOrigin {
  address(req: IncomingMessage): string;
  protocol(req: IncomingMessage): string;
  host(req: IncomingMessage): string | undefined;
}

/**
 * Koa's `proxy` flag would believe X-Forwarded-For, -Proto and -Host from anyone: it stays off, and every context the
 * provider creates (its routes, `interactionDetails`, its cookies) reads the address (`ctx.ip`, used by the password
 * grant), the scheme (`ctx.secure`, for Secure cookies) and the host from Gatehouse's own reading instead.
 */
function readRequestOrigin(provider: Provider, origin: RequestOrigin): void {
  provider.proxy = false;
  Object.defineProperties(provider.request, {
    ip: { get(this: { req: IncomingMessage }) { return origin.address(this.req); } },
    protocol: { get(this: { req: IncomingMessage }) { return origin.protocol(this.req); } },
    host: { get(this: { req: IncomingMessage }) { return origin.host(this.req) ?? ''; } },
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

const GRANT_TYPE_NOT_ALLOWED = 'requested grant type is not allowed for this client';

/**
 * RFC 6749 §5.2: a client using a grant type it is not authorized for gets `unauthorized_client`. oidc-provider
 * (pinned version) says `invalid_request`; this rewrites that one answer. The token tests pin the message.
 */
async function grantTypeErrorAsRfc6749(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  const body = ctx.body as { error?: string; error_description?: string } | undefined;
  if (ctx.oidc?.route === 'token' && body?.error === 'invalid_request' && body.error_description === GRANT_TYPE_NOT_ALLOWED) {
    ctx.body = { ...body, error: 'unauthorized_client' };
  }
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
    if (settings.flags.enable_dynamic_client_registration) ctx.body = { ...(ctx.body as object), registration_endpoint: `${issuer}/oidc/register` };
    if (settings.client_id_metadata_document_supported) ctx.body = { ...(ctx.body as object), client_id_metadata_document_supported: true };
  };
}

/** Where interactions happen: one path per prompt, all under `<issuer path>/u`. */
export const interactionPath = (issuer: string, prompt: string) => `${new URL(issuer).pathname.replace(/\/$/, '')}/u/${prompt}`;

export function createProvider(options: ProviderOptions): Provider {
  const { stores, issuer, logger } = options;
  const issuerPath = new URL(issuer).pathname.replace(/\/$/, '');
  const tokens = tokenHooks(stores);
  const { pages } = options;

  const configuration: Configuration = {
    adapter: (model: string) => (model === 'Client' ? new ApplicationClientAdapter(options.directory) : stores.oidcAdapter(model)),
    clients: [],
    jwks: providerJwks(options.keys) as Configuration['jwks'],
    cookies: {
      keys: options.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
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
    },
    claims: Object.fromEntries(Object.entries(IDENTITY_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
    findAccount: accountFinder(stores),
    extraParams: { audience: authorizationRequestValidator() },
    allowOmittingSingleRegisteredRedirectUri: false,
    clientBasedCORS: (ctx, origin, client) => {
      const app = loadedApplication(ctx, client.clientId);
      return app !== undefined && corsOriginAllowed(app, origin);
    },
    responseTypes: ['code', 'id_token token', 'id_token'],
    pkce: {
      required: (ctx, client) => requiresPkce(loadedApplication(ctx, client.clientId)),
    },
    interactions: {
      policy: interactionPolicyFor(stores),
      url: (_ctx, interaction) => `${interactionPath(issuer, interaction.prompt.name === 'login' ? 'login' : 'consent')}?state=${interaction.uid}`,
    },
    loadExistingGrant: loadExistingGrant(stores, issuer),
    issueRefreshToken: tokens.issueRefreshToken as Configuration['issueRefreshToken'],
    rotateRefreshToken: tokens.rotateRefreshToken,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => mayIntrospect(client.clientId, token.clientId) },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource: pages.logoutSource, postLogoutSuccessSource: pages.postLogoutSuccessSource },
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
  readRequestOrigin(provider, options.requestOrigin);
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
  provider.use(grantTypeErrorAsRfc6749);
  provider.use(advertiseRegistration(stores, issuer));
  installOpenRedirectProtection(provider);
  provider.on('server_error', (ctx, err) => logger.error({ err, route: ctx.oidc?.route }, 'oidc-provider server error'));
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const app = ctx.oidc.client && loadedApplication(ctx, ctx.oidc.client.clientId);
    if (app) recordUse(stores.durable, app).catch((err) => logger.warn({ err, client_id: app.client_id }, 'could not record application use'));
  });
  return provider;
}
