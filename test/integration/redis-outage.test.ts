import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { pino } from 'pino';
import request from 'supertest';
import type { Application } from '../../src/domain/model.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores } from '../../src/store/index.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.ts';
import { tempDir } from '../support/backends.ts';
import { authorizeQuery, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, codeFlowTokens, createUser, formOf, pageOf } from '../support/flow.ts';
import { freePort, waitForRedis } from '../support/global-setup.ts';
import { adminToken, pathOf, startGatehouse, type TestGatehouse } from '../support/harness.ts';

/**
 * A Redis of its own (append-only file on, as the README asks), killed and restarted while Gatehouse runs: requests
 * that need it fail at once with 503 and Retry-After in their protocol's shape, the rest keeps working (rate limits
 * counted in the process meanwhile), the outage is logged once each way, and refresh tokens outlive the restart.
 */
describe('a Redis outage', () => {
  const dir = tempDir('gatehouse-outage-');
  let port: number;
  let redisServer: ChildProcess;
  let redis: RedisStore;
  let test: TestGatehouse;
  let app: Application;
  const logs: { level: number; msg: string }[] = [];
  const consoleErrors = jest.spyOn(console, 'error');

  const startRedis = async () => {
    redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], { stdio: 'ignore' });
    await waitForRedis(port);
  };
  const until = async (what: string, condition: () => Promise<boolean>) => {
    for (const deadline = Date.now() + 15_000; !(await condition());) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const readiness = () => request(test.app).get('/readyz');
  const register = () => request(test.app).post('/oidc/register').send({ redirect_uris: ['https://outage.example.org/cb'] });

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    redis = await openRedisStore({ url: `redis://127.0.0.1:${port}`, logger });
    test = await startGatehouse({
      stores: combineStores(openEmbeddedStore({ dataDir: null }), redis, redis.client),
      config: { registration: { rate_limit_per_second: 1000, rate_limit_per_ip_per_minute: 3, rate_limit_per_claimed_identity_per_hour: 1000, max_applications: 100, idle_cleanup_days: 0 } },
    });
    const token = await adminToken(test);
    await request(test.app).patch('/api/v2/tenants/settings').set('Authorization', `Bearer ${token}`).send({ flags: { enable_dynamic_client_registration: true } }).expect(200);
  });
  afterAll(async () => {
    await test.close();
    await redis.close();
    if (redisServer.exitCode === null && redisServer.signalCode === null) { // still running (the test may have failed while it was away)
      redisServer.kill('SIGKILL');
      await once(redisServer, 'exit');
    }
    consoleErrors.mockRestore();
  });

  it('answers 503 with Retry-After where Redis is needed, hung or gone, keeps the rest working, and recovers with its data', async () => {
    const api = await createApi(test.gatehouse.stores);
    ({ app } = await thirdPartyApp(test.gatehouse.stores, { token_endpoint_auth_method: 'none' }));
    await createGrant(test.gatehouse.stores, { client_id: app.client_id, audience: api.identifier, scope: ['read:notes'] });
    await createUser(test.gatehouse.stores, 'otto@example.com', 'otto password 1');
    const tokens = await codeFlowTokens(test.app, app, { email: 'otto@example.com', password: 'otto password 1', query: authorizeQuery(app, { audience: api.identifier, scope: 'read:notes offline_access' }) });
    expect(tokens.status).toBe(200);
    const refresh = () => request(test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: app.client_id });
    // A sign-in under way: its interaction lives in Redis.
    const browser = new Browser(test.app);
    const login = pageOf(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path));
    expect(login.text).toContain('name="password"');
    const loginPath = pathOf(formOf(login.text).action);

    // A hung Redis (stopped, its connections open): a command that gets no answer is an outage, not a hang.
    redisServer.kill('SIGSTOP');
    const stalled = await refresh();
    expect({ status: stalled.status, error: stalled.body.error }).toEqual({ status: 503, error: 'temporarily_unavailable' });
    expect((await readiness()).status).toBe(503);
    redisServer.kill('SIGCONT');
    await until('readiness to return after the hang', async () => (await readiness()).status === 200);

    redisServer.kill('SIGKILL');
    await once(redisServer, 'exit');
    await until('readiness to fail', async () => (await readiness()).status === 503);

    const ready = await readiness();
    expect(ready.body).toEqual({ status: 'unavailable', reason: expect.stringContaining(`Redis at 127.0.0.1:${port} is unreachable`) });

    // OAuth endpoints: RFC 6749's temporarily_unavailable.
    const refused = await refresh();
    expect({ status: refused.status, retryAfter: refused.headers['retry-after'], body: refused.body })
      .toEqual({ status: 503, retryAfter: '2', body: { error: 'temporarily_unavailable', error_description: expect.any(String) } });

    // Pages, ours and oidc-provider's (this application's errors never redirect: open redirect protection): plain words.
    for (const path of [loginPath, authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path]) {
      const page = await request(test.app).get(path).set('Cookie', browser.jar.header());
      expect({ path, status: page.status, type: page.type, retryAfter: page.headers['retry-after'] }).toEqual({ path, status: 503, type: 'text/html', retryAfter: '2' });
      expect(page.text).toContain('Temporarily unavailable');
    }

    // Connected apps: its sign-in comes back with the error, which is shown (starting the sign-in again would loop).
    const account = await new Browser(test.app).open('/u/apps');
    if (!('callback' in account)) throw new Error(`/u/apps did not go through its sign-in: ${account.page.status}`);
    expect(account.callback.searchParams.get('error')).toBe('temporarily_unavailable');
    const accountPage = await request(test.app).get(pathOf(account.callback.href));
    expect({ status: accountPage.status, type: accountPage.type }).toEqual({ status: 503, type: 'text/html' });
    expect(accountPage.text).toContain('Temporarily unavailable');

    // The Management API works (its rate limit counts in the process); what needs Redis answers in Auth0's shape.
    const token = await adminToken(test);
    const clients = await request(test.app).get('/api/v2/clients').set('Authorization', `Bearer ${token}`);
    expect(clients.status).toBe(200);
    const [consent] = await test.gatehouse.stores.durable.userGrants.find({ clientID: app.client_id });
    const revoke = await request(test.app).delete(`/api/v2/grants/${consent!.id}`).set('Authorization', `Bearer ${token}`);
    expect({ status: revoke.status, retryAfter: revoke.headers['retry-after'], body: revoke.body })
      .toEqual({ status: 503, retryAfter: '2', body: { statusCode: 503, error: 'Service Unavailable', message: expect.any(String), errorCode: 'temporarily_unavailable' } });

    // Registration needs no Redis; its per-address limit (3 a minute) holds in the process meanwhile.
    const registrations = [];
    for (let i = 0; i < 4; i += 1) registrations.push((await register()).status);
    expect(registrations).toEqual([201, 201, 201, 429]);

    await startRedis();
    await until('readiness to return', async () => (await readiness()).status === 200);
    // Nothing was lost: the append-only file brought the refresh token back.
    expect((await refresh()).status).toBe(200);

    // Told once when it went (a warning) and once when it came back, however many requests failed in between.
    const went = [40, `Redis at 127.0.0.1:${port} is unreachable: requests that need it answer 503 until it is back; rate limits count in each process meanwhile`];
    const back = [30, `Redis at 127.0.0.1:${port} is reachable again`];
    expect(logs.map((line) => [line.level, line.msg])).toEqual([went, back, went, back]);
    expect(consoleErrors.mock.calls.filter((args) => String(args[0]).includes('Unhandled error event'))).toEqual([]);
  });
});
