import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import express, { Router, type RequestHandler } from 'express';
import type { Metrics } from '../services/metrics.ts';
import { normalPath } from './paths.ts';

/** Paths whose label is themselves; every other path gets a bounded label, so that no URL can add a time series. */
const KNOWN_PATHS = new Set([
  '/', '/authorize', '/oauth/token', '/oauth/revoke', '/oauth/introspect', '/oauth/par', '/oauth/device/code', '/activate', '/v2/logout',
  '/userinfo', '/oidc/logout', '/oidc/logout/confirm',
  '/oidc/logout/success', '/oidc/register', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/.well-known/jwks.json',
  '/u/login', '/u/consent', '/u/apps', '/u/apps/remove', '/u/apps/callback', '/u/theme.css', '/developers', '/developers/register',
  '/developers/getting-started', '/healthz', '/readyz', '/metrics', '/favicon.ico',
]);

/** The route label of a path below the issuer: itself when known, its family otherwise (`/api/v2/clients`, `/u/assets`). */
export function routeLabel(path: string): string {
  const normal = normalPath(path);
  if (KNOWN_PATHS.has(normal)) return normal;
  const management = /^\/api\/v2\/([a-z-]+)(?:\/|$)/.exec(normal);
  if (management) return `/api/v2/${management[1]}`;
  if (normal.startsWith('/u/assets/')) return '/u/assets';
  if (normal.startsWith('/authorize/')) return '/authorize/:uid';
  if (normal.startsWith('/activate/')) return '/activate/:uid';
  return 'other';
}

/** Times every request and counts it by route, method and status once its answer is sent. */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const route = routeLabel(req.path);
    res.once('finish', () => metrics.observeRequest(route, req.method, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9));
    next();
  };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * GET /metrics in Prometheus' text format. With a token, only `Authorization: Bearer <token>` is answered (compared in
 * constant time); without one, the router must be served where only Prometheus reaches it (a separate port).
 */
export function metricsRouter(metrics: Metrics, token: string | null): Router {
  const router = Router();
  const expected = token ? digest(token) : undefined;
  router.get('/metrics', async (req, res) => {
    if (expected) {
      const presented = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!presented || !timingSafeEqual(digest(presented), expected)) {
        res.set('WWW-Authenticate', 'Bearer realm="metrics"').status(401).type('text/plain').send('Metrics need Authorization: Bearer <METRICS_TOKEN>\n');
        return;
      }
    }
    res.set('Cache-Control', 'no-store').type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}

/** The metrics on a port of their own (`METRICS_PORT`), for the drop-in process: nothing else is served there. */
export function listenForMetrics(router: Router, port: number, host?: string): Promise<Server> {
  const app = express();
  app.disable('x-powered-by');
  app.use(router);
  app.use((_req, res) => void res.status(404).type('text/plain').send('Only /metrics is served here\n'));
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host ?? '0.0.0.0', (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}
