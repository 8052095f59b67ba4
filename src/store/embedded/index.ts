import path from 'node:path';
import type { Adapter } from 'oidc-provider';
import type { Logger } from 'pino';
import { COLLECTION_NAMES, COLLECTIONS, DURABLE_OIDC_MODELS } from '../collections.ts';
import type { OutageLogger } from '../errors.ts';
import type { DurableEntities, DurableStore, EphemeralStore, Transaction } from '../ports.ts';
import { EmbeddedCollection } from './collection.ts';
import { openDatabase, type EmbeddedDatabase } from './database.ts';
import { ARTIFACT_MIGRATIONS, DURABLE_MIGRATIONS } from './migrations.ts';
import { EmbeddedOidcAdapter, sweepExpired } from './oidc-adapter.ts';

export interface EmbeddedStoreOptions {
  /** The data folder; null keeps everything in memory only (tests). */
  dataDir: string | null;
  graceSeconds?: number;
  /** Where writes that fail as an outage (a lock held too long, a full disk) are told, once, and their return. */
  logger?: OutageLogger;
}

/** The embedded store serves both roles (durable and ephemeral) in one process. */
export type EmbeddedStore = DurableStore & EphemeralStore & {
  readonly kind: 'embedded';
  /** The durable database, for backups. */
  readonly database: EmbeddedDatabase;
};

/** Durable entities (and oidc-provider's durable Grant model): every commit on disk before it is answered. */
export const DURABLE_FILE = 'gatehouse.db';
/** Sessions, interactions, codes and tokens: written often, never backed up (a restore signs everyone out). */
export const ARTIFACTS_FILE = 'gatehouse-sessions.db';

const GATEHOUSE_APPLICATION_ID = 0x47617465; // "Gate"
/**
 * The sessions file checkpoints its write-ahead log at 4,000 pages (about 16 MiB): its writes (a refresh consumes one
 * token and writes another) rewrite the same pages often, which a longer log copies once. The durable file keeps
 * SQLite's 1,000: its writes gain little from a longer log, and its checkpoints sync (`synchronous=FULL`) on the event
 * loop, so that a longer log holds requests up longer (registration p99 18 -> 21-36 ms at 4,000 pages).
 */
const SESSIONS_CHECKPOINT_PAGES = 4000;
const DURABLE_CHECKPOINT_PAGES = 1000;

type Collections = { [K in keyof DurableEntities]: EmbeddedCollection<DurableEntities[K]> };

/**
 * The default store: SQLite through Node's built-in `node:sqlite` (no native build, no download), two files in the data
 * folder. Statements are synchronous and fast (an indexed read is a few microseconds); the writes of one turn of the event
 * loop are committed together, and answered once on disk (src/store/embedded/database.ts).
 */
export function openEmbeddedStore(options: EmbeddedStoreOptions): EmbeddedStore {
  const file = (name: string) => (options.dataDir ? path.resolve(options.dataDir, name) : null);
  const durable = openDatabase(file(DURABLE_FILE), { applicationId: GATEHOUSE_APPLICATION_ID, synchronous: 'FULL', secureDelete: true, checkpointPages: DURABLE_CHECKPOINT_PAGES, migrations: DURABLE_MIGRATIONS }, options.logger);
  let artifacts: EmbeddedDatabase;
  try {
    artifacts = openDatabase(file(ARTIFACTS_FILE), { applicationId: GATEHOUSE_APPLICATION_ID, synchronous: 'NORMAL', secureDelete: false, checkpointPages: SESSIONS_CHECKPOINT_PAGES, migrations: ARTIFACT_MIGRATIONS }, options.logger);
  } catch (err) {
    durable.close();
    throw err;
  }
  const collections = Object.fromEntries(COLLECTION_NAMES.map((name) => [name, new EmbeddedCollection(durable, COLLECTIONS[name] as never)])) as Collections;
  const graceSeconds = options.graceSeconds ?? 15;
  const adapters = new Map<string, Adapter>();
  const sweeper = setInterval(() => {
    for (const database of [durable, artifacts]) void sweepExpired(database).catch(() => {}); // retried next minute
  }, 60_000);
  sweeper.unref();

  return {
    kind: 'embedded',
    database: durable,
    ...collections,
    async transaction(record: (tx: Transaction) => void): Promise<void> {
      const tx = Object.fromEntries(COLLECTION_NAMES.map((name) => [name, collections[name].writer])) as Transaction;
      await durable.write(() => record(tx));
    },
    // Only a file has other connections (an in-memory database is this connection's alone).
    ...(options.dataDir ? { dataVersion: () => (durable.statement('PRAGMA data_version').get() as { data_version: number }).data_version } : {}),
    oidcAdapter(model: string): Adapter {
      let adapter = adapters.get(model);
      if (!adapter) adapters.set(model, (adapter = new EmbeddedOidcAdapter(DURABLE_OIDC_MODELS.has(model) ? durable : artifacts, model, graceSeconds)));
      return adapter;
    },
    async ping() {
      durable.statement('SELECT 1').get();
      artifacts.statement('SELECT 1').get();
    },
    async close() {
      clearInterval(sweeper);
      durable.close();
      artifacts.close();
    },
  };
}
