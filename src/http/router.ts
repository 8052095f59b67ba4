import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import helmet, { strictTransportSecurity } from 'helmet';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Stores } from '../store/index.ts';
import { clientErrorStatus, storeOutage } from './errors.ts';
import { jsonTokenRequests } from './json-token-requests.ts';
import { requestLogging } from './logging.ts';
import { operationsRouter } from './ops.ts';
import { isApplicationEndpoint } from './paths.ts';
import { prefersPage } from './pages/home.ts';

/** Paths oidc-provider answers (relative to the issuer); everything else is ours or a 404. */
const PROVIDER_PATHS = [
  '/authorize', '/oauth/', '/userinfo', '/oidc/', '/activate', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server',
  '/.well-known/jwks.json',
];

export interface RouterParts {
  issuer: string;
  provider: Provider;
  stores: Stores;
  logger: Logger;
  isShuttingDown: () => boolean;
  /** Network ACLs (src/http/network-guard.ts), in front of everything but the operations endpoints. */
  networkGuard: RequestHandler;
  /** Routers mounted before the provider, each at its own path (Management API, pages, registration guard…). */
  routes: [path: string, handler: RequestHandler | Router][];
  /** What a browser gets for an unknown path (API clients get the JSON 404). */
  notFoundPage: RequestHandler;
  /** Opens each request's audit context (src/http/audit-context.ts), before anything else runs. */
  auditContext: RequestHandler;
  /** Request metrics, and GET /metrics behind a token (src/http/metrics.ts), when configured. */
  metrics?: { requests: RequestHandler; router?: Router };
}

/**
 * What a JSON answer needs of helmet's headers (OWASP's REST list), with the values OWASP gives for APIs: a policy that
 * allows nothing (a JSON answer loads nothing and is never framed) instead of the pages' long one.
 */
const API_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Discovery, keys and registration are read by other origins (browser-based clients).
  'cross-origin-resource-policy': 'cross-origin',
};

/**
 * helmet's headers on every page; on the endpoints applications call, the few that matter to JSON, set from constants
 * so that the token endpoint does not run a dozen middlewares for page headers.
 */
export function securityHeaders(https: boolean): RequestHandler {
  const pages = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"], imgSrc: ["'self'", 'https:'], frameAncestors: ["'none'"],
        // The pages' styles are our own files (helmet's default also allows inline styles and any https stylesheet).
        styleSrc: ["'self'"],
        // No form-action: browsers apply it to the redirects after a form post, which end at applications' callbacks.
        formAction: null,
        // Over plain http (development) upgrading would break every asset and form.
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: https,
  });
  // Over https, the same Strict-Transport-Security as the pages get (helmet's defaults).
  const hsts = https ? strictTransportSecurity() : undefined;
  const api = Object.entries(API_HEADERS);
  return (req, res, next) => {
    if (!isApplicationEndpoint(req.path)) return pages(req, res, next);
    for (const [name, value] of api) res.setHeader(name, value);
    return hsts ? hsts(req, res, next) : next();
  };
}

export function gatehouseRouter(parts: RouterParts): Router {
  const router = Router();
  const providerCallback = parts.provider.callback();
  router.use(parts.auditContext);
  if (parts.metrics) router.use(parts.metrics.requests);
  router.use(requestLogging(parts.logger));
  router.use(securityHeaders(new URL(parts.issuer).protocol === 'https:'));
  router.use(operationsRouter(parts.stores, parts.isShuttingDown));
  if (parts.metrics?.router) router.use(parts.metrics.router);
  router.use(parts.networkGuard);
  for (const [path, handler] of parts.routes) router.use(path, handler);
  router.use(jsonTokenRequests());
  router.use((req, res, next) => {
    if (PROVIDER_PATHS.some((prefix) => req.path === prefix || req.path.startsWith(prefix))) return providerCallback(req, res);
    return next();
  });
  // Every path that reaches this router is Gatehouse's: mounted at the issuer's path, it never sees the host's others.
  router.use((req, res, next) => {
    if (prefersPage(req)) return parts.notFoundPage(req, res, next);
    res.status(404).json({ statusCode: 404, error: 'Not Found', message: `No route for ${req.method} ${req.path}` });
  });
  // The last resort (each router answers its own errors in its own format): never Express's default, which shows stacks.
  router.use(((err, req, res, next) => {
    if (res.headersSent) return next(err);
    const outage = storeOutage(err);
    if (outage) {
      return void res.status(503).set('Retry-After', String(outage.retryAfterSeconds))
        .json({ error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again shortly' });
    }
    const status = clientErrorStatus(err) ?? 500;
    if (status === 500) parts.logger.error({ err, path: req.path }, 'request failed');
    res.status(status).json(status === 500
      ? { error: 'server_error', error_description: 'the request could not be completed' }
      : { error: 'invalid_request', error_description: 'the request could not be read' });
  }) as ErrorRequestHandler);
  return router;
}

export { express };
