import express, { type Express, type Router } from 'express';
import { inject, type DispatchFunc } from 'light-my-request';
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './management-api.ts';

export type ManagementClient = Client<paths>;

/** An Auth0-shaped Management API error, as the console shows it (beside the field it names, when it names one). */
export interface ApiFailure {
  statusCode: number;
  message: string;
  errorCode?: string;
}

/**
 * `fetch` for the Management API, answered in this process: the request goes through the same router (guard, scopes,
 * rate limit, validation, rules) as one from the network, without a round trip through the issuer's URL.
 */
export function inProcessFetch(management: Router): typeof fetch {
  const app = ownPrototypes(express());
  app.disable('x-powered-by');
  app.use('/api/v2', management);
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const payload = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const res = await inject(app, {
      method: request.method as 'GET', url: `${url.pathname}${url.search}`, headers: Object.fromEntries(request.headers), ...(payload ? { payload } : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    return new Response(res.statusCode === 204 || !res.rawPayload.length ? null : res.rawPayload, { status: res.statusCode, headers });
  };
}

/**
 * light-my-request gives an Express app's requests and responses its own stream prototypes by re-parenting the
 * object above `app.request` (and `app.response`), which is Express's module-wide prototype: every request of the
 * process would then be a fake one. This app gets private copies of those prototypes for light-my-request to
 * re-parent, and Express's own stay untouched.
 */
function ownPrototypes(app: Express): Express {
  const own = (shared: object, self: Express) => Object.create(Object.defineProperties({}, Object.getOwnPropertyDescriptors(shared)), {
    app: { configurable: true, enumerable: true, writable: true, value: self },
  });
  app.request = own(express.request, app);
  app.response = own(express.response, app);
  return app;
}

/** The token endpoint's answer: the tokens, or an RFC 6749 error. */
export interface TokenAnswer {
  status: number;
  body: { access_token?: string; expires_in?: number; error?: string; error_description?: string };
}

/**
 * oidc-provider's token endpoint, answered in this process (the console's code exchange, the Test tab's
 * client-credentials request): the same endpoint every client uses, without a round trip through the issuer's URL.
 */
export function inProcessTokenEndpoint(providerCallback: DispatchFunc): (form: Record<string, string>) => Promise<TokenAnswer> {
  return async (form) => {
    const res = await inject(providerCallback, {
      method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString(),
    });
    return { status: res.statusCode, body: res.json() };
  };
}

/** A client typed by the OpenAPI document, calling with one operator's token. */
export const managementClient = (fetchImpl: typeof fetch, token: string): ManagementClient =>
  createClient<paths>({ baseUrl: 'http://gatehouse.invalid', fetch: fetchImpl, headers: { Authorization: `Bearer ${token}` } });

/** The data of a successful call, or the Management API's error as an exception the pages show. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  throw new ManagementError(toFailure(error, response.status));
}

const toFailure = (error: unknown, status: number): ApiFailure => {
  const body = (error ?? {}) as Partial<ApiFailure>;
  return { statusCode: body.statusCode ?? status, message: body.message ?? `The Management API answered ${status}`, ...(body.errorCode ? { errorCode: body.errorCode } : {}) };
};

export class ManagementError extends Error {
  readonly failure: ApiFailure;
  constructor(failure: ApiFailure) {
    super(failure.message);
    this.failure = failure;
  }
}
