import type { RequestHandler } from 'express';
import { withinRequest, type AuditLog } from '../services/audit.ts';
import type { ClientOrigin } from './client-address.ts';

/**
 * Opens every request's audit context (src/services/audit.ts): events recorded while it is handled, by any layer, name
 * who asked as Gatehouse reads it (src/http/client-address.ts): the address, the user agent and the host.
 */
export function auditContext(audit: AuditLog, origin: ClientOrigin): RequestHandler {
  return (req, _res, next) => withinRequest(audit, () => ({
    ip: origin.address(req),
    ...(req.headers['user-agent'] ? { user_agent: req.headers['user-agent'] } : {}),
    ...(origin.host(req) ? { hostname: (origin.host(req) as string).replace(/:\d+$/, '') } : {}),
  }), next);
}
