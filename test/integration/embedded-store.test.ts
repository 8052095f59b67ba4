import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { COLLECTION_NAMES, COLLECTIONS } from '../../src/store/collections.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { lockDataDir } from '../../src/store/embedded/lock.ts';
import { DURABLE_MIGRATIONS } from '../../src/store/embedded/migrations.ts';
import { openDurableStore, openStores, StoreError, type Stores } from '../../src/store/index.ts';
import { DuplicateKeyError } from '../../src/store/ports.ts';
import { tempDir } from '../support/backends.ts';
import { createApi, createGrant, thirdPartyApp, authorizeQuery } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, pageOf } from '../support/flow.ts';
import { ISSUER, startGatehouse } from '../support/harness.ts';
import { managementCaller } from '../support/management.ts';

const now = '2026-01-01T00:00:00.000Z';
const connection = (id: string, name: string) => ({ id, name, strategy: 'auth0' as const, is_domain_connection: false, enabled_clients: [], created_at: now, updated_at: now });
const kek = () => randomBytes(32).toString('base64');
const root = path.resolve(import.meta.dirname, '../..');
const open = (dataDir: string, keyEncryptionKeys: string[] = []) => openStores({ dataDir, mongodbUri: null, redisUrl: null, keyEncryptionKeys });

/**
 * Which of these values the data folder holds: in any row of any table (SQLite splits long rows across pages), or any
 * 16 characters of them anywhere in the files' bytes (write-ahead logs, free pages).
 */
function foundInFolder(dir: string, values: Record<string, string>, only = (_file: string) => true): string[] {
  const files = readdirSync(dir).filter(only).map((file) => path.join(dir, file));
  const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
  let rows = '';
  for (const file of files.filter((f) => f.endsWith('.db'))) {
    const db = new DatabaseSync(file, { readOnly: true });
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]) {
      rows += JSON.stringify(db.prepare(`SELECT * FROM ${name}`).all());
    }
    db.close();
  }
  const pieces = (value: string) => Array.from({ length: Math.max(1, value.length - 15) }, (_, i) => value.slice(i, i + 16));
  return Object.entries(values).filter(([, value]) => rows.includes(value) || pieces(value).some((piece) => bytes.includes(piece))).map(([name]) => name);
}

describe('the embedded store (SQLite)', () => {
  it('keeps data and constraints across a restart, in two files: durable entities and sessions', async () => {
    const dir = tempDir();
    const first = openEmbeddedStore({ dataDir: dir, graceSeconds: 0 });
    await first.connections.insert(connection('con_1', 'one'));
    await first.connections.insert(connection('con_2', 'two'));
    await first.connections.update('con_2', { set: { name: 'two-renamed' } });
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
    expect(readdirSync(dir).filter((file) => file.endsWith('.db')).sort()).toEqual(['gatehouse-sessions.db', 'gatehouse.db']);
  });

  it('commits the writes of one turn together, answers each once it is in the file, and a failing one undoes only itself', async () => {
    const dir = tempDir();
    const store = openEmbeddedStore({ dataDir: dir, graceSeconds: 0 });
    const beside = new DatabaseSync(path.join(dir, 'gatehouse.db'), { readOnly: true });
    const committed = () => (beside.prepare('SELECT key FROM connections ORDER BY key').all() as { key: string }[]).map((row) => row.key);
    try {
      await store.connections.insert(connection('con_0', 'zero'));
      const writes = [
        store.connections.insert(connection('con_1', 'one')),
        store.connections.insert(connection('con_2', 'zero')), // the name is taken: this write alone fails
        store.transaction((tx) => {
          tx.connections.insert(connection('con_3', 'three'));
          tx.connections.insert(connection('con_4', 'one')); // taken within the same batch: the whole transaction is undone
        }),
        store.connections.update('con_0', { set: { name: 'zero-renamed' } }),
        // One statement without a savepoint (how oidc-provider's writes run): its second row is a taken key, so SQLite
        // undoes its first row too, and the batch goes on.
        store.database.run("INSERT INTO connections (key, doc) VALUES ('con_5', '{}'), ('con_1', '{}')"),
        store.database.run("INSERT INTO connections (key, doc) VALUES ('con_6', '{}')"),
      ];
      // The writes ran (they were checked against the constraints), yet nothing is in the file before the turn ends.
      expect(committed()).toEqual(['con_0']);
      const outcomes = await Promise.allSettled(writes);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      expect(committed()).toEqual(['con_0', 'con_1', 'con_6']);
      expect((await store.connections.get('con_0'))?.name).toBe('zero-renamed');
    } finally {
      beside.close();
      await store.close();
    }
  });

  it('reads of one turn share one snapshot, ended by a write of the turn or at its end, so another process\'s commit is seen from the next turn', async () => {
    const dir = tempDir();
    const store = openEmbeddedStore({ dataDir: dir });
    const tool = new DatabaseSync(path.join(dir, 'gatehouse.db')); // a tool beside the server
    const toolRenames = (name: string) => tool.prepare("UPDATE connections SET doc = json_set(doc, '$.name', ?) WHERE key = 'con_1'").run(name);
    try {
      await store.connections.insert(connection('con_1', 'one'));
      await new Promise(setImmediate);
      expect((await store.connections.get('con_1'))?.name).toBe('one');
      toolRenames('renamed by the tool');
      expect((await store.connections.get('con_1'))?.name).toBe('one'); // the same turn: the same snapshot
      await new Promise(setImmediate);
      expect((await store.connections.get('con_1'))?.name).toBe('renamed by the tool');
      toolRenames('renamed again');
      // A write in the turn ends its snapshot first, and works on what is committed now.
      await store.connections.update('con_1', { set: { is_domain_connection: true } });
      expect(await store.connections.get('con_1')).toMatchObject({ name: 'renamed again', is_domain_connection: true });
      await new Promise(setImmediate);
      expect(store.database.db.isTransaction).toBe(false); // nothing stays open between turns
      toolRenames('while idle');
      expect((await store.connections.get('con_1'))?.name).toBe('while idle'); // the turn's first read takes a new snapshot
    } finally {
      tool.close();
      await store.close();
    }
  });

  it('answers 503 with Retry-After while another connection holds the write lock beyond the busy timeout, and tells it once, then its end', async () => {
    const dir = tempDir();
    const told: string[] = [];
    const logger = { warn: (_fields: unknown, message: string) => told.push(`warn: ${message}`), info: (message: string) => told.push(`info: ${message}`) };
    const test = await startGatehouse({ stores: await openStores({ dataDir: dir, mongodbUri: null, redisUrl: null, keyEncryptionKeys: [], logger: logger as never }) });
    const holder = new DatabaseSync(path.join(dir, 'gatehouse.db'));
    try {
      const call = await managementCaller(test);
      holder.exec('BEGIN IMMEDIATE'); // another process in a long write transaction
      const refused = await call('post', '/resource-servers', { identifier: 'https://locked.example.com/' });
      expect([refused.status, refused.headers['retry-after'], refused.body.statusCode]).toEqual([503, '5', 503]);
      expect(told).toEqual([expect.stringMatching(/^warn: .*gatehouse\.db cannot be written \(database is locked\)/)]);
      holder.exec('ROLLBACK');
      expect((await call('post', '/resource-servers', { identifier: 'https://locked.example.com/' })).status).toBe(201);
      expect(told).toEqual([expect.stringMatching(/^warn: /), expect.stringMatching(/^info: .*gatehouse\.db can be written again$/)]);
    } finally {
      holder.close();
      await test.close();
      await test.gatehouse.stores.close();
    }
  });

  it('refuses a damaged database, naming the file and what to do', () => {
    const dir = tempDir();
    openEmbeddedStore({ dataDir: dir }).close();
    const file = path.join(dir, 'gatehouse.db');
    const bytes = readFileSync(file);
    bytes.write('garbage!', 0); // the header is gone
    writeFileSync(file, bytes);
    expect(() => openEmbeddedStore({ dataDir: dir })).toThrow(StoreError);
    expect(() => openEmbeddedStore({ dataDir: dir })).toThrow(new RegExp(`${file.replaceAll('/', '\\/')} is damaged or not a Gatehouse database.*restore your latest backup`));
  });

  it('refuses a database written by a newer version, and one of another program', () => {
    const dir = tempDir();
    openEmbeddedStore({ dataDir: dir }).close();
    const db = new DatabaseSync(path.join(dir, 'gatehouse.db'));
    db.exec('PRAGMA user_version = 99');
    db.close();
    expect(() => openEmbeddedStore({ dataDir: dir })).toThrow(new RegExp(`was written by a newer version of Gatehouse \\(schema version 99; this version knows up to ${DURABLE_MIGRATIONS.length}\\)`));

    const other = tempDir();
    const foreign = new DatabaseSync(path.join(other, 'gatehouse.db'));
    foreign.exec('CREATE TABLE notes (id INTEGER)');
    foreign.close();
    expect(() => openEmbeddedStore({ dataDir: other })).toThrow(/is not a Gatehouse database/);
  });

  it('serves one server per data folder, while tools open it beside the server', async () => {
    const dir = tempDir();
    const stores = await open(dir);
    writeFileSync(path.join(dir, 'gatehouse.lock'), String(process.ppid)); // another live process holds it
    await expect(open(dir)).rejects.toThrow(/in use by Gatehouse process/);
    const tool = await openDurableStore({ dataDir: dir, mongodbUri: null });
    await tool.close();
    await stores.close();
    writeFileSync(path.join(dir, 'gatehouse.lock'), '999999999'); // a stale lock from a process that is gone
    lockDataDir(dir)();
  });

  it('has, once migrated, an index for every field the collection specs declare, and appends rows (no table WITHOUT ROWID)', () => {
    const store = openEmbeddedStore({ dataDir: null });
    const db = store.database.db;
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%'").all()).toEqual([]);
    for (const name of COLLECTION_NAMES) {
      const spec = COLLECTIONS[name];
      const indexes = (db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`).all(spec.name) as { name: string; sql: string | null }[])
        .map((index) => ({ unique: /^CREATE UNIQUE/.test(index.sql ?? ''), fields: [...(index.sql ?? '').matchAll(/json_extract\(doc, '\$\.(\w+)'\)/g)].map((m) => m[1]) }));
      for (const field of spec.indexed) expect(indexes.some((index) => index.fields[0] === field) ? field : `${spec.name}.${field} has no index`).toBe(field);
      for (const fields of spec.unique) expect(indexes.some((index) => index.unique && index.fields.slice(0, fields.length).join() === fields.join()) ? fields : `${spec.name}: no unique index on ${fields}`).toEqual(fields);
    }
    void store.close();
  });

  it('rebuilds the tables of a database written WITHOUT ROWID as rowid tables, keeping their rows, keys and indexes', async () => {
    const dir = tempDir();
    // A database as the steps before the rebuild left it, with an application, a client grant and a session's artifact.
    const before = DURABLE_MIGRATIONS.findIndex((steps) => steps.some((sql) => sql.startsWith('CREATE TABLE applications__rebuilt')));
    expect(before).toBeGreaterThan(0);
    const old = new DatabaseSync(path.join(dir, 'gatehouse.db'));
    old.exec(`PRAGMA application_id = ${0x47617465}`); // Gatehouse's
    for (const sql of DURABLE_MIGRATIONS.slice(0, before).flat()) old.exec(sql);
    old.exec(`PRAGMA user_version = ${before}`);
    const app = { client_id: 'app1', name: 'Kept', is_first_party: true, app_type: 'spa', created_at: now };
    old.prepare('INSERT INTO applications (key, doc) VALUES (?, ?)').run(app.client_id, JSON.stringify(app));
    old.prepare('INSERT INTO oidc (model, id, payload, grant_id) VALUES (?, ?, ?, ?)').run('Grant', 'g1', '{"sealed":"x"}', 'g1');
    expect((old.prepare("SELECT sql FROM sqlite_master WHERE name = 'applications'").get() as { sql: string }).sql).toMatch(/WITHOUT ROWID$/);
    old.close();

    const store = openEmbeddedStore({ dataDir: dir });
    const { db } = store.database;
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%'").all()).toEqual([]);
    expect(await store.applications.get('app1')).toEqual(app);
    expect(await store.applications.find({ app_type: 'spa' })).toEqual([app]);
    await expect(store.applications.insert({ ...app, name: 'Twin' } as never)).rejects.toThrow(DuplicateKeyError);
    expect(db.prepare("SELECT grant_id FROM oidc WHERE model = 'Grant' AND id = 'g1'").get()).toEqual({ grant_id: 'g1' });
    const plans = (sql: string) => JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all());
    expect(plans("SELECT doc FROM applications WHERE key = 'app1'")).toMatch(/applications__key/);
    expect(plans("SELECT payload FROM oidc WHERE model = 'Grant' AND id = 'g1'")).toMatch(/oidc__key/);
    await store.close();
  });
});

describe('npm run backup', () => {
  const backup = (dataDir: string, file: string) => new Promise<{ status: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['scripts/backup.ts', file], { cwd: root, env: { ...process.env, NODE_ENV: 'development', DATA_DIR: dataDir } });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.stderr.on('data', (chunk) => { out += chunk; });
    child.on('exit', (status) => resolve({ status, out }));
  });

  it('copies the durable database while the server writes, and the copy restores as the README says', async () => {
    const dir = tempDir();
    const stores = await open(dir);
    for (let i = 0; i < 50; i += 1) await stores.durable.connections.insert(connection(`con_${i}`, `before-${i}`));
    const file = path.join(tempDir(), 'backup.db');
    const running = backup(dir, file);
    let during = 0;
    for (let done = false; !done;) { // keep writing until the backup has finished
      await stores.durable.connections.insert(connection(`con_during_${during}`, `during-${during}`));
      during += 1;
      done = await Promise.race([running.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5))]);
    }
    const { status, out } = await running;
    expect({ status, out }).toMatchObject({ status: 0, out: expect.stringContaining('To restore: stop Gatehouse') });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await backup(dir, file)).out).toMatch(/exists already/);
    await stores.close();

    const restored = tempDir();
    copyFileSync(file, path.join(restored, 'gatehouse.db'));
    const reopened = await open(restored);
    const names = (await reopened.durable.connections.find()).map((c) => c.name);
    expect(names.filter((name) => name.startsWith('before-'))).toHaveLength(50);
    await reopened.close();
  });
});

describe('keys at rest', () => {
  it('are sealed with the key-encryption key, refused without it or with another, and sealed again when it is replaced', async () => {
    const dir = tempDir();
    const first = kek();
    let test = await startGatehouse({ stores: await open(dir, [first]) });
    const privateKey = String(test.gatehouse.keys.signing[0]?.d);
    const hs256 = (await (await managementCaller(test))('post', '/resource-servers', { identifier: 'https://hs.example.com/', signing_alg: 'HS256' })).body;
    const signingSecret = String(hs256.signing_secret);
    await test.close();
    await test.gatehouse.stores.close();
    expect(foundInFolder(dir, { privateKey, signingSecret })).toEqual([]);

    await expect(open(dir)).rejects.toThrow(/\.(signing|signing_secret) is encrypted at rest: set GATEHOUSE_KEY_ENCRYPTION_KEY/);
    await expect(open(dir, [kek()])).rejects.toThrow(/\.(signing|signing_secret) cannot be decrypted \(sealed with a key that is not configured/);

    const second = kek();
    test = await startGatehouse({ stores: await open(dir, [second, first]) }); // the new key first, the old one still listed
    expect(String(test.gatehouse.keys.signing[0]?.d)).toBe(privateKey);
    await test.close();
    await test.gatehouse.stores.close();
    const reopened = await open(dir, [second]); // resealed at the previous start: the old key is no longer needed
    await reopened.close();
  });

  it('are sealed at the first start with a key-encryption key, having been kept in clear in development', async () => {
    const dir = tempDir();
    let test = await startGatehouse({ stores: await open(dir) });
    const privateKey = String(test.gatehouse.keys.signing[0]?.d);
    await test.close();
    await test.gatehouse.stores.close();
    expect(foundInFolder(dir, { privateKey })).toEqual(['privateKey']);
    test = await startGatehouse({ stores: await open(dir, [kek()]) });
    await test.close();
    await test.gatehouse.stores.close();
    expect(foundInFolder(dir, { privateKey })).toEqual([]); // not even in a page freed by the change
    const db = new DatabaseSync(path.join(dir, 'gatehouse.db'));
    const stored = (db.prepare("SELECT doc FROM keys WHERE key = 'keys'").get() as { doc: string }).doc;
    db.close();
    expect(JSON.parse(stored).signing).toMatch(/^sealed:/);
  });
});

describe('tokens at rest', () => {
  it('leave no replayable value in any file of the data folder after login, consent, token and refresh', async () => {
    const dir = tempDir();
    const stores = await open(dir, [kek()]);
    const test = await startGatehouse({ stores });
    const api = await createApi(stores);
    await createGrant(stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes'] });
    const { app, secret } = await thirdPartyApp(stores);
    await createUser(stores, 'ada@example.com', 'correct horse battery');

    const browser = new Browser(test.app);
    const query = authorizeQuery(app, { audience: api.identifier, scope: 'read:notes offline_access' });
    const login = pageOf(await browser.open(query.path));
    const interaction = /state=([\w-]+)/.exec(login.text)?.[1];
    const consent = pageOf(await browser.submit(login, { email: 'ada@example.com', password: 'correct horse battery' }));
    const cookies = Object.fromEntries(browser.jar.header().split('; ').map((pair) => pair.split('=') as [string, string]));
    const code = callbackOf(await browser.submit(consent, { action: 'accept' })).searchParams.get('code') as string;
    const tokens = await request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code', code, redirect_uri: app.callbacks[0], code_verifier: query.verifier, client_id: app.client_id, client_secret: secret,
    }).expect(200);
    const refreshed = await request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: app.client_id, client_secret: secret,
    }).expect(200);

    const secrets = {
      code, interaction, session: cookies._session, secret, password: 'correct horse battery', privateKey: String(test.gatehouse.keys.signing[0]?.d),
      refreshToken: tokens.body.refresh_token, rotatedRefreshToken: refreshed.body.refresh_token, accessToken: tokens.body.access_token,
    };
    for (const value of Object.values(secrets)) expect(typeof value === 'string' && value.length >= 16).toBe(true);
    expect(foundInFolder(dir, secrets as Record<string, string>)).toEqual([]); // while running: the write-ahead logs are read too
    await test.close();
    await stores.close();
    expect(foundInFolder(dir, secrets as Record<string, string>)).toEqual([]);
  });
});

describe('a data folder of version 0.1.0', () => {
  const fixture = path.resolve(import.meta.dirname, '../fixtures/data-0.1.0');
  const written = JSON.parse(readFileSync(path.join(fixture, 'tokens.json'), 'utf8')) as {
    client_id: string; client_secret: string; admin: { client_id: string }; refresh_token: string; access_token: string; written_at: number;
  };

  /** The fixture's journal, with every time moved forward as if it had been written just now. */
  function freshCopy(): string {
    const dir = tempDir();
    const shift = Date.now() - written.written_at;
    const seconds = Math.floor(shift / 1000);
    const lines = readFileSync(path.join(fixture, 'gatehouse.jsonl'), 'utf8').trim().split('\n').map((line) => {
      const record = JSON.parse(line) as { t: string; x?: number; v?: Record<string, unknown> };
      if (record.x) record.x += shift;
      if (record.t.startsWith('oidc:') && record.v) {
        for (const field of ['iat', 'exp', 'iiat', 'loginTs', 'authTime']) if (typeof record.v[field] === 'number') (record.v[field] as number) += seconds;
      }
      return JSON.stringify(record);
    });
    writeFileSync(path.join(dir, 'gatehouse.jsonl'), `${lines.join('\n')}\n`);
    return dir;
  }

  it('is imported once at first start, keeping the journal renamed beside the database; its tokens keep working', async () => {
    const dir = freshCopy();
    await expect(openDurableStore({ dataDir: dir, mongodbUri: null })).rejects.toThrow(/holds data of Gatehouse 0\.1\.0 that was not imported yet/);
    let stores: Stores = await open(dir);
    expect(existsSync(path.join(dir, 'gatehouse.jsonl'))).toBe(false);
    expect(existsSync(path.join(dir, 'gatehouse.jsonl.imported'))).toBe(true);
    let test = await startGatehouse({ stores });
    expect(test.gatehouse.adminCredentials).toEqual({ client_id: written.admin.client_id }); // no new admin secret
    const published = (await request(test.app).get('/.well-known/jwks.json').expect(200)).body;
    await jwtVerify(written.access_token, createLocalJWKSet(published), { issuer: ISSUER }); // the same signing keys
    expect(published.keys.map((key: { alg: string }) => key.alg).sort()).toEqual(['ES256', 'PS256', 'RS256', 'RS512']); // and one for each algorithm 0.1.0 lacked
    const refreshed = await request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'refresh_token', refresh_token: written.refresh_token, client_id: written.client_id, client_secret: written.client_secret,
    });
    expect(refreshed.status).toBe(200);
    await test.close();
    await stores.close();
    expect(foundInFolder(dir, { refreshToken: written.refresh_token }, (file) => file.includes('.db'))).toEqual([]); // imported under its hash

    stores = await open(dir); // a second start imports nothing and finds everything
    test = await startGatehouse({ stores });
    expect(await stores.durable.applications.get(written.client_id)).toMatchObject({ name: 'Notes (0.1.0)' });
    expect((await stores.durable.users.find({ email: 'ada@example.com' })).length).toBe(1);
    await test.close();
    await stores.close();
  });
});
