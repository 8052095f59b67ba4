import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DuplicateKeyError, type DurableStore } from '../../src/store/ports.ts';
import type { ClientGrant, Connection, User, UserGrant } from '../../src/domain/model.ts';
import { newTimeOrderedId, timeOrderedIdAt } from '../../src/domain/ids.ts';
import { durableBackends, eachBackend } from '../support/backends.ts';

const now = '2026-01-01T00:00:00.000Z';
const grant = (id: string, fields: Partial<ClientGrant>): ClientGrant => ({
  id, audience: 'https://api.example.com/', scope: ['read'], allow_all_scopes: false, subject_type: 'user', is_system: false,
  created_at: now, updated_at: now, ...fields,
});
const connection = (id: string, name: string, enabled: string[] = []): Connection => ({
  id, name, strategy: 'auth0', is_domain_connection: false, enabled_clients: enabled, created_at: now, updated_at: now,
});
const later = '2026-02-01T00:00:00.000Z';
const user = (userId: string): User => ({
  user_id: userId, email: `${userId}@example.com`, email_verified: false, connection: 'db', blocked: false, logins_count: 0,
  created_at: now, updated_at: now, password_hash: 'hash',
});
const consent = (id: string, scope: string[]): UserGrant => ({
  id, user_id: 'u1', clientID: 'app1', audience: 'https://api.example.com/', scope, oidc_grant_ids: ['g1'], created_at: now, updated_at: now,
});

eachBackend(durableBackends, (open) => {
  let store: DurableStore;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('inserts, gets, updates and deletes by key, handing out copies', async () => {
    const doc = connection('con_1', 'db');
    await store.connections.insert(doc);
    doc.name = 'mutated after insert';
    const read = await store.connections.get('con_1');
    expect(read?.name).toBe('db');
    read!.name = 'mutated after read';
    expect((await store.connections.get('con_1'))?.name).toBe('db');
    expect(await store.connections.update('con_1', { set: { name: 'renamed' } })).toEqual({ ...connection('con_1', 'renamed') });
    expect((await store.connections.get('con_1'))?.name).toBe('renamed');
    expect(await store.connections.update('con_missing', { set: { name: 'x' } })).toBeUndefined();
    expect(await store.connections.get('con_missing')).toBeUndefined();
    expect(await store.connections.delete('con_1')).toBe(true);
    expect(await store.connections.delete('con_1')).toBe(false);
    expect(await store.connections.get('con_1')).toBeUndefined();
  });

  it('rejects a duplicate key and a duplicate unique field, on insert and on update', async () => {
    await store.connections.insert(connection('con_1', 'db'));
    await store.connections.insert(connection('con_2', 'other'));
    await expect(store.connections.insert(connection('con_1', 'x'))).rejects.toBeInstanceOf(DuplicateKeyError);
    await expect(store.connections.insert(connection('con_3', 'db'))).rejects.toBeInstanceOf(DuplicateKeyError);
    await expect(store.connections.update('con_2', { set: { name: 'db' } })).rejects.toMatchObject({ fields: ['name'] });
    expect((await store.connections.get('con_2'))?.name).toBe('other');
    expect(await store.connections.insertIfAbsent(connection('con_1', 'y'))).toBe(false);
    expect(await store.connections.insertIfAbsent(connection('con_4', 'db'))).toBe(false);
    expect((await store.connections.get('con_1'))?.name).toBe('db');
    expect(await store.connections.insertIfAbsent(connection('con_4', 'four'))).toBe(true);
    // Freed unique values can be taken again.
    await store.connections.delete('con_1');
    await store.connections.insert(connection('con_3', 'db'));
  });

  it('checks compound unique constraints only when all their fields are present', async () => {
    await store.clientGrants.insert(grant('cgr_1', { client_id: 'app1' }));
    await store.clientGrants.insert(grant('cgr_2', { client_id: 'app1', subject_type: 'client' }));
    await store.clientGrants.insert(grant('cgr_3', { default_for: 'third_party_clients' }));
    await store.clientGrants.insert(grant('cgr_4', { client_id: 'app2' }));
    await expect(store.clientGrants.insert(grant('cgr_5', { client_id: 'app1' }))).rejects.toThrow(DuplicateKeyError);
    await expect(store.clientGrants.insert(grant('cgr_6', { default_for: 'third_party_clients' }))).rejects.toThrow(DuplicateKeyError);
    expect(await store.clientGrants.count()).toBe(4);
  });

  it('finds by equality and array membership, sorted by key, with skip and limit', async () => {
    for (const id of ['c', 'a', 'e', 'b', 'd']) {
      await store.clientGrants.insert(grant(id, { client_id: id === 'e' ? 'other' : 'app', audience: id === 'd' ? 'https://x/' : `https://api/${id}` }));
    }
    expect((await store.clientGrants.find({ client_id: 'app' })).map((g) => g.id)).toEqual(['a', 'b', 'c', 'd']);
    expect((await store.clientGrants.find({ client_id: 'app', audience: 'https://x/' })).map((g) => g.id)).toEqual(['d']);
    expect(await store.clientGrants.find({ client_id: 'other', audience: 'https://x/' })).toEqual([]);
    expect((await store.clientGrants.find({}, { skip: 1, limit: 2 })).map((g) => g.id)).toEqual(['b', 'c']);
    expect(await store.clientGrants.count({ client_id: 'app' })).toBe(4);
    await store.connections.insert(connection('con_1', 'one', ['app1', 'app2']));
    await store.connections.insert(connection('con_2', 'two', ['app2']));
    expect((await store.connections.find({ enabled_clients: 'app1' })).map((c) => c.id)).toEqual(['con_1']);
    expect(await store.connections.count({ enabled_clients: 'app2' })).toBe(2);
  });

  it('pages by key in either order, after a given key (checkpoint pagination)', async () => {
    for (const id of ['c', 'a', 'e', 'b', 'd']) await store.clientGrants.insert(grant(id, { client_id: id === 'b' ? 'other' : 'app', audience: `https://api/${id}` }));
    const ids = async (page: Parameters<typeof store.clientGrants.find>[1]) => (await store.clientGrants.find({ client_id: 'app' }, page)).map((g) => g.id);
    expect(await ids({ after: 'a', limit: 2 })).toEqual(['c', 'd']);
    expect(await ids({ after: 'd' })).toEqual(['e']);
    expect(await ids({ order: 'desc', limit: 2 })).toEqual(['e', 'd']);
    expect(await ids({ order: 'desc', after: 'd' })).toEqual(['c', 'a']);
    expect(await ids({ after: 'e' })).toEqual([]);
  });

  it('keeps indexes true after updates and deletions', async () => {
    await store.clientGrants.insert(grant('g1', { client_id: 'app1' }));
    await store.clientGrants.update('g1', { set: { client_id: 'app2' } });
    expect(await store.clientGrants.find({ client_id: 'app1' })).toEqual([]);
    expect((await store.clientGrants.find({ client_id: 'app2' })).map((g) => g.id)).toEqual(['g1']);
    expect(await store.clientGrants.deleteMany({ client_id: 'app2' })).toBe(1);
    expect(await store.clientGrants.find({ client_id: 'app2' })).toEqual([]);
    await store.clientGrants.insert(grant('g2', { client_id: 'app1' }));
  });

  it('changes fields atomically: set, unset, inc, addToSet and pull', async () => {
    await store.users.insert(user('u1'));
    const changed = await store.users.update('u1', {
      set: { name: 'Jane', last_login: later }, inc: { logins_count: 2 }, unset: ['email_verified' as never],
    });
    expect(changed).toMatchObject({ name: 'Jane', last_login: later, logins_count: 2 });
    expect(changed).not.toHaveProperty('email_verified');
    expect(await store.users.get('u1')).toEqual(changed);
    await store.users.update('u1', { inc: { logins_count: -1 } });
    expect((await store.users.get('u1'))?.logins_count).toBe(1);

    await store.userGrants.insert(consent('c1', ['read']));
    await store.userGrants.update('c1', { addToSet: { scope: ['read', 'write', 'write'], oidc_grant_ids: ['g2'] } });
    expect(await store.userGrants.get('c1')).toMatchObject({ scope: ['read', 'write'], oidc_grant_ids: ['g1', 'g2'] });
    await store.userGrants.update('c1', { pull: { scope: ['read', 'missing'] } });
    expect((await store.userGrants.get('c1'))?.scope).toEqual(['write']);
  });

  it('applies an update only where its condition holds (optimistic concurrency)', async () => {
    await store.users.insert(user('u1'));
    expect(await store.users.update('u1', { set: { name: 'stale' } }, { updated_at: later })).toBeUndefined();
    expect(await store.users.update('u1', { set: { name: 'x' } }, { blocked: true })).toBeUndefined();
    expect((await store.users.get('u1'))?.name).toBeUndefined();
    expect(await store.users.update('u1', { set: { name: 'fresh', updated_at: later } }, { updated_at: now, blocked: false })).toMatchObject({ name: 'fresh' });
    await store.connections.insert(connection('con_1', 'db', ['app1']));
    expect(await store.connections.update('con_1', { set: { display_name: 'DB' } }, { enabled_clients: 'app2' })).toBeUndefined();
    expect(await store.connections.update('con_1', { set: { display_name: 'DB' } }, { enabled_clients: 'app1' })).toMatchObject({ display_name: 'DB' });
  });

  it('loses no increment when writers race', async () => {
    await store.users.insert(user('u1'));
    await Promise.all(Array.from({ length: 20 }, () => store.users.update('u1', { inc: { logins_count: 1 } })));
    expect((await store.users.get('u1'))?.logins_count).toBe(20);
  });

  it('deletes keys before a bound (retention of time-ordered keys)', async () => {
    const ids = [newTimeOrderedId(1_000), newTimeOrderedId(2_000), newTimeOrderedId(2_000), newTimeOrderedId(3_000)];
    for (const id of ids) await store.clientGrants.insert(grant(id, { client_id: id, audience: `https://api/${id}` }));
    expect(await store.clientGrants.deleteBefore(timeOrderedIdAt(2_000))).toBe(1);
    expect((await store.clientGrants.find()).map((g) => g.id)).toEqual(ids.slice(1));
    expect((await store.clientGrants.find({}, { order: 'desc', limit: 1 })).map((g) => g.id)).toEqual([ids[3]]);
  });

  it('runs a transaction all or nothing', async () => {
    await store.connections.insert(connection('con_1', 'one', ['app1', 'app2']));
    await store.connections.insert(connection('con_2', 'two', ['app1']));
    await store.clientGrants.insert(grant('g1', { client_id: 'app1' }));
    await store.clientGrants.insert(grant('g2', { client_id: 'app2' }));

    await store.transaction((tx) => {
      tx.clientGrants.deleteMany({ client_id: 'app1' });
      tx.connections.updateMany({ enabled_clients: 'app1' }, { pull: { enabled_clients: ['app1'] } });
      tx.users.insert(user('u1'));
      tx.users.update('u1', { inc: { logins_count: 1 } });
    });
    expect((await store.clientGrants.find()).map((g) => g.id)).toEqual(['g2']);
    expect((await store.connections.find()).map((c) => c.enabled_clients)).toEqual([['app2'], []]);
    expect((await store.users.get('u1'))?.logins_count).toBe(1);

    if (store.kind === 'mongodb') return; // without a replica set MongoDB runs the steps in order instead
    await expect(store.transaction((tx) => {
      tx.clientGrants.delete('g2');
      tx.connections.insert(connection('con_3', 'one')); // the name is taken: everything before is undone
    })).rejects.toBeInstanceOf(DuplicateKeyError);
    expect((await store.clientGrants.find()).map((g) => g.id)).toEqual(['g2']);
  });
}, 'Collection port', describe, describe.skip);
