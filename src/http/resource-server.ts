import { Router, type RequestHandler, type Response } from 'express';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

/** What `requireAccessToken` puts on the request once a token is verified. */
export interface VerifiedAccessToken {
  token: string;
  claims: JWTPayload & { client_id?: string; scope?: string };
  scopes: ReadonlySet<string>;
  /** The user (user-delegated tokens) or the application (client credentials). */
  subject: string;
  clientId: string | undefined;
}

declare module 'express-serve-static-core' {
  interface Request {
    auth?: VerifiedAccessToken;
  }
}

export interface RequireAccessTokenOptions {
  /** Gatehouse's issuer URL (tokens must carry it as `iss`). */
  issuer: string;
  /** This API's identifier (tokens must carry it as `aud`). */
  audience: string;
  /** Scopes every request needs (all of them). */
  scopes?: string[];
  /** Where Gatehouse's public keys are; defaults to `${issuer}/.well-known/jwks.json`. Ignored when `jwks` is given. */
  jwksUri?: string;
  /** Fixed keys (tests, or a process that embeds Gatehouse): no fetching. */
  jwks?: JSONWebKeySet;
  /** RFC 9728 metadata URL advertised in challenges; defaults to the well-known URL for `audience`. */
  resourceMetadataUrl?: string;
  clockToleranceSeconds?: number;
}

const ALGORITHMS = ['RS256', 'RS512', 'PS256', 'ES256'];

/** RFC 9728 §3.1: the metadata of a resource lives at /.well-known/oauth-protected-resource + the resource's path. */
export function resourceMetadataUrlFor(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/**
 * The scope a 403 challenge asks for (RFC 6750 §3): what the token already has plus what this request needs, so that
 * a client re-authorizing with it (MCP step-up) does not lose the scopes it had.
 */
export const stepUpScope = (held: ReadonlySet<string>, needed: readonly string[]) => [...new Set([...held, ...needed])].join(' ');

const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

function challenge(res: Response, status: 401 | 403, metadataUrl: string, error?: { code: string; description: string; scope?: string }): void {
  const params = [`resource_metadata=${quoted(metadataUrl)}`];
  if (error) {
    params.unshift(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
    if (error.scope) params.push(`scope=${quoted(error.scope)}`);
  }
  res.status(status).set('WWW-Authenticate', `Bearer ${params.join(', ')}`).json(error ? { error: error.code, error_description: error.description } : { error: 'unauthorized', error_description: 'an access token is required' });
}

/**
 * Express middleware that accepts only Gatehouse JWT access tokens (RFC 9068) for this API: signature (keys fetched
 * from the JWKS, cached, refetched when a new key id appears after a rotation), issuer, audience, expiry and scopes.
 * 401 and 403 answers carry RFC 6750 challenges with the RFC 9728 `resource_metadata` URL, so that MCP clients and
 * agents find the authorization server and ask for the missing scope.
 */
export function requireAccessToken(options: RequireAccessTokenOptions): RequestHandler {
  const keys = options.jwks
    ? createLocalJWKSet(options.jwks)
    : createRemoteJWKSet(new URL(options.jwksUri ?? `${options.issuer}/.well-known/jwks.json`), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
  const needed = options.scopes ?? [];
  const metadataUrl = options.resourceMetadataUrl ?? resourceMetadataUrlFor(options.audience);
  return async (req, res, next) => {
    const match = /^Bearer ([A-Za-z0-9_.~+/-]+=*)$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1]) return challenge(res, 401, metadataUrl);
    let claims: VerifiedAccessToken['claims'];
    try {
      ({ payload: claims } = await jwtVerify(match[1], keys, {
        issuer: options.issuer, audience: options.audience, typ: 'at+jwt', algorithms: ALGORITHMS, clockTolerance: options.clockToleranceSeconds ?? 5,
      }));
    } catch (err) {
      const description = err instanceof joseErrors.JWTExpired ? 'the access token expired' : 'the access token is not valid for this API';
      return challenge(res, 401, metadataUrl, { code: 'invalid_token', description });
    }
    const scopes = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []);
    const missing = needed.filter((scope) => !scopes.has(scope));
    if (missing.length) {
      return challenge(res, 403, metadataUrl, { code: 'insufficient_scope', description: `this request needs the scope ${missing.join(' ')}`, scope: stepUpScope(scopes, needed) });
    }
    req.auth = { token: match[1], claims, scopes, subject: String(claims.sub), clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined };
    return next();
  };
}

export interface ProtectedResourceMetadataOptions {
  /** The API's identifier, as clients send it in `resource`. */
  resource: string;
  /** Gatehouse's issuer URL(s). */
  authorizationServers: string[];
  scopes?: string[];
  resourceName?: string;
  documentation?: string;
}

/**
 * Serves RFC 9728 protected-resource metadata at /.well-known/oauth-protected-resource (and the path-suffixed URL
 * for resources with a path). Mount it at the host app's root. Public and cacheable; CORS open so browser clients can read it.
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): Router {
  const router = Router();
  const document = {
    resource: options.resource,
    authorization_servers: options.authorizationServers,
    bearer_methods_supported: ['header'],
    ...(options.scopes ? { scopes_supported: options.scopes } : {}),
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...(options.documentation ? { resource_documentation: options.documentation } : {}),
  };
  const paths = new Set(['/.well-known/oauth-protected-resource', new URL(resourceMetadataUrlFor(options.resource)).pathname]);
  router.get([...paths], (_req, res) => {
    res.set({ 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'public, max-age=3600' }).json(document);
  });
  return router;
}
