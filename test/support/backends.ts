import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores } from '../../src/store/index.ts';
import { openMongoStore } from '../../src/store/mongo/index.ts';
import { openRedisStore } from '../../src/store/redis/index.ts';
import type { DurableStore, EphemeralStore } from '../../src/store/ports.ts';

export const tempDir = (prefix = 'gatehouse-test-') => mkdtempSync(path.join(tmpdir(), prefix));

export interface Backend<S> {
  name: string;
  /** Why the backend cannot run here; the suite is skipped and says so. */
  skipReason?: string;
  open(): Promise<S>;
}

const mongoSkip = process.env.MONGODB_URI ? undefined : 'MONGODB_URI is not set';

/** Mongo tests get a database of their own, dropped by the store's owner when done. */
const mongoUri = () => {
  const url = new URL(process.env.MONGODB_URI as string);
  url.pathname = `/gatehouse_test_${randomUUID().slice(0, 8)}`;
  return url.toString();
};

export const durableBackends: Backend<DurableStore>[] = [
  { name: 'embedded SQLite (memory)', open: async () => openEmbeddedStore({ dataDir: null }) },
  { name: 'embedded SQLite (files)', open: async () => openEmbeddedStore({ dataDir: tempDir() }) },
  { name: 'MongoDB', ...(mongoSkip ? { skipReason: mongoSkip } : {}), open: () => openMongoStore(mongoUri()) },
];

const redisStore = () => openRedisStore({ url: process.env.REDIS_URL as string, keyPrefix: `test:${randomUUID()}:`, graceSeconds: 0 });

/**
 * A backend as Gatehouse uses it: every artifact passes through the layer that hashes ids and seals payloads
 * (src/store/artifacts.ts), whose key lives in a durable store.
 */
function protectedBackend(ephemeral: () => EphemeralStore | Promise<EphemeralStore>): () => Promise<EphemeralStore> {
  return async () => {
    const durable = openEmbeddedStore({ dataDir: null, graceSeconds: 0 });
    const inner = await ephemeral();
    const stores = combineStores(durable, inner);
    return { kind: inner.kind, oidcAdapter: (model) => stores.oidcAdapter(model), ping: () => stores.ping(), close: () => stores.close() };
  };
}

export const oidcBackends: Backend<EphemeralStore | DurableStore>[] = [
  { name: 'embedded SQLite', open: async () => openEmbeddedStore({ dataDir: null, graceSeconds: 0 }) },
  { name: 'embedded SQLite, ids hashed and payloads sealed', open: protectedBackend(() => openEmbeddedStore({ dataDir: null, graceSeconds: 0 })) },
  { name: 'Redis', open: redisStore },
  { name: 'Redis, ids hashed and payloads sealed', open: protectedBackend(redisStore) },
  { name: 'MongoDB', ...(mongoSkip ? { skipReason: mongoSkip } : {}), open: () => openMongoStore(mongoUri()) },
];

/** Runs a suite per backend; a backend that cannot run shows as a skipped suite whose title gives the reason. */
export function eachBackend<S>(backends: Backend<S>[], suite: (open: () => Promise<S>) => void, title: string, describe: (name: string, fn: () => void) => void, describeSkip: (name: string, fn: () => void) => void): void {
  for (const backend of backends) {
    if (backend.skipReason) {
      describeSkip(`${title} on ${backend.name} — SKIPPED: ${backend.skipReason}`, () => suite(backend.open));
      process.stdout.write(`[contract] ${title} on ${backend.name} skipped: ${backend.skipReason}\n`);
    } else {
      describe(`${title} on ${backend.name}`, () => suite(backend.open));
    }
  }
}
