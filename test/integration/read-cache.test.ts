import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import express from 'express';
import { decodeJwt } from 'jose';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores, openStores, type Stores } from '../../src/store/index.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.ts';
import { tempDir } from '../support/backends.ts';
import { ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';

/**
 * The read cache (src/store/read-cache.ts) never serves what was changed: a change made through the Management API of
 * one process takes effect in every other within a second, whichever way the processes hear of it.
 */
const API = 'https://api.example.com/';
/** A client-credentials request for an API the application has no client grant for. */
const REFUSED = 'unauthorized_client';
/** The bound issue 19 sets on a change reaching every process. */
const WITHIN_MS = 1000;

interface Credentials {
  client_id: string;
  client_secret?: string;
}

/** A Gatehouse reached over HTTP: a child process, or one of this process's on a loopback port. */
interface Instance {
  origin: string;
  admin: Credentials;
}

async function form(origin: string, route: string, fields: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${origin}${route}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

const token = (origin: string, client: Credentials, audience = API) =>
  form(origin, '/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret as string, audience });

async function management(instance: Instance, method: string, route: string, body?: unknown): Promise<Record<string, unknown>> {
  const issued = await token(instance.origin, instance.admin, `${ISSUER}/api/v2/`);
  if (issued.status !== 200) throw new Error(`admin token: ${issued.status} ${JSON.stringify(issued.body)}`);
  const res = await fetch(`${instance.origin}/api/v2${route}`, {
    method, headers: { authorization: `Bearer ${issued.body.access_token as string}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : await res.json() as Record<string, unknown>;
}

/** Asks until `check` holds, for at most WITHIN_MS after the change; says how long it took, or fails. */
async function takesEffect(check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > WITHIN_MS) throw new Error(`the change did not take effect within ${WITHIN_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The changes an administrator makes on `a`, each seen by `b` (which read the old state first, so had it cached):
 * a new machine application and its client grant, an API's token lifetime, the grant's removal.
 */
async function changesReachTheOther(a: Instance, b: Instance): Promise<void> {
  const client = await management(a, 'POST', '/clients', { name: `Cached ${randomUUID()}`, app_type: 'non_interactive' }) as unknown as Credentials;
  expect((await token(b.origin, client)).body.error).toBe(REFUSED); // no client grant yet: b reads and keeps that
  const grant = await management(a, 'POST', '/client-grants', { client_id: client.client_id, audience: API, scope: ['read:messages'] });
  expect(await takesEffect(async () => (await token(b.origin, client)).status === 200)).toBeLessThanOrEqual(WITHIN_MS);

  const api = (await management(a, 'GET', '/resource-servers') as unknown as { id: string; identifier: string; token_lifetime: number }[]).find((server) => server.identifier === API);
  const lifetime = async () => {
    const { access_token } = (await token(b.origin, client)).body as { access_token: string };
    const { exp, iat } = decodeJwt(access_token);
    return (exp as number) - (iat as number);
  };
  expect(await lifetime()).toBe(api!.token_lifetime);
  await management(a, 'PATCH', `/resource-servers/${api!.id}`, { token_lifetime: 12345 });
  expect(await takesEffect(async () => (await lifetime()) === 12345)).toBeLessThanOrEqual(WITHIN_MS);

  await management(a, 'DELETE', `/client-grants/${grant.id as string}`);
  expect(await takesEffect(async () => (await token(b.origin, client)).body.error === REFUSED)).toBeLessThanOrEqual(WITHIN_MS);
}

async function listen(test: TestGatehouse): Promise<{ instance: Instance; server: Server }> {
  const app = express().use(test.app);
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  const { client_id, client_secret } = test.gatehouse.adminCredentials;
  return { instance: { origin: `http://127.0.0.1:${address.port}`, admin: { client_id, ...(client_secret ? { client_secret } : {}) } }, server };
}

describe('two Gatehouse processes sharing a durable store and Redis', () => {
  const children: ChildProcess[] = [];
  const instances: Instance[] = [];

  beforeAll(async () => {
    const env = { ...process.env, DATA_DIR: tempDir(), REDIS_PREFIX: `read-cache:${randomUUID()}:` };
    for (let i = 0; i < 2; i += 1) {
      // One after the other: the first creates the keys, the seeded APIs and the admin application.
      const child = fork(path.resolve(import.meta.dirname, '../support/shared-store-process.ts'), [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      const [ready] = await once(child, 'message') as [Instance];
      instances.push(ready);
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }));
  });

  it('sees a change made through the other\'s Management API within a second', async () => {
    const [a, b] = instances as [Instance, Instance];
    await changesReachTheOther({ ...a }, { ...b, admin: a.admin });
  }, 30_000);
});

describe('Gatehouses that hear of each other\'s changes through Redis alone', () => {
  // One durable store object shared by two sets of stores (as MongoDB would be): each set has its own cache, and a
  // write through one never passes through the other's, so only the Redis channel can tell it.
  let durable: ReturnType<typeof openEmbeddedStore>;
  const redisStores: RedisStore[] = [];
  const tests: TestGatehouse[] = [];
  const servers: Server[] = [];
  const instances: Instance[] = [];

  beforeAll(async () => {
    durable = openEmbeddedStore({ dataDir: null });
    const prefix = `read-cache:${randomUUID()}:`;
    for (let i = 0; i < 2; i += 1) redisStores.push(await openRedisStore({ url: process.env.REDIS_URL as string, keyPrefix: prefix }));
    const stores: Stores[] = redisStores.map((redis) => combineStores(durable, redis, redis.client));
    for (const shared of stores) {
      const test = await startGatehouse({ stores: shared });
      tests.push(test);
      const { instance, server } = await listen(test);
      instances.push(instance);
      servers.push(server);
    }
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    for (const test of tests) await test.close();
    for (const redis of redisStores) await redis.close();
    await durable.close();
  });

  it('sees a change made through the other\'s Management API within a second', async () => {
    const [a, b] = instances as [Instance, Instance];
    await changesReachTheOther(a, { ...b, admin: a.admin });
  });
});

describe('the embedded store and another connection to its file', () => {
  let stores: Stores;
  let test: TestGatehouse;
  let server: Server;
  let instance: Instance;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir();
    stores = await openStores({ dataDir, mongodbUri: null, redisUrl: null });
    test = await startGatehouse({ stores });
    ({ instance, server } = await listen(test));
  });
  afterAll(async () => {
    server.close();
    await test.close();
    await stores.close();
  });

  it('hears of a change committed by another connection (a tool beside the server) within a second', async () => {
    const client = await management(instance, 'POST', '/clients', { name: 'Cached', app_type: 'non_interactive' }) as unknown as Credentials;
    const grant = await management(instance, 'POST', '/client-grants', { client_id: client.client_id, audience: API, scope: ['read:messages'] });
    expect((await token(instance.origin, client)).status).toBe(200); // read, and kept
    const other = openEmbeddedStore({ dataDir }); // no lock: as the key-rotation tool opens it
    try {
      await other.clientGrants.delete(grant.id as string);
    } finally {
      other.close();
    }
    expect(await takesEffect(async () => (await token(instance.origin, client)).body.error === REFUSED)).toBeLessThanOrEqual(WITHIN_MS);
  });
});
