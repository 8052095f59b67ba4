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
 * A fixed-window counter: in Redis when configured, so that the limit holds across every Gatehouse process, else in
 * this process (the embedded, single-process mode). While Redis is away (not connected, or a command fails), the
 * same limit is counted in this process instead (rate-limiter-flexible's insurance limiter), so that a Redis outage
 * neither lifts the limits nor takes down what they guard.
 */
function fixedWindow(redis: Redis | undefined, name: string, points: number, durationSeconds: number): RateLimiterAbstract {
  const options = { keyPrefix: `rl:${name}`, points, duration: durationSeconds };
  const inProcess = new RateLimiterMemory(options);
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: inProcess }) : inProcess;
}

export function createLimiter(redis: Redis | undefined, name: string, points: number, durationSeconds: number): Limiter {
  const limiter = fixedWindow(redis, name, points, durationSeconds);
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

export interface FailureCounter {
  /** Seconds until attempts are accepted again for this key, or 0. */
  blockedFor(key: string): Promise<number>;
  /**
   * Counts an attempt before it is checked, in one atomic step, so that parallel guesses cannot slip past the limit.
   * Returns the seconds to wait when this attempt is one too many, else 0.
   */
  countAttempt(key: string): Promise<number>;
  /** Takes back the attempt just counted, when it succeeded. */
  forgive(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

/** Counts attempts per key in a fixed window: after `maxFailures` within the window, the key waits until it ends. */
export function createFailureCounter(redis: Redis | undefined, name: string, maxFailures: number, windowSeconds: number): FailureCounter {
  const limiter = fixedWindow(redis, name, maxFailures, windowSeconds);
  const wait = (state: RateLimiterRes) => Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  return {
    async blockedFor(key) {
      const state = await limiter.get(key);
      return state && state.consumedPoints >= maxFailures ? wait(state) : 0;
    },
    async countAttempt(key) {
      const state = await limiter.penalty(key, 1);
      return state.consumedPoints > maxFailures ? wait(state) : 0;
    },
    async forgive(key) {
      await limiter.reward(key, 1);
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}
