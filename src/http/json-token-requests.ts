import express, { type RequestHandler } from 'express';
import { unreadableBody } from './errors.ts';

const JSON_PATHS = new Set(['/oauth/token', '/oauth/revoke']);

/**
 * Auth0 accepts JSON bodies at /oauth/token and /oauth/revoke, and tools written for it send them; oidc-provider reads
 * form bodies only. A JSON body is parsed here and handed over as the form it means (oidc-provider then uses
 * `req.body`, and notes once on the console that an upstream parser ran). Form requests pass untouched.
 */
export function jsonTokenRequests(): RequestHandler {
  const parseJson = express.json({ limit: '16kb' });
  // A plain middleware, not router.post(): an Express route would also answer the CORS preflight (OPTIONS) itself.
  return (req, res, next) => {
    if (req.method !== 'POST' || !JSON_PATHS.has(req.path) || !req.is('application/json')) return next();
    return parseJson(req, res, (err?: unknown) => {
      if (err) {
        // RFC 6749 §5.2 answers request errors with 400, as oidc-provider does for forms; 415 says the body cannot be decoded.
        const problem = unreadableBody(err) ?? { status: 400, description: 'the body could not be read' };
        return void res.status(problem.status === 415 ? 415 : 400).json({ error: 'invalid_request', error_description: problem.description });
      }
      const body = req.body as unknown;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return void res.status(400).json({ error: 'invalid_request', error_description: 'the request body must be a JSON object' });
      }
      const form = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
      req.body = form;
      req.headers['content-type'] = 'application/x-www-form-urlencoded';
      delete req.headers['content-encoding']; // the parser has undone it
      return next();
    });
  };
}
