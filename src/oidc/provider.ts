import Provider, { errors, type Adapter, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import { decideApiAccess } from '../domain/access.ts';
import { toOidcClientMetadata, isStrictThirdParty } from '../domain/applications.ts';
import { secretMatches } from '../domain/ids.ts';
import type { Application, KeyMaterial, ResourceServer, SubjectType } from '../domain/model.ts';
import { readTenantSettings } from '../services/tenant.ts';
import type { Stores } from '../store/index.ts';
import { providerJwks } from './keys.ts';
import { renderErrorPage } from './render-error.ts';

export interface ProviderOptions {
  issuer: string;
  stores: Stores;
  keys: KeyMaterial;
  cookieKeys: string[];
  /** Whether Gatehouse sits behind a proxy that terminates TLS and sets X-Forwarded-*. */
  proxy: boolean;
  logger: Logger;
}

/** Extra client properties oidc-provider carries on `ctx.oidc.client`, read by our hooks. */
const EXTRA_CLIENT_PROPERTIES = ['is_first_party', 'third_party_security_mode', 'redirection_policy', 'registration_type'] as const;

/** oidc-provider reads clients through this view over the applications collection; it never writes them. */
class ApplicationClientAdapter implements Adapter {
  private readonly stores: Stores;
  constructor(stores: Stores) {
    this.stores = stores;
  }
  async find(id: string) {
    const app = await this.stores.durable.applications.get(id);
    if (!app) return undefined;
    return {
      ...toOidcClientMetadata(app),
      ...Object.fromEntries(EXTRA_CLIENT_PROPERTIES.map((p) => [p, app[p]]).filter(([, v]) => v !== undefined)),
    };
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

/** `user` for every flow with an end user; `client` for client credentials. */
const subjectTypeOf = (ctx: KoaContextWithOIDC): SubjectType =>
  ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials' ? 'client' : 'user';

function oauthError(error: 'access_denied' | 'unauthorized_client' | 'invalid_target', description: string): Error {
  if (error === 'invalid_target') return new errors.InvalidTarget(description);
  if (error === 'unauthorized_client') return new errors.UnauthorizedClient(description);
  return new errors.AccessDenied(description);
}

export function createProvider(options: ProviderOptions): Provider {
  const { stores, issuer, logger } = options;
  const { durable } = stores;
  const clientAdapter = new ApplicationClientAdapter(stores);
  const issuerPath = new URL(issuer).pathname.replace(/\/$/, '');

  async function findApi(identifier: string): Promise<ResourceServer | undefined> {
    return (await durable.resourceServers.find({ identifier }, { limit: 1 }))[0];
  }

  async function requestedAudience(ctx: KoaContextWithOIDC): Promise<string | undefined> {
    const fromRequest = ctx.oidc.route === 'token' ? (ctx.oidc.body as Record<string, unknown> | undefined)?.audience : ctx.oidc.params?.audience;
    if (typeof fromRequest === 'string' && fromRequest) return fromRequest;
    const { default_audience } = await readTenantSettings(durable);
    return default_audience || undefined;
  }

  const configuration: Configuration = {
    adapter: (model: string) => (model === 'Client' ? clientAdapter : stores.oidcAdapter(model)),
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
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'updated_at'],
    },
    async findAccount(_ctx, sub) {
      const user = await durable.users.get(sub);
      if (!user || user.blocked) return undefined;
      return {
        accountId: user.user_id,
        async claims() {
          return {
            sub: user.user_id,
            email: user.email,
            email_verified: user.email_verified,
            ...(user.name ? { name: user.name } : {}),
            updated_at: Math.floor(Date.parse(user.updated_at) / 1000),
          };
        },
      };
    },
    extraParams: ['audience'],
    extraClientMetadata: {
      properties: [...EXTRA_CLIENT_PROPERTIES],
      validator() {}, // written by our own validated code paths; lenient on load by design
    },
    allowOmittingSingleRegisteredRedirectUri: false,
    responseTypes: ['code', 'id_token token', 'id_token'],
    pkce: {
      required: (_ctx, client) => client.tokenEndpointAuthMethod === 'none' || isStrictThirdParty(client as unknown as Application),
    },
    interactions: {
      url: (_ctx, interaction) => `${issuerPath}/u/${interaction.prompt.name === 'login' ? 'login' : 'consent'}?state=${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx) {
          const audience = await requestedAudience(ctx);
          if (!audience && subjectTypeOf(ctx) === 'client') {
            throw new errors.InvalidTarget('no audience parameter was provided, and no default audience has been configured');
          }
          return audience as string;
        },
        useGrantedResource: () => true,
        async getResourceServerInfo(ctx, resourceIndicator, client) {
          const api = await findApi(resourceIndicator);
          if (!api) throw oauthError('invalid_target', `Service not found: ${resourceIndicator}`);
          const application = await durable.applications.get(client.clientId);
          if (!application) throw new errors.InvalidClient('client not found');
          const clientGrants = [
            ...(await durable.clientGrants.find({ client_id: application.client_id, audience: api.identifier })),
            ...(await durable.clientGrants.find({ default_for: 'third_party_clients', audience: api.identifier })),
          ];
          const decision = decideApiAccess({ api, application, subjectType: subjectTypeOf(ctx), clientGrants });
          if (!decision.allowed) throw oauthError(decision.error, decision.reason);
          // Client credentials without `scope` get every scope of the client grant (Auth0's behaviour). The grant
          // handler reads `params.scope` after resolving resources, so setting it here is what it uses.
          if (subjectTypeOf(ctx) === 'client' && !ctx.oidc.params?.scope) (ctx.oidc.params as { scope?: string }).scope = decision.maxScopes.join(' ');
          return {
            scope: decision.maxScopes.join(' '),
            audience: api.identifier,
            accessTokenTTL: api.token_lifetime,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: api.signing_alg } },
          };
        },
      },
    },
    ttl: {
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 365 * 24 * 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 30 * 24 * 3600,
      AccessToken: 3600,
      ClientCredentials: 3600,
    },
    renderError: renderErrorPage,
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = options.proxy;
  // Client secrets are stored as SHA-256 hashes: compare the hash of what the client presents.
  provider.Client.prototype.compareClientSecret = function compareHashedSecret(this: { clientSecret?: string }, actual: string) {
    return Promise.resolve(Boolean(this.clientSecret) && secretMatches(actual, this.clientSecret as string));
  };
  provider.on('server_error', (ctx, err) => logger.error({ err, route: ctx.oidc?.route }, 'oidc-provider server error'));
  return provider;
}
