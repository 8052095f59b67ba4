import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { isThirdParty } from '../domain/applications.ts';
import { authorizationRequest } from '../domain/authorization.ts';
import type { ResourceServer } from '../domain/model.ts';
import { mayIssueRefreshToken } from '../domain/tokens.ts';
import { decideAccess, findApiByIdentifier, targetApis } from '../services/access.ts';
import type { SignIn } from '../services/sign-in.ts';
import type { Stores } from '../store/index.ts';
import { userClaims } from './accounts.ts';
import { applicationOf } from './context.ts';
import { jwtResourceServerInfo, refusal } from './resource-hooks.ts';

const PARAMETERS = ['username', 'password', 'realm', 'scope', 'audience'];

/**
 * The resource-owner password grant (Auth0's `password`, with `realm` naming the connection), for first-party
 * applications that enable it; never for third-party ones. Tokens are minted with oidc-provider's own models, so
 * that refresh, revocation and introspection treat them like any other.
 */
export function registerPasswordGrant(provider: Provider, stores: Stores, signIn: SignIn): void {
  const { durable } = stores;
  provider.registerGrantType('password', async (ctx: KoaContextWithOIDC) => {
    const app = applicationOf(ctx);
    const client = ctx.oidc.client!; // authenticated by the token endpoint before any grant handler runs
    if (isThirdParty(app) || !app.grant_types.includes('password')) {
      throw new errors.UnauthorizedClient('the password grant is available only to first-party applications that enable it');
    }
    const params = ctx.oidc.params as Record<string, string | undefined>;
    if (!params.username || !params.password) throw new errors.InvalidRequest('username and password are required');

    const result = await signIn({ app, email: params.username, password: params.password, ...(params.realm ? { connection: params.realm } : {}), address: ctx.ip });
    if (!result.ok) {
      throw new errors.InvalidGrant(result.reason === 'too_many_attempts' ? `too many failed attempts: try again in ${result.retryAfterSeconds} s` : 'Wrong email or password.');
    }
    const { user } = result;

    const [target] = await targetApis(durable, { audience: params.audience });
    let api: ResourceServer | undefined;
    let maxScopes: string[] = [];
    if (target) {
      api = await findApiByIdentifier(durable, target);
      if (!api) throw new errors.InvalidTarget(`Service not found: ${target}`);
      const decision = await decideAccess(durable, app, api, 'user', user.user_id);
      if (!decision.allowed) throw refusal(decision);
      maxScopes = decision.maxScopes;
    }
    const request = authorizationRequest(app, params.scope?.split(' ') ?? [], new Map(api ? [[api.identifier, new Set(maxScopes)]] : []));
    const { oidcScopes } = request;
    const apiScopes = api ? request.resourceScopes[api.identifier] ?? [] : [];

    const grant = new provider.Grant({ accountId: user.user_id, clientId: client.clientId });
    if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
    if (api && apiScopes.length) grant.addResourceScope(api.identifier, apiScopes.join(' '));
    const grantId = await grant.save();

    const at = new provider.AccessToken({ accountId: user.user_id, client, grantId, gty: 'password' });
    if (api) {
      at.resourceServer = new provider.ResourceServer(api.identifier, jwtResourceServerInfo(api, maxScopes));
      at.scope = apiScopes.join(' ');
    } else {
      at.scope = oidcScopes.join(' ');
    }
    const accessToken = await at.save();
    ctx.oidc.entity('AccessToken', at); // as oidc-provider's own grants do: the token events read it (src/oidc/protocol-events.ts)
    const scope = [...apiScopes, ...oidcScopes].join(' ');

    let refreshToken: string | undefined;
    if (mayIssueRefreshToken(app, new Set(oidcScopes), api ? [api] : [])) {
      const rt = new provider.RefreshToken({
        accountId: user.user_id, client, grantId, gty: 'password', rotations: 0, scope, expiresWithSession: false,
        ...(api ? { resource: api.identifier } : {}),
      });
      refreshToken = await rt.save();
    }
    let idToken: string | undefined;
    if (oidcScopes.includes('openid')) {
      const token = new provider.IdToken({ ...userClaims(user), amr: ['pwd'], auth_time: Math.floor(Date.now() / 1000) }, { ctx });
      (token as unknown as { scope: string }).scope = oidcScopes.join(' '); // typed loosely upstream; scope filters the claims
      idToken = await token.issue({ use: 'idtoken' });
    }
    ctx.body = {
      access_token: accessToken, token_type: 'Bearer', expires_in: at.expiration, scope: scope || undefined,
      ...(refreshToken ? { refresh_token: refreshToken } : {}), ...(idToken ? { id_token: idToken } : {}),
    };
  }, PARAMETERS);
}
