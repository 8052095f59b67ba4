import { Router, type Request, type RequestHandler } from 'express';
import { readTenantSettings } from '../../services/tenant.ts';
import type { DurableStore } from '../../store/ports.ts';
import { renderPage, VIEWS_DIR } from './render.ts';
import { issuerBasePath, issuerUrl } from '../../domain/issuer.ts';

/** A browser asks for HTML first; API clients (any type, JSON, or no Accept header at all) keep JSON answers. */
export const prefersPage = (req: Request) => req.accepts(['json', 'html']) === 'html';

/**
 * The start page at the issuer's path (for browsers: what this service is and where to go) and the favicon that
 * browsers fetch from there. API clients asking for `/` get the JSON 404, as before.
 */
export function homeRouter(store: DurableStore, issuer: string): Router {
  const base = issuerBasePath(issuer);
  const router = Router();
  router.get('/', async (req, res, next) => {
    if (!prefersPage(req)) return next();
    return renderPage(res, { base, tenant: await readTenantSettings(store) }, 'home', 'Start', {
      issuer,
      discovery: issuerUrl(issuer, '.well-known/openid-configuration'),
    });
  });
  router.get('/favicon.ico', (_req, res) => {
    res.sendFile(`${VIEWS_DIR}assets/favicon.ico`, { maxAge: '1d' });
  });
  return router;
}

/** Unknown paths, for a browser: a page with somewhere to go (it does not repeat the path, which anyone can craft). */
export function notFoundPage(store: DurableStore, issuer: string): RequestHandler {
  const base = issuerBasePath(issuer);
  return async (_req, res) => {
    renderPage(res, { base, tenant: await readTenantSettings(store) }, 'not-found', 'Page not found', { next: ['home', 'apps', 'portal'] }, 404);
  };
}
