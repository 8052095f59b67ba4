import type { Adapter } from 'oidc-provider';
import { combineStores, type Stores } from '../../../src/store/index.ts';

/** What the Gatehouse server and the bare oidc-provider both serve, so that one driver runs the same requests on each. */
export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type BenchAlg = (typeof SIGNING_ALGS)[number];

export const CALLBACK = 'https://app.bench.example/callback';
export const API_SCOPES = ['read:items', 'write:items'];
export const apiIdentifier = (alg: BenchAlg) => `https://api.bench.example/${alg.toLowerCase()}`;
export const BENCH_USER = { email: 'bench@example.com', password: 'correct-horse-battery-staple' };

export interface Credentials {
  client_id: string;
  client_secret: string;
}

/** The first message of a protocol server: where it listens and what it serves. */
export interface ProtocolServerReady {
  origin: string;
  /** How the server names the API in token and authorization requests: Auth0's `audience`, or RFC 8707 `resource`. */
  audienceParameter: 'audience' | 'resource';
  /** Whether an authorization request needs `prompt=consent` to be granted `offline_access` (oidc-provider's default rule). */
  offlineNeedsConsentPrompt: boolean;
  machine: Credentials;
  firstParty: Credentials;
  thirdParty: Credentials;
  redisKeyPrefix: string | undefined;
}

export interface ProtocolServerArgs {
  redisUrl?: string;
  redisKeyPrefix?: string;
  /** Whether Gatehouse keeps its tenant log (`logs.enabled`, on by default). */
  tenantLog?: boolean;
  /** A data folder to use and keep (a server started on it again finds its fixtures there); a new temporary one by default. */
  dataDir?: string;
}

/** Counts storage writes by kind (`applications.replace`, `RefreshToken.upsert`…), for "writes per refresh". */
export class WriteCounter {
  private readonly counts = new Map<string, number>();
  add(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

const COLLECTION_WRITES = new Set(['insert', 'replace', 'delete', 'deleteMany']);
const ADAPTER_WRITES = new Set(['upsert', 'consume', 'destroy', 'revokeByGrantId']);

/** A view of `target` whose write methods count their calls; functions are wrapped once, so reads cost nothing extra. */
function countCalls<T extends object>(target: T, writes: Set<string>, label: string, counter: WriteCounter): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      if (!wrapped.has(property)) {
        const counted = typeof property === 'string' && writes.has(property);
        wrapped.set(property, counted
          ? (...args: unknown[]) => {
            counter.add(`${label}.${property}`);
            return value.apply(object, args);
          }
          : value.bind(object));
      }
      return wrapped.get(property);
    },
  });
}

export const countingAdapter = (adapter: Adapter, model: string, counter: WriteCounter) => countCalls(adapter, ADAPTER_WRITES, model, counter);

/** The same stores, with every collection and oidc-provider adapter write counted. */
export function countingStores(stores: Stores, counter: WriteCounter): Stores {
  const wrap = <S extends object>(store: S): S => {
    const collections = new Map<PropertyKey, unknown>();
    const adapters = new Map<string, Adapter>();
    return new Proxy(store, {
      get(object, property) {
        const value: unknown = Reflect.get(object, property, object);
        if (property === 'oidcAdapter') {
          return (model: string) => {
            let adapter = adapters.get(model);
            if (!adapter) adapters.set(model, (adapter = countingAdapter((value as (m: string) => Adapter).call(object, model), model, counter)));
            return adapter;
          };
        }
        if (typeof value === 'object' && value !== null && typeof (value as { insert?: unknown }).insert === 'function') {
          if (!collections.has(property)) collections.set(property, countCalls(value, COLLECTION_WRITES, String(property), counter));
          return collections.get(property);
        }
        return value;
      },
    });
  };
  const durable = wrap(stores.durable);
  const ephemeral = (stores.ephemeral as object) === (stores.durable as object) ? durable as unknown as Stores['ephemeral'] : wrap(stores.ephemeral);
  return combineStores(durable, ephemeral, stores.redis);
}
