import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export type Limiter = (key: string) => Promise<LimitResult>;

/**
 * A fixed-window counter: in Redis when configured, so that the limit holds across every Gatehouse process,
 * else in this process (the embedded, single-process mode).
 */
export function createLimiter(redis: Redis | undefined, name: string, points: number, durationSeconds: number): Limiter {
  const options = { keyPrefix: `rl:${name}`, points, duration: durationSeconds };
  const limiter: RateLimiterAbstract = redis ? new RateLimiterRedis({ ...options, storeClient: redis }) : new RateLimiterMemory(options);
  const result = (res: RateLimiterRes, allowed: boolean): LimitResult => ({
    allowed, limit: points, remaining: Math.max(0, res.remainingPoints), resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  });
  return async (key) => {
    try {
      return result(await limiter.consume(key), true);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return result(rejection, false);
      throw rejection;
    }
  };
}
