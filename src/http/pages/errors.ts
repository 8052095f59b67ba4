import type { ErrorRequestHandler } from 'express';
import { errors } from 'oidc-provider';
import type { Logger } from 'pino';
import { readTenantSettings } from '../../services/tenant.ts';
import type { DurableStore } from '../../store/ports.ts';
import { clientErrorStatus, storeOutage } from '../errors.ts';
import { errorPageData, EXPIRED_SIGN_IN, renderPage } from './render.ts';
import { issuerBasePath } from '../../domain/issuer.ts';

/**
 * Errors on the pages: Gatehouse's error page, in plain words, with the right status; never a stack trace. Protocol
 * errors and expired interactions are the person's or the application's doing (400); malformed or oversized forms keep
 * their 4xx; only the unexpected is a 500, and only that is logged as an error.
 */
export function pageErrorHandler(store: DurableStore, issuer: string, logger: Logger): ErrorRequestHandler {
  const base = issuerBasePath(issuer);
  return async (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const clientStatus = clientErrorStatus(err);
    const known = err instanceof errors.OIDCProviderError;
    const outage = storeOutage(err); // told once by the store, not once per page
    if (!known && !clientStatus && !outage) logger.error({ err, path: req.path }, 'page failed');
    if (outage) res.set('Retry-After', String(outage.retryAfterSeconds));
    const data = outage ? errorPageData('temporarily_unavailable') : err instanceof errors.SessionNotFound
      ? { ...EXPIRED_SIGN_IN, description: err.error_description }
      : known
        ? errorPageData(err.error, err.error_description)
        : clientStatus
          ? { ...errorPageData('invalid_request', 'the form could not be read'), heading: 'This form could not be read', advice: 'Go back, reload the page and try again.' }
          : errorPageData('server_error');
    try {
      renderPage(res, { base, tenant: await readTenantSettings(store) }, 'error', String(data.heading), data, outage ? 503 : known ? 400 : clientStatus ?? 500);
    } catch {
      res.status(500).type('text').send('Something went wrong.');
    }
  };
}
