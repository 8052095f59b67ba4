import type { Adapter } from 'oidc-provider';
import type { Logger } from 'pino';

/** Where a backend tells, once each, that it went away (warn) and that it came back (info). */
export type OutageLogger = Pick<Logger, 'warn' | 'info'>;

/**
 * A backend that cannot answer now (its connection is lost, or a command timed out). Callers answer 503 with
 * `Retry-After` in their protocol's shape, never a 500: the request may well succeed once the backend is back.
 */
export class StoreUnavailableError extends Error {
  /** When it is worth trying again (the backend's own reconnection rhythm). */
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The methods oidc-provider calls on an adapter. */
const ADAPTER_METHODS = ['upsert', 'find', 'findByUid', 'findByUserCode', 'consume', 'destroy', 'revokeByGrantId'] as const;

/** The same adapter, with every rejection passed through `map` first (to classify or translate errors). */
export function mapAdapterErrors(adapter: Adapter, map: (err: unknown) => unknown): Adapter {
  return Object.fromEntries(ADAPTER_METHODS.map((method) => [
    method,
    (...args: unknown[]) => (adapter[method] as (...a: unknown[]) => Promise<unknown>).apply(adapter, args).catch((err: unknown) => {
      throw map(err);
    }),
  ])) as unknown as Adapter;
}
