import { decodeJwt } from 'jose';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Application, ResourceServer, SubjectType } from '../domain/model.ts';
import type { Stores } from '../store/index.ts';

const applications = new WeakMap<object, Application>();

/** The stored application behind `ctx.oidc.client`, loaded once per request. */
export async function applicationOf(ctx: KoaContextWithOIDC, stores: Stores, clientId = ctx.oidc.client?.clientId): Promise<Application> {
  const cached = applications.get(ctx);
  if (cached && cached.client_id === clientId) return cached;
  const app = clientId ? await stores.durable.applications.get(clientId) : undefined;
  if (!app) throw new errors.InvalidClient('client not found');
  applications.set(ctx, app);
  return app;
}

/** Keeps the application read for a request (by the client adapter), so that the hooks do not read it again. */
export function rememberApplication(ctx: object, app: Application): void {
  applications.set(ctx, app);
}

/** The application `applicationOf` already loaded for this request, for hooks that must be synchronous. */
export function loadedApplicationOf(ctx: KoaContextWithOIDC, clientId: string): Application | undefined {
  const cached = applications.get(ctx);
  return cached?.client_id === clientId ? cached : undefined;
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
