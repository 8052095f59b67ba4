import type { Adapter } from 'oidc-provider';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DURABLE_OIDC_MODELS } from './collections.ts';
import { openEmbeddedStore } from './embedded/index.ts';
import { openMongoStore } from './mongo/index.ts';
import type { DurableStore, EphemeralStore } from './ports.ts';
import { openRedisStore } from './redis/index.ts';

export * from './errors.ts';
export * from './ports.ts';

export interface Stores {
  durable: DurableStore;
  ephemeral: EphemeralStore;
  /** The shared Redis connection (rate limits use it) when REDIS_URL is configured. */
  redis: Redis | undefined;
  /** The oidc-provider adapter for a model other than Client (clients are a view over applications). */
  oidcAdapter(model: string): Adapter;
  /** Whether more than one Gatehouse process can share this storage. */
  readonly shareable: boolean;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreSettings {
  dataDir: string | null;
  mongodbUri: string | null;
  redisUrl: string | null;
  redisKeyPrefix?: string;
  /** Where a backend reports that it went away and came back. */
  logger?: Pick<Logger, 'warn' | 'info'>;
}

export function combineStores(durable: DurableStore, ephemeral: EphemeralStore, redis?: Redis): Stores {
  return {
    durable,
    ephemeral,
    redis,
    shareable: durable.kind === 'mongodb' && ephemeral.kind === 'redis',
    oidcAdapter: (model) => (DURABLE_OIDC_MODELS.has(model) ? durable : ephemeral).oidcAdapter(model),
    async ping() {
      await Promise.all([durable.ping(), ephemeral.ping()]);
    },
    async close() {
      await Promise.all([...new Set<DurableStore | EphemeralStore>([durable, ephemeral])].map((store) => store.close()));
    },
  };
}

/** The durable store alone (for offline tools such as key rotation). */
export async function openDurableStore(settings: Pick<StoreSettings, 'dataDir' | 'mongodbUri'>): Promise<DurableStore> {
  return settings.mongodbUri ? openMongoStore(settings.mongodbUri) : openEmbeddedStore({ dataDir: settings.dataDir });
}

/** MONGODB_URI switches durable entities to MongoDB, REDIS_URL short-lived artifacts to Redis; the rest is embedded. */
export async function openStores(settings: StoreSettings): Promise<Stores> {
  // Redis first: when it cannot be reached, nothing has been opened (or written, for the embedded store) yet.
  const redis = settings.redisUrl
    ? await openRedisStore({ url: settings.redisUrl, ...(settings.redisKeyPrefix ? { keyPrefix: settings.redisKeyPrefix } : {}), ...(settings.logger ? { logger: settings.logger } : {}) })
    : undefined;
  const embedded = !settings.mongodbUri || !settings.redisUrl
    ? openEmbeddedStore({ dataDir: settings.mongodbUri ? null : settings.dataDir })
    : undefined;
  const durable = settings.mongodbUri ? await openMongoStore(settings.mongodbUri) : embedded!;
  return combineStores(durable, redis ?? embedded!, redis?.client);
}
