import { describe, expect, it } from '@jest/globals';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { tempDir } from '../support/backends.ts';

const now = '2026-01-01T00:00:00.000Z';
const connection = (id: string, name: string) => ({ id, name, strategy: 'auth0' as const, is_domain_connection: false, enabled_clients: [], created_at: now, updated_at: now });

describe('embedded store journal', () => {
  it('replays writes and deletions after a restart, and rebuilds unique indexes', async () => {
    const dir = tempDir();
    const first = openEmbeddedStore({ dataDir: dir, graceSeconds: 0 });
    await first.connections.insert(connection('con_1', 'one'));
    await first.connections.insert(connection('con_2', 'two'));
    await first.connections.replace(connection('con_2', 'two-renamed'));
    await first.connections.delete('con_1');
    await first.oidcAdapter('Grant').upsert('grant1', { jti: 'grant1', accountId: 'u' }, 3600);
    await first.oidcAdapter('Session').upsert('gone', { jti: 'gone', uid: 'x' }, 1);
    await first.close();

    await new Promise((r) => setTimeout(r, 1100));
    const second = openEmbeddedStore({ dataDir: dir, graceSeconds: 0 });
    expect(await second.connections.get('con_1')).toBeUndefined();
    expect((await second.connections.get('con_2'))?.name).toBe('two-renamed');
    await expect(second.connections.insert(connection('con_3', 'two-renamed'))).rejects.toThrow(/same name/);
    expect((await second.oidcAdapter('Grant').find('grant1'))?.accountId).toBe('u');
    expect(await second.oidcAdapter('Session').findByUid('x')).toBeUndefined();
    await second.close();
  });

  it('tolerates a torn last line left by a crash', async () => {
    const dir = tempDir();
    const first = openEmbeddedStore({ dataDir: dir });
    await first.connections.insert(connection('con_1', 'one'));
    await first.close();
    appendFileSync(path.join(dir, 'gatehouse.jsonl'), '{"t":"connections","k":"con_2","v":{"id":"con_');
    const second = openEmbeddedStore({ dataDir: dir });
    expect((await second.connections.get('con_1'))?.name).toBe('one');
    expect(await second.connections.get('con_2')).toBeUndefined();
    await second.close();
  });

  it('compacts the journal to the live data at start', async () => {
    const dir = tempDir();
    const first = openEmbeddedStore({ dataDir: dir });
    for (let i = 0; i < 50; i += 1) await first.connections.replace(connection('con_1', `v${i}`)).then(async (ok) => ok || first.connections.insert(connection('con_1', `v${i}`)));
    await first.close();
    openEmbeddedStore({ dataDir: dir }).close();
    const lines = readFileSync(path.join(dir, 'gatehouse.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string).v.name).toBe('v49');
  });

  it('refuses a data folder that another live process holds', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'gatehouse.lock'), String(process.ppid));
    expect(() => openEmbeddedStore({ dataDir: dir })).toThrow(/in use by process/);
    writeFileSync(path.join(dir, 'gatehouse.lock'), '999999999'); // a stale lock from a process that is gone
    openEmbeddedStore({ dataDir: dir }).close();
  });
});
