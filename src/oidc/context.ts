import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Application, SubjectType } from '../domain/model.ts';
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

/** `user` for every flow with an end user; `client` for client credentials. */
export const subjectTypeOf = (ctx: KoaContextWithOIDC): SubjectType =>
  ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials' ? 'client' : 'user';

/** The raw parameters of the request, before oidc-provider filters them to those it knows. */
export function rawParameters(ctx: KoaContextWithOIDC): Record<string, unknown> {
  const body = ctx.oidc.body as Record<string, unknown> | undefined;
  return ctx.method === 'POST' && body ? body : (ctx.query as Record<string, unknown>);
}
