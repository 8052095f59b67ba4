import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { matches } from './changes.ts';
import { COLLECTIONS } from './collections.ts';
import type { Change, Collection, DurableStore, Filter, Page, Transaction, TransactionWriter } from './ports.ts';

/**
 * What every request reads and administrators rarely change: the applications (with the protocol client the
 * directory builds from each), APIs, client grants, connections, tenant settings and network ACLs.
 */
export const CACHED_COLLECTIONS = ['applications', 'resourceServers', 'clientGrants', 'connections', 'settings', 'networkAcls'] as const;
type CachedName = (typeof CACHED_COLLECTIONS)[number];

/** One change to a cached collection: a document by key, or (no key) anything in it. */
export interface StoreChange {
  collection: CachedName;
  key?: string;
}

/**
 * How one process hears of the changes other processes commit, so that a change made anywhere takes effect everywhere
 * within a second. While a feed cannot hear (`live` false: its Redis subscription is down), the cache is bypassed.
 */
export interface ChangeFeed {
  readonly live: boolean;
  /** How long an entry may be served at most, the bound on a change this feed cannot hear. */
  readonly maxAgeMs: number;
  /** Tells the other processes of changes committed here. */
  publish(changes: readonly StoreChange[]): void;
  /** `changed` for named changes elsewhere; `reset` when anything may have changed (or the feed was deaf for a while). */
  listen(changed: (changes: readonly StoreChange[]) => void, reset: () => void): void;
  close(): void;
}

/**
 * Bounds of each collection's cache: documents by key, and query results (filters with their pages) by count and by
 * the documents they hold. An application with its protocol client weighs a few KB: 2,000 of each collection keep the
 * cache within tens of MiB however many are stored, and a miss costs an indexed read of a few microseconds.
 */
const MAX_DOCUMENTS = 2_000;
const MAX_QUERIES = 2_000;
/** A larger result (a listing page, a scan) is read again when asked for: requests ask for a few documents at a time. */
const MAX_QUERY_RESULT = 100;
/** With a feed that hears every change, an entry still lives at most this long (a message lost in transit). */
const FEED_MAX_AGE_MS = 60_000;
/** Without one (MongoDB shared without Redis), this long: the bound on a change made elsewhere taking effect. */
const UNHEARD_MAX_AGE_MS = 1000;
/** How often the embedded store is asked whether another connection (a tool beside the server) committed. */
const DATA_VERSION_POLL_MS = 250;

/** Cached documents are shared by every reader: frozen, so that a caller that changes one fails loudly. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** A value kept, with the epoch of its collection it was read in. */
interface Kept<V> {
  epoch: number;
  value: V;
}

/**
 * One collection read through its cache. A write bumps the collection's epoch when it starts and when it ends; a read
 * is kept only if no write started or ended while it ran (so nothing read half-way through a write is kept). When a
 * write is committed it drops what it may have changed: the document by key, every cached query of the collection,
 * and the counts, except that an insert adds itself to the counts whose filter it matches (registration counts the
 * dynamically registered applications on every request: SQLite would walk an index for each).
 */
class CachedCollection<T extends object> implements Collection<T> {
  private readonly inner: Collection<T>;
  private readonly name: CachedName;
  private readonly keyField: string;
  private readonly feed: ChangeFeed;
  private readonly documents: LRUCache<string, Kept<T>>;
  private readonly queries: LRUCache<string, Kept<readonly T[]>>;
  private readonly counts: LRUCache<string, Kept<{ filter: Filter<T>; count: number }>>;
  /** Moves on every write's start and end, and every change heard of: a read is kept only if it did not move meanwhile. */
  private epoch = 0;
  private writing = 0;
  /**
   * Entries kept before these epochs are stale (dropped lazily: lru-cache's clear() costs as much as the cache is
   * large, and every write drops the queries).
   */
  private documentsValidFrom = 0;
  private queriesValidFrom = 0;

  constructor(inner: Collection<T>, name: CachedName, feed: ChangeFeed) {
    this.inner = inner;
    this.name = name;
    this.keyField = COLLECTIONS[name].key;
    this.feed = feed;
    this.documents = new LRUCache({ max: MAX_DOCUMENTS, ttl: feed.maxAgeMs });
    // Query results are weighed by the documents they hold: a page of a hundred weighs a hundred.
    this.queries = new LRUCache({ max: MAX_QUERIES, maxSize: MAX_DOCUMENTS, sizeCalculation: (kept) => kept.value.length + 1, ttl: feed.maxAgeMs });
    this.counts = new LRUCache({ max: MAX_QUERIES, ttl: feed.maxAgeMs });
  }

  /** Drops a document (and every query and count, which may involve it), or everything when no key is given. */
  forget(key?: string): void {
    this.epoch += 1;
    if (key === undefined) this.documentsValidFrom = this.epoch;
    else this.documents.delete(key);
    this.queriesValidFrom = this.epoch;
  }

  private async readThrough<V extends {}>(cache: LRUCache<string, Kept<V>>, validFrom: number, cacheKey: string, read: () => Promise<V | undefined>): Promise<V | undefined> {
    if (!this.feed.live) return read();
    const kept = cache.get(cacheKey);
    if (kept && kept.epoch >= validFrom) return kept.value;
    const epoch = this.epoch;
    const value = await read();
    if (value !== undefined && epoch === this.epoch && this.writing === 0 && this.feed.live && !(Array.isArray(value) && value.length > MAX_QUERY_RESULT)) {
      cache.set(cacheKey, { epoch, value: deepFreeze(value) });
    }
    return value;
  }

  /** Unknown keys are not kept: a flood of made-up client ids must not push out the applications in use. */
  get(key: string): Promise<T | undefined> {
    return this.readThrough(this.documents, this.documentsValidFrom, key, () => this.inner.get(key));
  }

  async find(filter: Filter<T> = {}, page: Page = {}): Promise<T[]> {
    const docs = await this.readThrough(this.queries, this.queriesValidFrom, JSON.stringify([filter, page]), () => this.inner.find(filter, page));
    return [...docs ?? []];
  }

  async count(filter: Filter<T> = {}): Promise<number> {
    const counted = await this.readThrough(this.counts, this.queriesValidFrom, JSON.stringify(filter), async () => ({ filter, count: await this.inner.count(filter) }));
    return counted?.count ?? 0;
  }

  /** A write starts: nothing read from now until it ends is kept. */
  beginWrite(): void {
    this.epoch += 1;
    this.writing += 1;
  }

  /** A write ended (committed or not): what it may have changed is dropped; an `inserted` document joins the counts. */
  endWrite(key: string | undefined, inserted?: T): void {
    this.writing -= 1;
    const counts = inserted ? [...this.counts.entries()].filter(([, kept]) => kept.epoch >= this.queriesValidFrom) : [];
    this.forget(key);
    for (const [countKey, { value }] of counts) {
      const count = matches(inserted as never, value.filter as never) ? value.count + 1 : value.count;
      this.counts.set(countKey, { epoch: this.epoch, value: Object.freeze({ filter: value.filter, count }) });
    }
  }

  /** Runs a write, then drops what it changed and tells the other processes. */
  private async write<R>(key: string | undefined, run: () => Promise<R>, inserted?: (result: R) => T | undefined): Promise<R> {
    this.beginWrite();
    let doc: T | undefined;
    try {
      const result = await run();
      doc = inserted?.(result);
      return result;
    } finally {
      this.endWrite(key, doc);
      this.feed.publish([{ collection: this.name, ...(key === undefined ? {} : { key }) }]);
    }
  }

  private keyOf(doc: T): string {
    return (doc as Record<string, unknown>)[this.keyField] as string;
  }

  insert(doc: T) { return this.write(this.keyOf(doc), () => this.inner.insert(doc), () => doc); }
  insertIfAbsent(doc: T) { return this.write(this.keyOf(doc), () => this.inner.insertIfAbsent(doc), (inserted) => (inserted ? doc : undefined)); }
  update(key: string, change: Change<T>, condition?: Filter<T>) { return this.write(key, () => this.inner.update(key, change, condition)); }
  delete(key: string) { return this.write(key, () => this.inner.delete(key)); }
  deleteMany(filter: Filter<T>) { return this.write(undefined, () => this.inner.deleteMany(filter)); }
  deleteBefore(key: string) { return this.write(undefined, () => this.inner.deleteBefore(key)); }
}

/** Records which cached documents a transaction writes, so that they are dropped once it is over. */
function recordingWriter<T>(inner: TransactionWriter<T>, touch: (key?: string) => void): TransactionWriter<T> {
  return {
    insert: (doc) => { touch(); inner.insert(doc); },
    update: (key, change) => { touch(key); inner.update(key, change); },
    updateMany: (filter, change) => { touch(); inner.updateMany(filter, change); },
    delete: (key) => { touch(key); inner.delete(key); },
    deleteMany: (filter) => { touch(); inner.deleteMany(filter); },
  };
}

const CACHE = Symbol('read cache');

/**
 * The durable store with a bounded read-through cache of the collections every request reads (CACHED_COLLECTIONS).
 * Every write through it drops what it changed; `feed` brings the changes committed by other processes
 * (docs/ARCHITECTURE.md, "The read cache").
 */
export function cacheDurableReads(store: DurableStore, feed: ChangeFeed): DurableStore {
  if (CACHE in store) return store; // already cached (a store combined twice)
  const collections = new Map<CachedName, CachedCollection<object>>(
    CACHED_COLLECTIONS.map((name) => [name, new CachedCollection(store[name] as unknown as Collection<object>, name, feed)]),
  );
  const apply = (changes: readonly StoreChange[]) => {
    for (const { collection, key } of changes) collections.get(collection)?.forget(key);
  };
  feed.listen(apply, () => {
    for (const collection of collections.values()) collection.forget();
  });
  return {
    ...store,
    ...Object.fromEntries(collections),
    [CACHE]: true,
    async transaction(record: (tx: Transaction) => void) {
      const changes: StoreChange[] = [];
      const writing = new Set<CachedName>();
      try {
        await store.transaction((tx) => {
          const recording = { ...tx } as Record<string, TransactionWriter<never>>;
          for (const name of CACHED_COLLECTIONS) {
            recording[name] = recordingWriter(tx[name] as TransactionWriter<never>, (key) => {
              if (!writing.has(name)) collections.get(name)?.beginWrite();
              writing.add(name);
              changes.push({ collection: name, ...(key === undefined ? {} : { key }) });
            });
          }
          record(recording as unknown as Transaction);
        });
      } finally {
        for (const name of writing) collections.get(name)?.endWrite(undefined);
        if (changes.length) feed.publish(changes);
      }
    },
    async close() {
      feed.close();
      await store.close();
    },
  } as DurableStore;
}

/** One process alone with its store: every change goes through its own cache. */
export const processLocalFeed = (maxAgeMs = FEED_MAX_AGE_MS): ChangeFeed => ({
  live: true, maxAgeMs, publish() {}, listen() {}, close() {},
});

/**
 * The embedded store, whose file other connections may change (the key-rotation tool beside a running server): SQLite's
 * `PRAGMA data_version` moves when another connection commits, and is asked every DATA_VERSION_POLL_MS.
 */
export function dataVersionFeed(dataVersion: () => number): ChangeFeed {
  let reset: () => void = () => {};
  let seen = dataVersion();
  const timer = setInterval(() => {
    try {
      const now = dataVersion();
      if (now !== seen) reset();
      seen = now;
    } catch {
      clearInterval(timer); // the store was closed without this feed
    }
  }, DATA_VERSION_POLL_MS);
  timer.unref();
  return {
    live: true,
    maxAgeMs: FEED_MAX_AGE_MS,
    publish() {},
    listen(_changed, onReset) {
      reset = onReset;
    },
    close() {
      clearInterval(timer);
    },
  };
}

interface FeedMessage {
  from: string;
  changes: readonly StoreChange[];
}

/**
 * Processes sharing a durable store and a Redis tell each other what they changed on a Redis channel (under the key
 * prefix: ioredis does not prefix channels). Pub/sub delivers at most once: while the subscription is down the cache is
 * bypassed, and it starts empty again once the subscription is back.
 */
export function redisChangeFeed(client: Redis): ChangeFeed {
  const channel = `${client.options.keyPrefix ?? ''}durable-changes`;
  const from = randomUUID();
  const subscriber = client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
  let subscribed = false;
  let changed: (changes: readonly StoreChange[]) => void = () => {};
  let reset: () => void = () => {};
  subscriber.on('error', () => {}); // reconnection is ioredis's; `live` says meanwhile that nothing can be heard
  subscriber.on('close', () => {
    subscribed = false;
    reset();
  });
  const subscribe = () => {
    subscriber.subscribe(channel).then(() => {
      reset();
      subscribed = true;
    }, () => {});
  };
  // ioredis resubscribes by itself after a reconnection, but says nothing: subscribe again, to know when it holds.
  subscriber.on('ready', subscribe);
  subscriber.on('message', (_channel: string, text: string) => {
    try {
      const message = JSON.parse(text) as FeedMessage;
      if (message.from !== from) changed(message.changes);
    } catch {
      reset();
    }
  });
  // The feed ends with the connection it was made from.
  client.once('end', () => subscriber.disconnect());
  return {
    get live() {
      return subscribed && subscriber.status === 'ready';
    },
    maxAgeMs: FEED_MAX_AGE_MS,
    publish(changes) {
      // A process that cannot publish has lost Redis: the others, which cannot hear either, bypass their caches.
      client.publish(channel, JSON.stringify({ from, changes } satisfies FeedMessage)).catch(() => {});
    },
    listen(onChanged, onReset) {
      changed = onChanged;
      reset = onReset;
    },
    close() {
      subscribed = false;
      subscriber.disconnect();
    },
  };
}

/** Several feeds heard together: live while all are, and every change published on each. */
export function combinedFeed(feeds: readonly ChangeFeed[]): ChangeFeed {
  return {
    get live() {
      return feeds.every((feed) => feed.live);
    },
    maxAgeMs: Math.min(...feeds.map((feed) => feed.maxAgeMs)),
    publish(changes) {
      for (const feed of feeds) feed.publish(changes);
    },
    listen(changed, reset) {
      for (const feed of feeds) feed.listen(changed, reset);
    },
    close() {
      for (const feed of feeds) feed.close();
    },
  };
}

/**
 * The feed a durable store needs: Redis pub/sub when Redis is shared, SQLite's data version for the embedded store's
 * file; a MongoDB without Redis has no feed, and entries live UNHEARD_MAX_AGE_MS.
 */
export function changeFeedFor(store: DurableStore, redis: Redis | undefined): ChangeFeed {
  const feeds: ChangeFeed[] = [];
  if (redis) feeds.push(redisChangeFeed(redis));
  if (store.dataVersion) feeds.push(dataVersionFeed(store.dataVersion));
  if (!feeds.length) return processLocalFeed(store.kind === 'mongodb' ? UNHEARD_MAX_AGE_MS : FEED_MAX_AGE_MS);
  return feeds.length === 1 ? feeds[0] as ChangeFeed : combinedFeed(feeds);
}
