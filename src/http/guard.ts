import type { RequestHandler } from 'express';
import { jwtVerify, type JWTPayload } from 'jose';
import type { KeyMaterial } from '../domain/model.ts';
import { managementAudience, type ManagementScope } from '../domain/system-api.ts';
import { currentPublicKeys } from '../oidc/keys.ts';
import type { ManagementAccess } from '../services/access.ts';
import type { Actor } from '../domain/model.ts';
import { sendBearerError } from './errors.ts';

export interface ManagementPrincipal {
  clientId: string;
  scopes: Set<string>;
  claims: JWTPayload;
  /** Who makes the change: the operator a console token is for, else the calling application (what the audit log records). */
  actor: Actor;
}

declare module 'express-serve-static-core' {
  interface Request {
    management?: ManagementPrincipal;
  }
}

/**
 * Authenticates Management API calls: a Bearer JWT access token that Gatehouse issued for the system API, verified
 * locally (our own public keys), from an application that still exists and still holds its client grant (`access`,
 * remembered per process for at most a second). The token's scopes count only as far as the grant still allows them.
 * A user-delegated token (its subject is not the application: an operator's, from the console) counts, besides, only
 * while its user is an operator, and as far as their role allows now.
 */
export function managementAuthentication(issuer: string, keys: () => KeyMaterial, access: ManagementAccess): RequestHandler {
  const currentJwks = currentPublicKeys(keys);
  const audience = managementAudience(issuer);
  return async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9_.-]+)$/i.exec(header);
    if (!match?.[1]) return sendBearerError(res, 401, 'missing_token', 'Missing authentication: send an access token for the Management API as "Authorization: Bearer <token>"');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], currentJwks(), { issuer, audience, typ: 'at+jwt' }));
    } catch (err) {
      const expired = (err as { code?: string }).code === 'ERR_JWT_EXPIRED';
      return sendBearerError(res, 401, expired ? 'token_expired' : 'invalid_token', expired ? 'Expired token received for Management API' : `Invalid token: not an access token for ${audience}`);
    }
    const clientId = String(payload.client_id ?? payload.sub ?? '');
    const userId = payload.sub !== undefined && payload.sub !== clientId ? payload.sub : undefined;
    const allowed = await access(clientId, userId);
    if (!allowed) {
      const gone = userId === undefined ? `application ${clientId} or its client grant for ${audience} no longer exists` : `user ${userId} is not an operator`;
      return sendBearerError(res, 401, 'invalid_token', `Invalid token: ${gone}`);
    }
    const granted = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    const actor: Actor = userId === undefined ? { type: 'client', id: clientId } : { type: 'user', id: userId };
    req.management = { clientId, scopes: new Set(granted.filter((scope) => allowed.has(scope))), claims: payload, actor };
    return next();
  };
}

/** Requires a Management API scope (one of a list); runs after `managementAuthentication`. */
export function requireScope(scope: ManagementScope | readonly ManagementScope[]): RequestHandler {
  const anyOf = [scope].flat();
  return (req, res, next) => {
    if (anyOf.some((s) => req.management?.scopes.has(s))) return next();
    // The challenge names one scope that suffices (RFC 6750 reads a list as all of them).
    return sendBearerError(res, 403, 'insufficient_scope', `Insufficient scope, expected any of: ${anyOf.join(',')}`, anyOf[0]);
  };
}
