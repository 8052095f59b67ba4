import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DuplicateKeyError, type DurableStore } from '../../src/store/ports.ts';
import type { ClientGrant, Connection } from '../../src/domain/model.ts';
import { durableBackends, eachBackend } from '../support/backends.ts';

const now = '2026-01-01T00:00:00.000Z';
const grant = (id: string, fields: Partial<ClientGrant>): ClientGrant => ({
  id, audience: 'https://api.example.com/', scope: ['read'], allow_all_scopes: false, subject_type: 'user', is_system: false,
  created_at: now, updated_at: now, ...fields,
});
const connection = (id: string, name: string, enabled: string[] = []): Connection => ({
  id, name, strategy: 'auth0', is_domain_connection: false, enabled_clients: enabled, created_at: now, updated_at: now,
});

eachBackend(durableBackends, (open) => {
  let store: DurableStore;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('inserts, gets, replaces and deletes by key, handing out copies', async () => {
    const doc = connection('con_1', 'db');
    await store.connections.insert(doc);
    doc.name = 'mutated after insert';
    const read = await store.connections.get('con_1');
    expect(read?.name).toBe('db');
    read!.name = 'mutated after read';
    expect((await store.connections.get('con_1'))?.name).toBe('db');
    expect(await store.connections.replace({ ...connection('con_1', 'renamed') })).toBe(true);
    expect((await store.connections.get('con_1'))?.name).toBe('renamed');
    expect(await store.connections.replace(connection('con_missing', 'x'))).toBe(false);
    expect(await store.connections.delete('con_1')).toBe(true);
    expect(await store.connections.delete('con_1')).toBe(false);
    expect(await store.connections.get('con_1')).toBeUndefined();
  });

  it('rejects a duplicate key and a duplicate unique field, on insert and on replace', async () => {
    await store.connections.insert(connection('con_1', 'db'));
    await store.connections.insert(connection('con_2', 'other'));
    await expect(store.connections.insert(connection('con_1', 'x'))).rejects.toBeInstanceOf(DuplicateKeyError);
    await expect(store.connections.insert(connection('con_3', 'db'))).rejects.toBeInstanceOf(DuplicateKeyError);
    await expect(store.connections.replace(connection('con_2', 'db'))).rejects.toBeInstanceOf(DuplicateKeyError);
    expect((await store.connections.get('con_2'))?.name).toBe('other');
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
    await store.clientGrants.replace(grant('g1', { client_id: 'app2' }));
    expect(await store.clientGrants.find({ client_id: 'app1' })).toEqual([]);
    expect((await store.clientGrants.find({ client_id: 'app2' })).map((g) => g.id)).toEqual(['g1']);
    expect(await store.clientGrants.deleteMany({ client_id: 'app2' })).toBe(1);
    expect(await store.clientGrants.find({ client_id: 'app2' })).toEqual([]);
    await store.clientGrants.insert(grant('g2', { client_id: 'app1' }));
  });
}, 'Collection port', describe, describe.skip);
