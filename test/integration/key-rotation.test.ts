import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores, type Stores } from '../../src/store/index.ts';
import { tempDir } from '../support/backends.ts';
import { clientCredentialsToken, ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { SIGNING_ALGS } from '../../src/domain/model.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** `npm run keys:rotate` as an operator runs it, beside the running Gatehouse processes. */
function rotateKeys(dataDir: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, ['scripts/rotate-keys.ts', ...args], {
    cwd: root, env: { ...process.env, NODE_ENV: 'test', DATA_DIR: dataDir, ISSUER }, encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`keys:rotate failed: ${result.stderr}`);
  return result.stdout;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, seconds = 15): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('signing key rotation across two running processes', () => {
  const dataDir = tempDir();
  let stores: Stores;
  let a: TestGatehouse;
  let b: TestGatehouse;
  /** A Management API token from this process, for the admin application the first process created. */
  const tokenFrom = async (instance: TestGatehouse) => {
    const { client_id, client_secret } = a.gatehouse.adminCredentials;
    const res = await clientCredentialsToken(instance.app, client_id, client_secret as string, `${ISSUER}/api/v2/`);
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };
  const kidOf = async (instance: TestGatehouse) => String(decodeProtectedHeader(await tokenFrom(instance)).kid);
  const published = async (instance: TestGatehouse) => ((await request(instance.app).get('/.well-known/jwks.json')).body.keys as { kid: string }[]).map((k) => k.kid);
  const management = (instance: TestGatehouse, token: string) => request(instance.app).get('/api/v2/clients').set('Authorization', `Bearer ${token}`);
  /** Whether this process's introspection finds the token active (the admin application asks about its own token). */
  const activeAt = async (instance: TestGatehouse, token: string) => {
    const { client_id, client_secret } = a.gatehouse.adminCredentials;
    return (await request(instance.app).post('/oauth/introspect').type('form').send({ token, client_id, client_secret })).body.active as boolean;
  };

  beforeAll(async () => {
    // One data folder shared by both, as processes share MongoDB; each re-reads the keys every second.
    const embedded = openEmbeddedStore({ dataDir });
    stores = combineStores(embedded, embedded);
    const config = { keys: { refresh_seconds: 1, rotation_lead_seconds: 900 } };
    a = await startGatehouse({ stores, config });
    b = await startGatehouse({ stores, config });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await stores.close();
  });

  it('publishes the next key everywhere before it signs, signs with it everywhere after, and retires the old one', async () => {
    const oldKid = await kidOf(a);
    expect(await kidOf(b)).toBe(oldKid);
    const oldToken = await tokenFrom(a);
    const before = await published(a);

    const activation = Date.now() + 4000;
    expect(rotateKeys(dataDir, '--activate-in', '4')).toContain('Rotated signing keys');
    const staged = await eventually('both processes publish the new keys', async () => {
      const [fromA, fromB] = [await published(a), await published(b)];
      const added = fromA.filter((kid) => !before.includes(kid) && fromB.includes(kid));
      return fromA.length === 2 * SIGNING_ALGS.length && fromB.length === 2 * SIGNING_ALGS.length && added.length === SIGNING_ALGS.length ? added : undefined;
    });
    if (Date.now() < activation - 500) {
      // Published, not yet signing: tokens issued now are still signed with the old key, in both processes.
      expect([await kidOf(a), await kidOf(b)]).toEqual([oldKid, oldKid]);
    }

    const newKid = await eventually('both processes sign with the new key', async () => {
      const [fromA, fromB] = [await kidOf(a), await kidOf(b)];
      return fromA !== oldKid && fromA === fromB ? fromA : undefined;
    });
    expect(staged).toContain(newKid);
    // Each process accepts what the other signed, and the tokens of the old key until it is retired.
    await management(a, await tokenFrom(b)).expect(200);
    await management(b, await tokenFrom(a)).expect(200);
    await management(a, oldToken).expect(200);
    await management(b, oldToken).expect(200);
    expect([await activeAt(a, await tokenFrom(b)), await activeAt(b, oldToken)]).toEqual([true, true]);

    expect(rotateKeys(dataDir, '--retire')).toContain(`Retired signing keys: ${oldKid}`);
    await eventually('both processes stop publishing the retired keys', async () => {
      const [fromA, fromB] = [await published(a), await published(b)];
      return fromA.length === SIGNING_ALGS.length && fromB.length === SIGNING_ALGS.length && !fromA.includes(oldKid) && !fromB.includes(oldKid) ? true : undefined;
    });
    await management(a, oldToken).expect(401);
    await management(b, oldToken).expect(401);
    expect(await activeAt(a, oldToken)).toBe(false);
  });
});
