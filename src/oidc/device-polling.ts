import type { Redis } from 'ioredis';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { createLimiter } from '../services/rate-limits.ts';
import { digest } from '../store/sealing.ts';

/**
 * RFC 8628 §3.5: a device that polls the token endpoint faster than its `interval` while the person has not yet
 * decided gets `slow_down` (oidc-provider answers `authorization_pending` however often it is asked). One poll per
 * interval and device code, counted across processes through Redis when configured; the device code is a credential,
 * so only its digest (as the store keeps it) is a key. It runs inside oidc-provider, on the answer, so that the token
 * endpoint's body is read once, by oidc-provider, and only a pending device's polls are counted (an approved one gets
 * its tokens at once).
 */
export function deviceCodePolling(redis: Redis | undefined, intervalSeconds: number) {
  const limiter = createLimiter(redis, 'device-poll', 1, intervalSeconds);
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    await next();
    if (ctx.oidc?.route !== 'token' || (ctx.body as { error?: string } | undefined)?.error !== 'authorization_pending') return;
    const deviceCode = ctx.oidc.params?.device_code;
    if (typeof deviceCode !== 'string') return;
    const poll = await limiter(digest(deviceCode));
    if (!poll.allowed) {
      ctx.body = { error: 'slow_down', error_description: `poll at most every ${intervalSeconds} seconds, and wait 5 seconds more from now on` };
    }
  };
}
