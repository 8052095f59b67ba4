import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { ApiAccessDecision } from '../domain/access.ts';
import type { ResourceServer } from '../domain/model.ts';
import { decideAccess, findApiByIdentifier, targetApis } from '../services/access.ts';
import type { Stores } from '../store/index.ts';
import { assertTrusted } from './application-errors.ts';
import { applicationOf, rawParameters, rememberApi, subjectTypeOf } from './context.ts';

/** How an API's tokens are signed: with the API's own secret for HS256, else with Gatehouse's key for its algorithm. */
function signingOf(api: ResourceServer) {
  if (api.signing_alg !== 'HS256') return { alg: api.signing_alg };
  // The rules give every HS256 API a secret; never sign with an empty key if a stored API lacks one.
  if (!api.signing_secret) throw new Error(`the HS256 API ${api.identifier} has no signing_secret`);
  return { alg: 'HS256' as const, key: Buffer.from(api.signing_secret, 'utf8') };
}

/** How oidc-provider issues tokens for one of our APIs: JWTs with the API's algorithm and lifetime. */
export const jwtResourceServerInfo = (api: ResourceServer, maxScopes: readonly string[]) => ({
  scope: maxScopes.join(' '),
  audience: api.identifier,
  accessTokenTTL: api.token_lifetime,
  accessTokenFormat: 'jwt' as const,
  jwt: { sign: signingOf(api) },
});

export function refusal(decision: Extract<ApiAccessDecision, { allowed: false }>): Error {
  return decision.error === 'unauthorized_client' ? new errors.UnauthorizedClient(decision.reason) : new errors.AccessDenied(decision.reason);
}

/**
 * RFC 8707 resource indicators, driven by our APIs: `audience` (Auth0) or `resource` names the API, else the tenant's
 * default audience; every decision comes from `decideApiAccess`.
 */
export function resourceIndicatorHooks(stores: Stores) {
  const { durable } = stores;

  /** Called only when the request has no `resource`: Auth0's `audience` (form field at the token endpoint), else the default. */
  async function requestedAudience(ctx: KoaContextWithOIDC): Promise<string | undefined> {
    const audience = ctx.oidc.route === 'token' ? rawParameters(ctx).audience : ctx.oidc.params?.audience;
    return (await targetApis(durable, { audience }))[0];
  }

  return {
    enabled: true,
    async defaultResource(ctx: KoaContextWithOIDC, _client: unknown, oneOf?: string[]) {
      if (oneOf) return oneOf;
      const audience = await requestedAudience(ctx);
      if (!audience && subjectTypeOf(ctx) === 'client') {
        throw new errors.InvalidTarget('no audience parameter was provided, and no default audience has been configured');
      }
      return audience as string;
    },
    useGrantedResource: () => true,
    async getResourceServerInfo(ctx: KoaContextWithOIDC, resourceIndicator: string) {
      const api = await findApiByIdentifier(durable, resourceIndicator);
      if (!api) throw new errors.InvalidTarget(`Service not found: ${resourceIndicator}`);
      rememberApi(ctx, api);
      const application = applicationOf(ctx);
      assertTrusted(application); // before the API decision: a pending application hears about that first
      const subjectType = subjectTypeOf(ctx);
      // The user, once known: signed in (resuming an authorization) or the account behind a code or refresh token.
      const userId = subjectType === 'user' ? ctx.oidc.account?.accountId ?? ctx.oidc.session?.accountId : undefined;
      const decision = await decideAccess(durable, application, api, subjectType, userId);
      if (!decision.allowed) throw refusal(decision);
      // Client credentials without `scope` get every scope of the client grant (Auth0's behaviour). The grant
      // handler reads `params.scope` after resolving resources, so setting it here is what it uses.
      if (subjectType === 'client' && !ctx.oidc.params?.scope) (ctx.oidc.params as { scope?: string }).scope = decision.maxScopes.join(' ');
      return jwtResourceServerInfo(api, decision.maxScopes);
    },
  };
}
