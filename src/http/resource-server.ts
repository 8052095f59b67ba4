import { createHash, createHmac } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Redis } from 'ioredis';
import {
  calculateJwkThumbprint, createLocalJWKSet, createRemoteJWKSet, EmbeddedJWK, errors as joseErrors, jwtVerify,
  type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import { DPOP_PROOF_ALGORITHMS, GRANT_ID_CLAIM } from '../domain/access-tokens.ts';
import { issuerUrl } from '../domain/issuer.ts';
import { SIGNING_ALGS } from '../domain/model.ts';
import type { RevocationWatch } from './revocation-watch.ts';
import { authChallenge } from './www-authenticate.ts';

/** What `requireAccessToken` puts on the request once a token is verified. */
export interface VerifiedAccessToken {
  token: string;
  claims: JWTPayload & { client_id?: string; scope?: string; cnf?: { jkt?: string } };
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
  /** Where Gatehouse's public keys are; defaults to `<issuer>/.well-known/jwks.json`. Ignored when `jwks` is given. */
  jwksUri?: string;
  /** Fixed keys (tests, or a process that embeds Gatehouse): no fetching. */
  jwks?: JSONWebKeySet;
  /** The API's `signing_secret`, for an API whose `signing_alg` is HS256 (its tokens are signed with it). */
  secret?: string;
  /** RFC 9728 metadata URL advertised in challenges; defaults to the well-known URL for `audience`. */
  resourceMetadataUrl?: string;
  clockToleranceSeconds?: number;
  /**
   * Redis (an ioredis client) shared by every process of this API: DPoP proofs are then refused when replayed to any
   * of them. Without it each process remembers the proofs it saw.
   */
  redis?: Pick<Redis, 'set'>;
  /**
   * The API's revocations, followed from Gatehouse: `watchRevocations({ issuer, audience, clientId, clientSecret })` in
   * any process, `gatehouse.watchRevocations(audience)` in middleware mode. A token whose consent, grant, user,
   * application or client grant was revoked is then refused within seconds. Without it a token is accepted until it
   * expires, whatever is revoked.
   */
  revocations?: RevocationWatch;
  /** DPoP (RFC 9449): tokens bound to a key (`cnf.jkt`) are accepted only as `Authorization: DPoP` with a proof. */
  dpop?: {
    /** Require a nonce of this API's in every proof (RFC 9449 §9); the same secret in every process of the API. */
    nonceSecret?: string;
    /** How far a proof's `iat` may be from now; 300 s by default. */
    proofMaxAgeSeconds?: number;
  };
}

const ALGORITHMS: string[] = [...SIGNING_ALGS];
const DPOP_ALGORITHMS = [...DPOP_PROOF_ALGORITHMS];
const DPOP_ALGS = DPOP_ALGORITHMS.join(' ');
/** `Bearer <token>` or `DPoP <token>` (RFC 6750 b64token); the scheme decides which group holds the token. */
const AUTHORIZATION = /^(?:Bearer ([A-Za-z0-9_.~+/-]+=*)|DPoP ([A-Za-z0-9_.~+/-]+=*))$/i;
const NONCE_STEP_SECONDS = 60;

const stringClaim = (value: unknown) => (typeof value === 'string' ? value : undefined);

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

type Scheme = 'Bearer' | 'DPoP';
interface Refusal {
  status: 401 | 403;
  scheme: Scheme;
  code: 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';
  description: string;
  scope?: string;
}

/** RFC 6750 / RFC 9449 §7.1 challenges, with the RFC 9728 `resource_metadata` URL; no credentials: both schemes are offered. */
function challenge(res: Response, metadataUrl: string, refusal?: Refusal): void {
  if (!refusal) {
    res.status(401).set('WWW-Authenticate', [
      authChallenge('Bearer', { resource_metadata: metadataUrl }),
      authChallenge('DPoP', { algs: DPOP_ALGS, resource_metadata: metadataUrl }),
    ]).json({ error: 'unauthorized', error_description: 'an access token is required' });
    return;
  }
  const { status, scheme, code, description, scope } = refusal;
  res.status(status).set('WWW-Authenticate', authChallenge(scheme, {
    error: code, error_description: description, scope, algs: scheme === 'DPoP' ? DPOP_ALGS : undefined, resource_metadata: metadataUrl,
  })).json({ error: code, error_description: description });
}

/** Proof ids already used, each kept until its proof could no longer pass the `iat` check anyway. */
interface ReplayCache {
  /** True the first time a key is seen within its lifetime. */
  firstUse(key: string, ttlSeconds: number): Promise<boolean>;
}

function localReplayCache(): ReplayCache {
  const seen = new Map<string, number>();
  return {
    async firstUse(key, ttlSeconds) {
      const now = Date.now();
      for (const [old, expiresAt] of seen) { // insertion order: stop at the first entry still alive
        if (expiresAt > now) break;
        seen.delete(old);
      }
      const expiresAt = seen.get(key);
      if (expiresAt !== undefined && expiresAt > now) return false;
      seen.set(key, now + ttlSeconds * 1000);
      return true;
    },
  };
}

const redisReplayCache = (redis: Pick<Redis, 'set'>): ReplayCache => ({
  async firstUse(key, ttlSeconds) {
    return (await redis.set(`dpop-proof:${key}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  },
});

/** Stateless nonces (RFC 9449 §9): an HMAC of the current minute, so every process with the secret agrees. */
function dpopNonces(secret: string) {
  const nonceAt = (step: number) => createHmac('sha256', secret).update(`dpop-nonce:${step}`).digest('base64url');
  const step = () => Math.floor(Date.now() / 1000 / NONCE_STEP_SECONDS);
  return {
    current: () => nonceAt(step()),
    /** The nonce of this minute, the previous or the next (clocks of several processes differ a little). */
    accepts: (nonce: unknown) => typeof nonce === 'string' && [-1, 0, 1].some((offset) => nonceAt(step() + offset) === nonce),
  };
}

/** The URI the request was sent to, as RFC 9449 §4.3 compares it to `htu`: without query and fragment. */
function requestUri(req: Request): string {
  const url = new URL(req.originalUrl, `${req.protocol}://${req.get('host') ?? 'localhost'}`);
  url.search = '';
  return url.href;
}

function proofUri(htu: unknown): string | undefined {
  const url = typeof htu === 'string' ? URL.parse(htu) : null;
  if (!url) return undefined;
  url.search = '';
  url.hash = '';
  return url.href;
}

/**
 * Express middleware that accepts only Gatehouse JWT access tokens (RFC 9068) for this API: signature (keys fetched
 * from the JWKS, cached, refetched when a new key id appears after a rotation; or the API's HS256 secret), issuer,
 * audience, expiry and scopes; with `revocations`, whether what it was issued under was revoked since (lookups in
 * memory: src/http/revocation-watch.ts). Tokens bound to a DPoP key need `Authorization: DPoP` and a valid proof
 * (RFC 9449 §7); unbound tokens are Bearer tokens. 401 and 403 answers carry RFC 6750 / RFC 9449 challenges with the RFC 9728
 * `resource_metadata` URL, so that MCP clients and agents find the authorization server and ask for the missing scope.
 */
export function requireAccessToken(options: RequireAccessTokenOptions): RequestHandler {
  const { revocations } = options;
  if (revocations && revocations.audience !== options.audience) {
    throw new Error(`requireAccessToken: the revocations followed are those of ${revocations.audience}, not of ${options.audience}`);
  }
  const keys = options.jwks
    ? createLocalJWKSet(options.jwks)
    : createRemoteJWKSet(new URL(options.jwksUri ?? issuerUrl(options.issuer, '.well-known/jwks.json')), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
  const secret = options.secret === undefined ? undefined : new TextEncoder().encode(options.secret);
  const getKey: JWTVerifyGetKey = secret ? (header, token) => (header.alg === 'HS256' ? secret : keys(header, token)) : keys;
  const verifyOptions = {
    issuer: options.issuer, audience: options.audience, typ: 'at+jwt', algorithms: secret ? [...ALGORITHMS, 'HS256'] : ALGORITHMS,
    clockTolerance: options.clockToleranceSeconds ?? 5,
  };
  const needed = options.scopes ?? [];
  const metadataUrl = options.resourceMetadataUrl ?? resourceMetadataUrlFor(options.audience);
  const proofMaxAge = options.dpop?.proofMaxAgeSeconds ?? 300;
  const replays = options.redis ? redisReplayCache(options.redis) : localReplayCache();
  const nonces = options.dpop?.nonceSecret ? dpopNonces(options.dpop.nonceSecret) : undefined;

  const invalidProof = (description: string): Refusal => ({ status: 401, scheme: 'DPoP', code: 'invalid_dpop_proof', description });

  /** RFC 9449 §4.3 and §7.1: the proof of a DPoP request, for this request, this token and the token's key. */
  async function checkProof(req: Request, res: Response, token: string, jkt: string): Promise<Refusal | undefined> {
    const proof = req.get('dpop');
    if (!proof || proof.includes(',')) return invalidProof('send exactly one DPoP proof');
    let payload: JWTPayload;
    let jwk: Parameters<typeof calculateJwkThumbprint>[0];
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGORITHMS });
      ({ payload } = verified);
      jwk = verified.protectedHeader.jwk as typeof jwk;
    } catch {
      return invalidProof('the DPoP proof is not a JWT signed with its own public key (typ dpop+jwt)');
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.jti !== 'string' || !payload.jti) return invalidProof('the DPoP proof has no jti');
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > proofMaxAge) return invalidProof('the DPoP proof is not recent (iat)');
    if (payload.htm !== req.method) return invalidProof('the DPoP proof is for another HTTP method (htm)');
    if (proofUri(payload.htu) !== requestUri(req)) return invalidProof('the DPoP proof is for another URL (htu)');
    if (payload.ath !== createHash('sha256').update(token).digest('base64url')) return invalidProof('the DPoP proof is for another access token (ath)');
    if (await calculateJwkThumbprint(jwk) !== jkt) {
      return { status: 401, scheme: 'DPoP', code: 'invalid_token', description: 'the access token is bound to another key than the DPoP proof\'s' };
    }
    if (nonces) {
      if (!nonces.accepts(payload.nonce)) {
        res.set('DPoP-Nonce', nonces.current());
        return { status: 401, scheme: 'DPoP', code: 'use_dpop_nonce', description: 'this API requires a nonce of its own in the DPoP proof' };
      }
      const current = nonces.current();
      if (payload.nonce !== current) res.set('DPoP-Nonce', current);
    }
    const key = createHash('sha256').update(`${jkt}:${payload.jti}`).digest('base64url');
    if (!(await replays.firstUse(key, Math.max(1, payload.iat + proofMaxAge - now + 1)))) return invalidProof('the DPoP proof was already used');
    return undefined;
  }

  return async (req, res, next) => {
    const match = AUTHORIZATION.exec(req.get('authorization') ?? '');
    const token = match?.[1] ?? match?.[2];
    if (!token) return challenge(res, metadataUrl);
    const scheme: Scheme = match?.[1] ? 'Bearer' : 'DPoP';
    let claims: VerifiedAccessToken['claims'];
    try {
      ({ payload: claims } = await jwtVerify(token, getKey, verifyOptions));
    } catch (err) {
      const description = err instanceof joseErrors.JWTExpired ? 'the access token expired' : 'the access token is not valid for this API';
      return challenge(res, metadataUrl, { status: 401, scheme, code: 'invalid_token', description });
    }
    if (revocations) {
      const answer = revocations.verdict({
        clientId: stringClaim(claims.client_id), subject: stringClaim(claims.sub), grantId: stringClaim(claims[GRANT_ID_CLAIM]), issuedAt: claims.iat,
      });
      const verdict = typeof answer === 'string' ? answer : await answer; // waits only for the first read of the feed
      if (verdict === 'revoked') return challenge(res, metadataUrl, { status: 401, scheme, code: 'invalid_token', description: 'the access token was revoked' });
      if (verdict === 'unavailable') {
        return void res.status(503).set('Retry-After', String(revocations.retryAfterSeconds))
          .json({ error: 'temporarily_unavailable', error_description: 'revoked tokens cannot be told apart right now: try again shortly' });
      }
    }
    const jkt = claims.cnf?.jkt;
    if (scheme === 'Bearer' && jkt !== undefined) {
      return challenge(res, metadataUrl, { status: 401, scheme: 'DPoP', code: 'invalid_token', description: 'this access token is bound to a DPoP key: send it as Authorization: DPoP, with a DPoP proof' });
    }
    if (scheme === 'DPoP') {
      if (typeof jkt !== 'string') return challenge(res, metadataUrl, { status: 401, scheme, code: 'invalid_token', description: 'this access token is not bound to a DPoP key: send it as a Bearer token' });
      let refusal: Refusal | undefined;
      try {
        refusal = await checkProof(req, res, token, jkt);
      } catch (err) {
        req.log?.error({ err }, 'DPoP replay cache unavailable');
        return void res.status(503).json({ error: 'temporarily_unavailable', error_description: 'the request cannot be checked right now: try again' });
      }
      if (refusal) return challenge(res, metadataUrl, refusal);
    }
    const scopes = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []);
    const missing = needed.filter((scope) => !scopes.has(scope));
    if (missing.length) {
      return challenge(res, metadataUrl, { status: 403, scheme, code: 'insufficient_scope', description: `this request needs the scope ${missing.join(' ')}`, scope: stepUpScope(scopes, needed) });
    }
    req.auth = { token, claims, scopes, subject: String(claims.sub), clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined };
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
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
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
