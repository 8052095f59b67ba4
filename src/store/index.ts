import type { Redis } from 'ioredis';
import type { Adapter } from 'oidc-provider';
import type { Logger } from 'pino';
import { artifactSealer, protectArtifacts } from './artifacts.ts';
import { DURABLE_OIDC_MODELS } from './collections.ts';
import type { OutageLogger } from './errors.ts';
import { openEmbeddedStore, type EmbeddedStore } from './embedded/index.ts';
import { importJournal, journalAwaitingImport } from './embedded/journal-import.ts';
import { lockDataDir } from './embedded/lock.ts';
import { openMongoStore } from './mongo/index.ts';
import { StoreError, type DurableStore, type EphemeralStore } from './ports.ts';
import { openRedisStore } from './redis/index.ts';
import { cacheDurableReads, changeFeedFor } from './read-cache.ts';
import { resealAtRest, sealAtRest } from './sealed-at-rest.ts';
import { decodeKey } from '../domain/ids.ts';
import { createSealer, type Sealer } from './sealing.ts';

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
  /** Key-encryption keys (base64, 32 bytes): the first seals keys at rest, every one opens. */
  keyEncryptionKeys?: readonly string[];
  /** Where a backend reports that it went away and came back. */
  logger?: OutageLogger;
}

/**
 * Every backend's oidc-provider artifacts, with ids hashed and payloads sealed (src/store/artifacts.ts); the durable
 * entities that requests read, through the read cache (src/store/read-cache.ts), told of changes by Redis when shared.
 */
export function combineStores(stored: DurableStore, ephemeral: EphemeralStore, redis?: Redis, onClose?: () => void): Stores {
  const durable = cacheDurableReads(stored, changeFeedFor(stored, redis));
  const sealer = artifactSealer(durable.secrets);
  const adapters = new Map<string, Adapter>();
  return {
    durable,
    ephemeral,
    redis,
    shareable: durable.kind === 'mongodb' && ephemeral.kind === 'redis',
    oidcAdapter(model) {
      let adapter = adapters.get(model);
      if (!adapter) adapters.set(model, (adapter = protectArtifacts((DURABLE_OIDC_MODELS.has(model) ? durable : ephemeral).oidcAdapter(model), sealer)));
      return adapter;
    },
    async ping() {
      await Promise.all([durable.ping(), ephemeral.ping()]);
    },
    async close() {
      await Promise.all([durable.close(), ...((ephemeral as object) === stored ? [] : [ephemeral.close()])]);
      onClose?.();
    },
  };
}

function keyEncryption(settings: Pick<StoreSettings, 'keyEncryptionKeys'>): Sealer | undefined {
  const keys = settings.keyEncryptionKeys ?? [];
  return keys.length ? createSealer(keys.map(decodeKey)) : undefined;
}

/** The durable store with its keys sealed at rest, brought under the current key-encryption key. */
async function openSealed(store: DurableStore, settings: Pick<StoreSettings, 'keyEncryptionKeys'>): Promise<DurableStore> {
  const sealed = sealAtRest(store, keyEncryption(settings));
  try {
    await resealAtRest(sealed);
    return sealed;
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The durable store alone, for offline tools (key rotation, backup): no lock, so it works beside a running server. */
export async function openDurableStore(settings: Pick<StoreSettings, 'dataDir' | 'mongodbUri' | 'keyEncryptionKeys'>): Promise<DurableStore> {
  if (settings.mongodbUri) return openSealed(await openMongoStore(settings.mongodbUri), settings);
  if (settings.dataDir && journalAwaitingImport(settings.dataDir)) {
    throw new StoreError(`${settings.dataDir} holds data of Gatehouse 0.1.0 that was not imported yet: start Gatehouse once (it imports it), then run this again.`);
  }
  return openSealed(openEmbeddedStore({ dataDir: settings.dataDir }), settings);
}

/**
 * MONGODB_URI switches durable entities to MongoDB, REDIS_URL short-lived artifacts to Redis; the rest is embedded
 * (SQLite files in DATA_DIR). A server takes the data folder's lock, and imports a 0.1.0 journal found there.
 */
export async function openStores(settings: StoreSettings): Promise<Stores> {
  // Redis first: when it cannot be reached, nothing has been opened, locked or written in the data folder yet.
  const redis = settings.redisUrl
    ? await openRedisStore({ url: settings.redisUrl, ...(settings.redisKeyPrefix ? { keyPrefix: settings.redisKeyPrefix } : {}), ...(settings.logger ? { logger: settings.logger } : {}) })
    : undefined;
  const embeddedDir = settings.mongodbUri ? null : settings.dataDir;
  let release: (() => void) | undefined;
  let embedded: EmbeddedStore | undefined;
  try {
    release = embeddedDir ? lockDataDir(embeddedDir) : undefined;
    embedded = !settings.mongodbUri || !settings.redisUrl ? openEmbeddedStore({ dataDir: embeddedDir, ...(settings.logger ? { logger: settings.logger } : {}) }) : undefined;
    const durable = await openSealed(settings.mongodbUri ? await openMongoStore(settings.mongodbUri) : embedded!, settings);
    const stores = combineStores(durable, redis ?? embedded!, redis?.client, release);
    if (embeddedDir) {
      await importJournal(embeddedDir, stores.durable, (model) => stores.oidcAdapter(model)).catch(async (err: unknown) => {
        await stores.close();
        throw err;
      });
    }
    return stores;
  } catch (err) {
    await embedded?.close();
    await redis?.close();
    release?.();
    throw err;
  }
}
