import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { getMetricsFromStream, type PromMetrics } from 'prom2javascript';
import request from 'supertest';
import { listenForMetrics, routeLabel } from '../../src/http/metrics.ts';
import { createApi, createGrant } from '../support/fixtures.ts';
import { createUser } from '../support/flow.ts';
import { clientCredentialsToken, insertApplication, manualLogDelivery, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { managementCaller } from '../support/management.ts';

const TOKEN = 'metrics-token-0123456789';

/** The Prometheus text format, read by a parser of its own (not ours). */
const parse = (text: string): Promise<PromMetrics> => getMetricsFromStream(Readable.from([text]));

/** The sample of a family whose labels include these, with its value (counters, gauges) or count (histograms). */
function sample(families: PromMetrics, name: string, labels: Record<string, string> = {}): { value?: number; count?: number } | undefined {
  const data = (families[name]?.data ?? []) as { labels: Record<string, string>; value?: number; count?: number }[];
  return data.find((item) => Object.entries(labels).every(([key, value]) => item.labels[key] === value));
}

describe('metrics', () => {
  let test: TestGatehouse;

  beforeAll(async () => {
    test = await startGatehouse({ config: { metrics: { port: null, token: TOKEN }, ...manualLogDelivery() } });
  });
  afterAll(async () => {
    await test.close();
  });

  const scrape = async () => {
    const res = await request(test.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parse(res.text);
  };

  it('are served behind the bearer token only', async () => {
    const none = await request(test.app).get('/metrics').expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    await request(test.app).get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789').expect(401);
  });

  it('count requests, tokens, sign-ins, registrations, rate limits, store calls, event-loop lag and log stream backlog', async () => {
    const { stores } = test.gatehouse;
    const notes = await createApi(stores);
    const { app, secret } = await insertApplication(stores, { name: 'Machine', grant_types: ['client_credentials', 'password'] });
    await createGrant(stores, { client_id: app.client_id, audience: notes.identifier, scope: ['read:notes'], subject_type: 'client' });
    await createUser(stores, 'lin@example.com', 'lin password 123');
    for (let i = 0; i < 3; i += 1) expect((await clientCredentialsToken(test.app, app.client_id, secret, notes.identifier)).status).toBe(200);
    await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'password', username: 'lin@example.com', password: 'not it', client_id: app.client_id, client_secret: secret, scope: 'openid' }).expect(400);
    await request(test.app).post('/oidc/register').send({ redirect_uris: ['https://agent.example.com/cb'] }).expect(400); // registration is off
    const api = await managementCaller(test);
    const receiver = createServer((req, res) => req.resume().on('end', () => res.end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      await api('post', '/log-streams', { name: 'Receiver', type: 'http', sink: { httpEndpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in` } }).expect(201);
      await test.gatehouse.audit.flush();
      await test.gatehouse.logStreams.deliverNow();
    } finally {
      receiver.close();
    }

    const families = await scrape();
    const tokenRequests = sample(families, 'gatehouse_http_request_duration_seconds', { route: '/oauth/token', method: 'POST', status: '200' });
    expect(tokenRequests?.count).toBeGreaterThanOrEqual(4); // 3 here, and the management token
    expect(families.gatehouse_http_request_duration_seconds?.type).toBe('histogram');
    expect(sample(families, 'gatehouse_tokens_issued_total', { grant_type: 'client_credentials', application_kind: 'first_party' })?.value).toBeGreaterThanOrEqual(3);
    expect(sample(families, 'gatehouse_sign_ins_total', { outcome: 'wrong_password' })?.value).toBe(1);
    expect(sample(families, 'gatehouse_token_requests_failed_total', { grant_type: 'password' })?.value).toBe(1);
    expect(sample(families, 'gatehouse_registrations_total', { outcome: 'disabled' })?.value).toBe(1);
    expect(sample(families, 'gatehouse_store_operation_duration_seconds', { store: 'applications', operation: 'get' })?.count).toBeGreaterThan(0);
    expect(sample(families, 'gatehouse_store_operation_duration_seconds', { store: 'logs', operation: 'find' })?.count).toBeGreaterThan(0);
    expect(sample(families, 'nodejs_eventloop_lag_seconds')?.value).toEqual(expect.any(Number));
    expect(sample(families, 'gatehouse_log_stream_events_delivered_total')?.value).toBeGreaterThan(0);
    expect(sample(families, 'gatehouse_log_stream_backlog_events')?.value).toBe(0);
    expect(sample(families, 'gatehouse_log_queue_events')?.value).toBe(0);
  });

  it('count rate-limit hits', async () => {
    const limited = await startGatehouse({ config: { metrics: { port: null, token: TOKEN }, management: { rate_limit_per_second: 1 } } });
    try {
      const api = await managementCaller(limited);
      const answers = await Promise.all([0, 1, 2].map(() => api('get', '/clients')));
      expect(answers.map((res) => res.status)).toContain(429);
      const res = await request(limited.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
      expect(sample(await parse(res.text), 'gatehouse_rate_limit_hits_total', { limit: 'management' })?.value).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }
  });

  it('label routes from a bounded set, so that no URL adds a series', () => {
    expect(routeLabel('/oauth/token')).toBe('/oauth/token');
    expect(routeLabel('/api/v2/clients/abc123')).toBe('/api/v2/clients');
    expect(routeLabel('/API/v2/Clients/')).toBe('/api/v2/clients');
    expect(routeLabel('/u/assets/gatehouse.css')).toBe('/u/assets');
    expect(routeLabel('/authorize/some-uid')).toBe('/authorize/:uid');
    expect(routeLabel('/anything/else?x=1')).toBe('other');
  });
});

describe('metrics configuration', () => {
  it('are off unless a port or a token is set', async () => {
    const test = await startGatehouse();
    try {
      expect(test.gatehouse.metricsRouter).toBeUndefined();
      await request(test.app).get('/metrics').expect(404);
    } finally {
      await test.close();
    }
  });

  it('are served on their own port only, when a port is set', async () => {
    const test = await startGatehouse({ config: { metrics: { port: 0, token: null } } });
    let server: Server | undefined;
    try {
      await request(test.app).get('/metrics').expect(404); // not on the main port
      server = await listenForMetrics(test.gatehouse.metricsRouter!, 0, '127.0.0.1');
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      expect(res.status).toBe(200);
      expect(Object.keys(await parse(await res.text()))).toContain('gatehouse_http_request_duration_seconds');
    } finally {
      server?.close();
      await test.close();
    }
  });
});
