import { createHash } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { DEVICE_CODE_GRANT } from '../domain/applications.ts';
import { createLimiter } from '../services/rate-limits.ts';

/**
 * RFC 8628 §3.5: a device that polls the token endpoint faster than its `interval` gets `slow_down` (oidc-provider
 * answers `authorization_pending` however often it is asked). One poll per interval and device code, counted across
 * processes through Redis when configured; the device code is a credential, so only its hash is a key. Form bodies of
 * token requests are read here (oidc-provider then uses them, as it does for JSON ones): the grant type is in the body.
 */
export function deviceCodePolling(redis: Redis | undefined, intervalSeconds: number): RequestHandler {
  const limiter = createLimiter(redis, 'device-poll', 1, intervalSeconds);
  const parseForm = express.urlencoded({ extended: false, limit: '16kb' });
  const check: RequestHandler = async (req, res, next) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (body?.grant_type !== DEVICE_CODE_GRANT || typeof body.device_code !== 'string') return next();
    const poll = await limiter(createHash('sha256').update(body.device_code).digest('base64url'));
    if (poll.allowed) return next();
    res.status(400).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
      .json({ error: 'slow_down', error_description: `poll at most every ${intervalSeconds} seconds, and wait 5 seconds more from now on` });
  };
  return (req, res, next) => {
    if (req.method !== 'POST' || req.path !== '/oauth/token') return next();
    if (req.body !== undefined) return check(req, res, next); // a JSON body, already read by jsonTokenRequests
    return parseForm(req, res, (err?: unknown) => {
      if (err) return void res.status(400).json({ error: 'invalid_request', error_description: 'the request body could not be read' });
      return check(req, res, next);
    });
  };
}
