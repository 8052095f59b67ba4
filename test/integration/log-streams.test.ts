import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { LogEvent, LogStream } from '../../src/domain/model.ts';
import { logStreamResponse } from '../../src/http/management/schemas.ts';
import { createLogStream } from '../../src/services/log-streams.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores, openStores, type Stores } from '../../src/store/index.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.ts';
import { tempDir } from '../support/backends.ts';
import { LogReceiver } from '../support/log-receiver.ts';
import { createApi, createGrant } from '../support/fixtures.ts';
import { clientCredentialsToken, insertApplication, manualLogDelivery, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, expectConforms, managementCaller, type ManagementCaller } from '../support/management.ts';

/** Delivery driven by the tests (`deliverNow`), retries after 400 ms then 800 ms, suspension after 3 failures in a row. */
const logsConfig = manualLogDelivery;

/** An application that gets client-credentials tokens for an API: each request is a `seccft` event. */
async function machineApplication(test: TestGatehouse) {
  const api = await createApi(test.gatehouse.stores);
  const { app, secret } = await insertApplication(test.gatehouse.stores, { name: 'Machine', grant_types: ['client_credentials'] });
  await createGrant(test.gatehouse.stores, { client_id: app.client_id, audience: api.identifier, scope: ['read:notes'], subject_type: 'client' });
  return { client_id: app.client_id, secret, audience: api.identifier };
}

describe('log streams', () => {
  let test: TestGatehouse;
  let api: ManagementCaller;
  let machine: { client_id: string; secret: string; audience: string };
  const receiver = new LogReceiver();

  beforeAll(async () => {
    await receiver.start();
    test = await startGatehouse({ config: logsConfig() });
    api = await managementCaller(test);
    machine = await machineApplication(test);
  });
  afterAll(async () => {
    await test.close();
    await receiver.close();
  });
  afterEach(async () => {
    for (const stream of await test.gatehouse.stores.durable.logStreams.find()) await test.gatehouse.stores.durable.logStreams.delete(stream.id);
    receiver.deliveries.length = 0;
    receiver.respond = () => 200;
  });

  /** A token request (a `seccft` event), or a refused one (`feccft`). */
  const tokenEvent = async (ok = true) => clientCredentialsToken(test.app, machine.client_id, ok ? machine.secret : 'wrong', machine.audience);
  const deliver = async () => {
    await test.gatehouse.audit.flush();
    await test.gatehouse.logStreams.deliverNow();
  };
  const stored = async (id: string) => (await test.gatehouse.stores.durable.logStreams.get(id)) as LogStream;
  /** Moves a stream's next attempt: the backoff's time passing (or not), without waiting for it. */
  const retryAt = (id: string, at: number) => test.gatehouse.stores.durable.logStreams.update(id, { set: { retry_at: at } });

  it('delivers new events to an http stream, in batches, with its Authorization and custom headers, in Auth0\'s shapes', async () => {
    await tokenEvent(); // written before the stream exists: not delivered
    await test.gatehouse.audit.flush();
    const created = await api('post', '/log-streams', {
      name: 'SIEM', type: 'http',
      sink: { httpEndpoint: receiver.url, httpAuthorization: 'Bearer stream-secret', httpCustomHeaders: [{ header: 'X-Api-Key', value: 'key-123' }] },
    }).expect(201);
    expectConforms(created.body, logStreamResponse);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^lst_/), name: 'SIEM', type: 'http', status: 'active', filters: [], isPriority: false,
      sink: { httpEndpoint: receiver.url, httpContentType: 'application/json', httpContentFormat: 'JSONARRAY', httpCustomHeaders: [{ header: 'X-Api-Key', value: 'key-123' }] },
    });
    expect(JSON.stringify(created.body)).not.toContain('stream-secret');
    expect(JSON.stringify((await api('get', '/log-streams').expect(200)).body)).not.toContain('stream-secret');
    for (let i = 0; i < 3; i += 1) await tokenEvent();
    await deliver();

    expect(receiver.deliveries).toHaveLength(1);
    const [delivery] = receiver.deliveries;
    expect(delivery?.headers).toMatchObject({ authorization: 'Bearer stream-secret', 'x-api-key': 'key-123', 'content-type': 'application/json' });
    const events = receiver.events();
    expect(events.filter((item) => item.data.type === 'seccft')).toHaveLength(3);
    for (const item of events) expect(item.log_id).toBe(item.data.log_id);
    // The stream's own creation is a Management API write, delivered like any other event.
    expect(events.map((item) => item.data.type)).toContain('sapi');

    await deliver();
    expect(receiver.deliveries).toHaveLength(1); // nothing new
    await api('delete', `/log-streams/${created.body.id}`).expect(204);
  });

  it('sends JSON lines, or one JSON object per request, and only the categories a stream filters on', async () => {
    receiver.deliveries.length = 0;
    const lines = await api('post', '/log-streams', { name: 'Lines', type: 'http', sink: { httpEndpoint: receiver.url, httpContentFormat: 'JSONLINES' }, filters: [{ type: 'category', name: 'auth.token_exchange.fail' }] }).expect(201);
    const objects = await api('post', '/log-streams', { name: 'Objects', type: 'http', sink: { httpEndpoint: receiver.url, httpContentFormat: 'JSONOBJECT', httpContentType: 'application/x-ndjson' }, filters: [{ type: 'category', name: 'auth.token_exchange.success' }] }).expect(201);
    await tokenEvent(false);
    await tokenEvent(false);
    await tokenEvent(true);
    await tokenEvent(true);
    await deliver();

    const jsonLines = receiver.deliveries.filter((d) => d.headers['content-type'] === 'application/json');
    expect(jsonLines).toHaveLength(1);
    expect(jsonLines[0]?.body.trim().split('\n').map((line) => JSON.parse(line).data.type)).toEqual(['feccft', 'feccft']);
    const single = receiver.deliveries.filter((d) => d.headers['content-type'] === 'application/x-ndjson');
    expect(single.map((d) => JSON.parse(d.body).data.type)).toEqual(['seccft', 'seccft']);
    for (const id of [lines.body.id, objects.body.id]) await api('delete', `/log-streams/${id}`).expect(204);
  });

  it('retries after the receiver fails, with backoff, saying why meanwhile, and delivers the batch once it answers', async () => {
    receiver.deliveries.length = 0;
    const { body: stream } = await api('post', '/log-streams', { name: 'Flaky', type: 'http', sink: { httpEndpoint: receiver.url }, filters: [{ type: 'category', name: 'auth.token_exchange.success' }] }).expect(201);
    receiver.respond = () => 503;
    await tokenEvent();
    const failedAt = Date.now();
    await deliver();
    expect(receiver.deliveries).toHaveLength(1);
    expect(await stored(stream.id)).toMatchObject({ status: 'active', failures: 1, status_reason: expect.stringContaining('answered HTTP 503') });
    expect((await stored(stream.id)).retry_at).toBeGreaterThanOrEqual(failedAt + 400);
    expect((await api('get', `/log-streams/${stream.id}`).expect(200)).body.status_reason).toContain('Retrying after 1 failed deliveries');

    await retryAt(stream.id, Date.now() + 60_000);
    await deliver(); // too early: the backoff has not passed
    expect(receiver.deliveries).toHaveLength(1);
    receiver.respond = () => 200;
    await retryAt(stream.id, Date.now());
    await deliver();
    expect(receiver.deliveries).toHaveLength(2);
    expect(receiver.deliveries[1]?.body).toBe(receiver.deliveries[0]?.body); // the same batch, again (at least once)
    const after = await stored(stream.id);
    expect(after).toMatchObject({ status: 'active', failures: 0, lease: '' });
    expect(after.status_reason).toBeUndefined();
    await api('delete', `/log-streams/${stream.id}`).expect(204);
  });

  it('suspends a stream that keeps failing, says why, and resumes where it stopped when set active again', async () => {
    receiver.deliveries.length = 0;
    const { body: stream } = await api('post', '/log-streams', { name: 'Down', type: 'http', sink: { httpEndpoint: receiver.url }, filters: [{ type: 'category', name: 'auth.token_exchange.success' }] }).expect(201);
    receiver.respond = () => 500;
    await tokenEvent();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await deliver();
      await retryAt(stream.id, Date.now()); // the backoff has passed
    }
    const suspended = (await api('get', `/log-streams/${stream.id}`).expect(200)).body;
    expect(suspended).toMatchObject({ status: 'suspended', status_reason: expect.stringMatching(/^Suspended after 3 failed deliveries in a row; the last: .* answered HTTP 500/) });
    expect(receiver.deliveries).toHaveLength(3);
    await tokenEvent();
    await deliver();
    expect(receiver.deliveries).toHaveLength(3); // a suspended stream is left alone

    receiver.respond = () => 200;
    const resumed = (await api('patch', `/log-streams/${stream.id}`, { status: 'active' }).expect(200)).body;
    expect(resumed.status).toBe('active');
    expect(resumed.status_reason).toBeUndefined();
    await deliver();
    const delivered = JSON.parse(receiver.deliveries.at(-1)?.body as string) as { data: LogEvent }[];
    expect(delivered.map((item) => item.data.type)).toEqual(['seccft', 'seccft']); // the backlog, from where it stopped
    await api('delete', `/log-streams/${stream.id}`).expect(204);
  });

  it('says when a receiver cannot be reached, naming no query string', async () => {
    const gone = await new LogReceiver().start();
    await gone.close();
    const { body: stream } = await api('post', '/log-streams', { name: 'Gone', type: 'http', sink: { httpEndpoint: `${gone.url}?key=hidden` } }).expect(201);
    await tokenEvent();
    await deliver();
    const { status_reason } = await stored(stream.id);
    expect(status_reason).toMatch(/\/logs could not be reached \(ECONNREFUSED\)/);
    expect(status_reason).not.toContain('hidden');
    await api('delete', `/log-streams/${stream.id}`).expect(204);
  });

  it('refuses endpoints, headers and filters it cannot use, with Auth0\'s 400', async () => {
    const create = (sink: object, extra: object = {}) => api('post', '/log-streams', { name: 'Bad', type: 'http', sink, ...extra });
    expectApiError(await create({ httpEndpoint: 'http://logs.example.com/in' }), 400, 'invalid_body', /https URL/);
    expectApiError(await create({ httpEndpoint: 'https://user:pw@logs.example.com/in' }), 400, 'invalid_body', /credentials/);
    expectApiError(await create({ httpEndpoint: 'https://logs.example.com/in', httpCustomHeaders: [{ header: 'Authorization', value: 'x' }] }), 400, 'invalid_body', /httpAuthorization/);
    expectApiError(await create({ httpEndpoint: 'https://logs.example.com/in', httpCustomHeaders: [{ header: 'Bad Header', value: 'x' }] }), 400, 'invalid_body', /header name/);
    expectApiError(await create({ httpEndpoint: 'https://logs.example.com/in' }, { filters: [{ type: 'category', name: 'auth.everything' }] }), 400, 'invalid_body', /No enum match/);
    expectApiError(await create({ httpEndpoint: 'https://logs.example.com/in' }, { startFrom: new Date(Date.now() + 86_400_000).toISOString() }), 400, 'invalid_body', /future/);
  });
});

describe('log streams across two processes sharing Redis and one durable store', () => {
  let durable: ReturnType<typeof openEmbeddedStore>;
  const redisStores: RedisStore[] = [];
  const instances: TestGatehouse[] = [];
  const receiver = new LogReceiver();

  beforeAll(async () => {
    await receiver.start();
    durable = openEmbeddedStore({ dataDir: null }); // stands in for MongoDB: one durable store both processes reach
    const prefix = `streams:${randomUUID()}:`;
    for (let i = 0; i < 2; i += 1) redisStores.push(await openRedisStore({ url: process.env.REDIS_URL as string, keyPrefix: prefix }));
    const stores: Stores[] = redisStores.map((redis) => combineStores(durable, redis, redis.client));
    for (const shared of stores) instances.push(await startGatehouse({ stores: shared, config: logsConfig() }));
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
    for (const redis of redisStores) await redis.close();
    await durable.close();
    await receiver.close();
  });

  it('deliver each event once between them in the normal case, whichever process wrote or sends it', async () => {
    const [a, b] = instances as [TestGatehouse, TestGatehouse];
    const machine = await machineApplication(a);
    await createLogStream(durable, { name: 'Shared', type: 'http', sink: { httpEndpoint: receiver.url, httpContentFormat: 'JSONOBJECT' } });
    for (let round = 0; round < 4; round += 1) {
      for (let i = 0; i < 15; i += 1) {
        for (const instance of [a, b]) expect((await clientCredentialsToken(instance.app, machine.client_id, machine.secret, machine.audience)).status).toBe(200);
      }
      await Promise.all([a.gatehouse.audit.flush(), b.gatehouse.audit.flush()]);
      // Both deliver at the same time, several rounds each.
      await Promise.all([a, b, a, b].map((instance) => instance.gatehouse.logStreams.deliverNow()));
    }
    for (const instance of [a, b, a, b]) await instance.gatehouse.logStreams.deliverNow();

    const ids = receiver.events().map((item) => item.log_id);
    expect(new Set(ids).size).toBe(ids.length); // no duplicate
    const written = (await durable.logs.find()).map((event) => event.log_id);
    expect(ids).toEqual(written); // every event, in the order written
    expect(ids.length).toBe(120);
  });
});

describe('the httpAuthorization of a stream', () => {
  it('is sealed at rest with the key-encryption key, with the custom headers', async () => {
    const dataDir = tempDir();
    const stores = await openStores({ dataDir, mongodbUri: null, redisUrl: null, keyEncryptionKeys: [Buffer.alloc(32, 7).toString('base64')] });
    try {
      const stream = await createLogStream(stores.durable, {
        name: 'Sealed', type: 'http', sink: { httpEndpoint: 'https://logs.example.com/in', httpAuthorization: 'Bearer sealed-value-123', httpCustomHeaders: [{ header: 'DD-API-KEY', value: 'header-value-456' }] },
      });
      expect((await stores.durable.logStreams.get(stream.id))?.http_authorization).toBe('Bearer sealed-value-123');
    } finally {
      await stores.close();
    }
    for (const file of readdirSync(dataDir)) {
      const bytes = readFileSync(path.join(dataDir, file)).toString('latin1');
      expect(bytes).not.toContain('sealed-value-123');
      expect(bytes).not.toContain('header-value-456');
    }
  });
});

describe('the stream to the process\'s own log', () => {
  it('writes each event as one JSON line when logs.to_stdout is set', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } }));
    const test = await startGatehouse({ config: logsConfig({ to_stdout: true }), logger });
    try {
      const machine = await machineApplication(test);
      await clientCredentialsToken(test.app, machine.client_id, machine.secret, machine.audience);
      await test.gatehouse.audit.flush();
      const events = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'tenant log event');
      expect(events.map((line) => line.log_event.type)).toContain('seccft');
      expect(events.find((line) => line.log_event.type === 'seccft').log_event).toMatchObject({ log_id: expect.stringMatching(/^[0-9a-f]{32}$/), client_id: machine.client_id });
    } finally {
      await test.close();
    }
  });
});
