import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { apiTokenServesUserinfo, GRANT_ID_CLAIM, tokenSubjectType } from '../domain/access-tokens.ts';
import { IDENTITY_SCOPES } from '../domain/authorization.ts';
import type { KeyMaterial } from '../domain/model.ts';
import { findApiByIdentifier } from '../services/access.ts';
import type { ApplicationDirectory } from '../services/application-directory.ts';
import { tokenGrantIsValid, type IssuedTokenSubject } from '../services/token-grants.ts';
import type { Stores } from '../store/index.ts';
import { currentPublicKeys } from './keys.ts';

type AccessTokenModel = InstanceType<Provider['AccessToken']>;
type JwtCustomizer = NonNullable<NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt']>;
type IntrospectionPolicy = NonNullable<NonNullable<NonNullable<Configuration['features']>['introspection']>['allowedPolicy']>;

/** A JWT access token Gatehouse issued, verified: its claims, and whom it was issued for. */
interface IssuedAccessToken {
  claims: JWTPayload & { client_id?: string; scope?: string; cnf?: { jkt?: string }; [GRANT_ID_CLAIM]?: string };
  subject: IssuedTokenSubject;
}

/** Our tokens name one API; a list (RFC 7519 allows it) is read for its first entry. */
const firstAudience = (aud: unknown): string | undefined => (Array.isArray(aud) ? aud[0] : aud) as string | undefined;

/**
 * JWT access tokens as oidc-provider issues them for our APIs (`src/oidc/resource-hooks.ts`), and what Gatehouse
 * itself does with them: the grant they name, their verification, introspection (RFC 7662) and /userinfo.
 */
export function jwtAccessTokens(stores: Stores, directory: ApplicationDirectory, issuer: string, keys: () => KeyMaterial) {
  const jwks = currentPublicKeys(keys);

  /** The signature: the HS256 API the token names verifies it with its secret, every other token with our keys. */
  async function verifySignature(token: string) {
    if (decodeProtectedHeader(token).alg !== 'HS256') return jwtVerify(token, jwks(), { issuer, typ: 'at+jwt' });
    const audience = firstAudience(decodeJwt(token).aud);
    const api = typeof audience === 'string' ? await findApiByIdentifier(stores.durable, audience) : undefined;
    if (api?.signing_alg !== 'HS256' || !api.signing_secret) return undefined;
    return jwtVerify(token, new TextEncoder().encode(api.signing_secret), { issuer, typ: 'at+jwt', algorithms: ['HS256'] });
  }

  /** Signature, issuer, type and expiry; else undefined. */
  async function verify(token: string): Promise<IssuedAccessToken | undefined> {
    try {
      const verified = await verifySignature(token);
      if (!verified) return undefined;
      const { payload } = verified;
      const claims = payload as IssuedAccessToken['claims'];
      const audience = firstAudience(claims.aud);
      if (typeof claims.client_id !== 'string' || typeof claims.sub !== 'string' || typeof audience !== 'string') return undefined;
      const user = tokenSubjectType(claims.sub, claims.client_id) === 'user';
      return {
        claims,
        subject: { clientId: claims.client_id, audience, ...(user ? { userId: claims.sub, grantId: claims[GRANT_ID_CLAIM] } : {}) },
      };
    } catch {
      return undefined;
    }
  }

  /** The token as an oidc-provider model (never stored), for the provider's own checks and policies. */
  const asModel = (provider: Provider, { claims, subject }: IssuedAccessToken, scope: string | undefined): AccessTokenModel =>
    (provider.AccessToken as unknown as { instantiate(payload: object): AccessTokenModel }).instantiate({
      jti: claims.jti, iat: claims.iat, exp: claims.exp, clientId: subject.clientId, accountId: subject.userId, grantId: subject.grantId,
      scope, ...(claims.cnf?.jkt ? { jkt: claims.cnf.jkt } : {}),
    });

  /** `formats.customizers.jwt`: a user's token names the protocol grant it was issued under, whose revocation ends it. */
  const customizeJwt: JwtCustomizer = (_ctx, token, jwt) => {
    const { grantId } = token as AccessTokenModel;
    if (grantId) jwt.payload[GRANT_ID_CLAIM] = grantId; // none for client credentials
  };

  /**
   * /userinfo with a first-party application's access token for an API (`apiTokenServesUserinfo`): oidc-provider
   * finds it as if it were stored (it never is), with the identity scopes its grant holds, while the grant stands.
   * Every other lookup is unchanged.
   */
  function acceptAtUserinfo(provider: Provider): void {
    const findStored = provider.AccessToken.find.bind(provider.AccessToken);
    provider.AccessToken.find = async function find(value: string, options?: { ignoreExpiration?: boolean }) {
      const ctx = Provider.ctx;
      if (ctx?.oidc?.route !== 'userinfo' || value.split('.').length !== 3) return findStored(value, options);
      const issued = await verify(value);
      if (!issued?.subject.grantId || !(await tokenGrantIsValid(stores, issued.subject, directory))) return undefined;
      const grant = await provider.Grant.find(issued.subject.grantId);
      const identityScopes = (grant?.getOIDCScope() ?? '').split(' ').filter((scope) => IDENTITY_SCOPES.has(scope));
      const application = (await directory.resolve(issued.subject.clientId))?.application;
      if (!application || !apiTokenServesUserinfo(application, identityScopes)) return undefined;
      return asModel(provider, issued, identityScopes.join(' '));
    } as typeof provider.AccessToken.find;
  }

  /**
   * RFC 7662 for our JWT access tokens, which oidc-provider refuses (`unsupported_token_type`): after the caller is
   * authenticated and the provider gave up, the answer is the token's claims while it verifies, the introspection
   * policy lets this caller learn about it and its grant stands; otherwise `{"active": false}`.
   */
  function introspection(allowedPolicy: IntrospectionPolicy | undefined) {
    return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
      await next();
      const body = ctx.body as { error?: string } | undefined;
      const { client, params } = ctx.oidc ?? {};
      if (ctx.oidc?.route !== 'introspection' || body?.error !== 'unsupported_token_type' || !client || typeof params?.token !== 'string') return;
      ctx.status = 200;
      ctx.body = { active: false };
      const issued = await verify(params.token);
      if (!issued) return;
      if (allowedPolicy && !(await allowedPolicy(ctx, client, asModel(ctx.oidc.provider, issued, issued.claims.scope)))) return;
      if (!(await tokenGrantIsValid(stores, issued.subject, directory))) return;
      ctx.body = { ...issued.claims, active: true, token_type: issued.claims.cnf?.jkt ? 'DPoP' : 'Bearer' };
    };
  }

  return { customizeJwt, acceptAtUserinfo, introspection };
}
