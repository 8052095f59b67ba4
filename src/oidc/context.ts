import { decodeJwt } from 'jose';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Application, ResourceServer, SubjectType } from '../domain/model.ts';

/** Per request: the applications the client adapter resolved, by the protocol client id oidc-provider knows them by. */
const resolved = new WeakMap<object, Map<string, Application>>();

/**
 * Called by the client adapter (src/oidc/provider.ts) for every client oidc-provider looks up in a request, with what
 * the application directory answered: the hooks read our application here, never from oidc-provider's client object.
 */
export function rememberApplication(ctx: object, clientId: string, app: Application): void {
  resolved.set(ctx, (resolved.get(ctx) ?? new Map()).set(clientId, app));
}

/** The application behind a client oidc-provider looked up in this request, or undefined (hooks then fail closed). */
export const loadedApplication = (ctx: object | undefined, clientId: string): Application | undefined => (ctx ? resolved.get(ctx)?.get(clientId) : undefined);

/** The application behind `ctx.oidc.client` (or another client of this request): resolved by the directory already. */
export function applicationOf(ctx: KoaContextWithOIDC, clientId = ctx.oidc.client?.clientId): Application {
  const app = clientId === undefined ? undefined : loadedApplication(ctx, clientId);
  if (!app) throw new errors.InvalidClient('client not found');
  return app;
}

const apis = new WeakMap<object, Map<string, ResourceServer>>();

/** Keeps an API read for a request (by the resource hook), so that the token's claims do not read it again. */
export function rememberApi(ctx: object, api: ResourceServer): void {
  apis.set(ctx, (apis.get(ctx) ?? new Map()).set(api.identifier, api));
}

export const loadedApiOf = (ctx: object | undefined, identifier: string): ResourceServer | undefined => (ctx ? apis.get(ctx)?.get(identifier) : undefined);

/** `user` for every flow with an end user; `client` for client credentials. */
export const subjectTypeOf = (ctx: KoaContextWithOIDC): SubjectType =>
  ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials' ? 'client' : 'user';

/**
 * The raw parameters of the request, before oidc-provider filters or rewrites them. An authorization request that
 * names a pushed request (RFC 9126) means the parameters that were pushed: oidc-provider keeps them as an unsigned
 * JWT, whose own claims (`iss`, `aud`, `exp`…) are not parameters.
 */
export function rawParameters(ctx: KoaContextWithOIDC): Record<string, unknown> {
  const pushed = ctx.oidc.entities.PushedAuthorizationRequest as { request: string } | undefined;
  if (pushed && ctx.oidc.route === 'authorization') {
    const parameterNames = ctx.oidc.params ?? {};
    return Object.fromEntries(Object.entries(decodeJwt(pushed.request)).filter(([name]) => name in parameterNames));
  }
  const body = ctx.oidc.body as Record<string, unknown> | undefined;
  return ctx.method === 'POST' && body ? body : (ctx.query as Record<string, unknown>);
}

const unreachable = new WeakMap<object, readonly string[]>();

/** The requested scopes this application may never be granted for the requested APIs (set by the authorization validator). */
export const rememberUnreachableScopes = (ctx: object, scopes: readonly string[]) => void unreachable.set(ctx, scopes);
export const unreachableScopesOf = (ctx: object): readonly string[] => unreachable.get(ctx) ?? [];
