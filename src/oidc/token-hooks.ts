import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ResourceServer } from '../domain/model.ts';
import { dialectClaims, mayIssueRefreshToken, refreshTokenLifetime, rotatesRefreshTokens, tokenDialectOf } from '../domain/tokens.ts';
import { findApiByIdentifier } from '../services/access.ts';
import type { Stores } from '../store/index.ts';
import { applicationOf, loadedApiOf, loadedApplication } from './context.ts';

interface TokenSource {
  scopes: Set<string>;
  resource?: string | string[];
  iiat?: number;
  iat?: number;
}

/** What `extraTokenClaims` reads of an access token (or client credentials token) being issued. */
interface IssuedToken {
  kind: string;
  clientId: string;
  scope?: string;
  gty?: string;
  resourceServer?: { audience?: string };
}

/** Refresh-token policy: when one is issued, when it rotates, how long it lives (rules in src/domain/tokens.ts). */
export function tokenHooks(stores: Stores) {
  const { durable } = stores;
  return {
    async issueRefreshToken(ctx: KoaContextWithOIDC, client: { clientId: string }, source: TokenSource) {
      const app = applicationOf(ctx, client.clientId);
      const identifiers = source.resource === undefined ? [] : [source.resource].flat();
      const apis = (await Promise.all(identifiers.map((id) => findApiByIdentifier(durable, id)))).filter((api): api is ResourceServer => Boolean(api));
      return mayIssueRefreshToken(app, source.scopes, apis);
    },
    async rotateRefreshToken(ctx: KoaContextWithOIDC) {
      return rotatesRefreshTokens(applicationOf(ctx));
    },
    /** The claims of the API's token dialect (src/domain/tokens.ts), on access tokens for one of our APIs. */
    async extraTokenClaims(ctx: KoaContextWithOIDC | undefined, token: IssuedToken) {
      const audience = token.resourceServer?.audience;
      const api = audience ? loadedApiOf(ctx, audience) ?? await findApiByIdentifier(durable, audience) : undefined;
      if (!api) return undefined;
      const grant = token.kind === 'ClientCredentials' ? 'client-credentials' : token.gty === 'password' ? 'password' : undefined;
      return dialectClaims(tokenDialectOf(api), { clientId: token.clientId, scopes: token.scope?.split(' ').filter(Boolean) ?? [], ...(grant ? { grant } : {}) });
    },
  };
}

/** Used only if no hook loaded the application first, which oidc-provider's grant handlers always do. */
const FALLBACK_REFRESH_TOKEN_TTL = 24 * 3600;

/**
 * ttl.RefreshToken must be synchronous, so it reads the application that `issueRefreshToken` or
 * `rotateRefreshToken` loaded earlier in the same request.
 */
export function refreshTokenTtl(ctx: KoaContextWithOIDC | undefined, token: TokenSource, client: { clientId: string }): number {
  const app = ctx && loadedApplication(ctx, client.clientId);
  const now = Math.floor(Date.now() / 1000);
  return app ? refreshTokenLifetime(app, token.iiat ?? token.iat ?? now, now) : FALLBACK_REFRESH_TOKEN_TTL;
}
