import { describe, expect, it } from '@jest/globals';
import { draftApplication } from '../../src/domain/application-rules.ts';
import type { Application } from '../../src/domain/model.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import type { DurableStore } from '../../src/store/ports.ts';
import { cacheDurableReads, type ChangeFeed, type StoreChange } from '../../src/store/read-cache.ts';

/** A feed whose liveness the test sets, and which records what the cache publishes. */
function testFeed() {
  const published: StoreChange[] = [];
  let heard: ((changes: readonly StoreChange[]) => void) | undefined;
  const feed: ChangeFeed & { live: boolean } = {
    live: true, maxAgeMs: 60_000,
    publish: (changes) => void published.push(...changes),
    listen: (changed) => void (heard = changed),
    close() {},
  };
  return { feed, published, hear: (changes: StoreChange[]) => heard?.(changes) };
}

const app = (client_id: string, fields: Partial<Application> = {}): Application => ({
  ...draftApplication({ name: client_id, app_type: 'non_interactive' }, { allowPermissiveThirdParty: false }, new Date().toISOString()), client_id, ...fields,
});

/** The cached store over an embedded one, and the embedded one itself (written behind the cache's back). */
function stores(feed: ChangeFeed): { cached: DurableStore; raw: DurableStore } {
  const raw = openEmbeddedStore({ dataDir: null });
  return { cached: cacheDurableReads(raw, feed), raw };
}

describe('the read cache', () => {
  it('serves a kept document until a write through it, which it publishes', async () => {
    const { feed, published } = testFeed();
    const { cached, raw } = stores(feed);
    await cached.applications.insert(app('a1'));
    expect((await cached.applications.get('a1'))?.name).toBe('a1');
    await raw.applications.update('a1', { set: { name: 'changed behind the cache' } });
    expect((await cached.applications.get('a1'))?.name).toBe('a1'); // kept: nothing told the cache
    await cached.applications.update('a1', { set: { description: 'through the cache' } });
    expect(await cached.applications.get('a1')).toMatchObject({ name: 'changed behind the cache', description: 'through the cache' });
    expect(published).toEqual([{ collection: 'applications', key: 'a1' }, { collection: 'applications', key: 'a1' }]);
    await cached.close();
  });

  it('hands out frozen documents: a caller that changes one fails instead of changing every reader\'s copy', async () => {
    const { feed } = testFeed();
    const { cached } = stores(feed);
    await cached.applications.insert(app('a1', { callbacks: ['https://a.example/cb'] }));
    const read = await cached.applications.get('a1') as Application;
    expect(() => { read.name = 'x'; }).toThrow(TypeError);
    expect(() => { (read.callbacks as string[]).push('https://evil.example/cb'); }).toThrow(TypeError);
    await cached.close();
  });

  it('drops what another process changed, and bypasses the cache while the feed cannot hear', async () => {
    const { feed, hear } = testFeed();
    const { cached, raw } = stores(feed);
    await cached.applications.insert(app('a1'));
    await cached.applications.get('a1');
    await raw.applications.update('a1', { set: { name: 'elsewhere' } });
    hear([{ collection: 'applications', key: 'a1' }]);
    expect((await cached.applications.get('a1'))?.name).toBe('elsewhere');
    feed.live = false;
    await raw.applications.update('a1', { set: { name: 'while deaf' } });
    expect((await cached.applications.get('a1'))?.name).toBe('while deaf');
    await cached.close();
  });

  it('keeps counts right across inserts, and drops them on other writes', async () => {
    const { feed } = testFeed();
    const { cached } = stores(feed);
    await cached.applications.insert(app('d1', { registration_type: 'dynamic' }));
    expect(await cached.applications.count({ registration_type: 'dynamic' })).toBe(1);
    await cached.applications.insert(app('d2', { registration_type: 'dynamic' }));
    await cached.applications.insert(app('m1'));
    expect(await cached.applications.insertIfAbsent(app('d2', { registration_type: 'dynamic' }))).toBe(false);
    expect(await cached.applications.count({ registration_type: 'dynamic' })).toBe(2);
    await cached.applications.delete('d1');
    expect(await cached.applications.count({ registration_type: 'dynamic' })).toBe(1);
    await cached.transaction((tx) => tx.applications.insert(app('d3', { registration_type: 'dynamic' })));
    expect(await cached.applications.count({ registration_type: 'dynamic' })).toBe(2);
    await cached.close();
  });

  it('does not keep a read that ran while a write to the collection was under way', async () => {
    const { feed } = testFeed();
    const raw = openEmbeddedStore({ dataDir: null });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    // A read that takes its time (as a remote database's would): it reads the old document, then answers late.
    const slowReads = Object.assign(Object.create(raw.applications) as typeof raw.applications, {
      get: async (key: string) => {
        const doc = await raw.applications.get(key);
        await gate;
        return doc;
      },
    });
    const cached = cacheDurableReads({ ...raw, applications: slowReads } as DurableStore, feed);
    await raw.applications.insert(app('a1'));
    const reading = cached.applications.get('a1');
    await cached.applications.update('a1', { set: { name: 'new' } });
    release();
    expect((await reading)?.name).toBe('a1'); // answered as it was read
    expect((await cached.applications.get('a1'))?.name).toBe('new'); // but not kept
    await raw.close();
  });
});
