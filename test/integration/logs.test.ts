import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { newTimeOrderedId } from '../../src/domain/ids.ts';
import type { Application, LogEvent, User } from '../../src/domain/model.ts';
import { logEventResponse } from '../../src/http/management/schemas.ts';
import { authorizeQuery, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, isConsentPage, pageOf, signIn } from '../support/flow.ts';
import { clientCredentialsToken, insertApplication, manualLogDelivery, memoryStores, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, expectConforms, managementCaller, type ManagementCaller } from '../support/management.ts';

const PASSWORD = 'log test password 1';
const CALLBACK = 'https://partner.example.com/callback';

/** Requests from this test come through a trusted proxy (loopback), each naming its client's address. */
const from = (ip: string) => ({ 'X-Forwarded-For': ip, 'User-Agent': 'log-test/1.0' });

describe('the tenant log (/api/v2/logs)', () => {
  let test: TestGatehouse;
  let api: ManagementCaller;
  let partner: Application;
  let partnerSecret: string;
  let firstParty: Application;
  let firstPartySecret: string;
  let user: User;
  let apiIdentifier: string;
  /** Every credential this test saw: none may appear in any event. */
  const secrets: string[] = [PASSWORD];

  beforeAll(async () => {
    test = await startGatehouse({
      config: {
        trustProxy: 'loopback',
        login: { max_failures_per_account: 3, max_failures_per_address: 4, window_minutes: 15 },
        registration: { rate_limit_per_second: 1000, rate_limit_per_ip_per_minute: 2, rate_limit_per_claimed_identity_per_hour: 1000, max_applications: 2, idle_cleanup_days: 0 },
      },
    });
    const { stores } = test.gatehouse;
    const notes = await createApi(stores);
    apiIdentifier = notes.identifier;
    ({ app: partner, secret: partnerSecret } = await thirdPartyApp(stores, { name: 'Partner Notes', callbacks: [CALLBACK], token_endpoint_auth_method: 'client_secret_post' }));
    await createGrant(stores, { client_id: partner.client_id, audience: apiIdentifier, scope: ['read:notes', 'write:notes'] });
    ({ app: firstParty, secret: firstPartySecret } = await insertApplication(stores, { name: 'Own App', grant_types: ['authorization_code', 'password', 'client_credentials'] }));
    await createGrant(stores, { client_id: firstParty.client_id, audience: apiIdentifier, scope: ['read:notes'], subject_type: 'client' });
    user = await createUser(stores, 'ada@example.com', PASSWORD);
    api = await managementCaller(test);
    secrets.push(partnerSecret, firstPartySecret, api.token, test.gatehouse.adminCredentials.client_secret as string);
  });
  afterAll(async () => {
    await test.close();
  });

  /** The events `q` finds, once everything recorded so far is written. */
  async function search(q: string, extra = ''): Promise<LogEvent[]> {
    await test.gatehouse.audit.flush();
    const res = await api('get', `/logs?q=${encodeURIComponent(q)}&per_page=100${extra}`);
    expect(res.status).toBe(200);
    return res.body as LogEvent[];
  }

  /** Runs an authorization code flow for the partner through the real pages, from `ip`. */
  async function partnerFlow(ip: string, scope = 'read:notes offline_access', extra: Record<string, string> = {}) {
    const browser = new Browser(test.app, from(ip));
    const query = authorizeQuery(partner, { audience: apiIdentifier, scope, ...extra });
    const outcome = await signIn(browser, await browser.open(query.path), user.email, PASSWORD);
    return { browser, query, outcome };
  }

  describe('records each kind of event, found with q', () => {
    let refreshToken: string;

    it('sign-in success (s), consent given, and the code exchange (seacft), with the address and agent of the request', async () => {
      const { browser, query, outcome: signedIn } = await partnerFlow('198.51.100.10');
      expect(isConsentPage(signedIn)).toBe(true);
      const code = callbackOf(await browser.submit(pageOf(signedIn), { action: 'accept' })).searchParams.get('code') as string;
      secrets.push(code, query.verifier);
      const token = await request(test.app).post('/oauth/token').set(from('198.51.100.10')).type('form').send({
        grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: query.verifier, client_id: partner.client_id, client_secret: partnerSecret,
      }).expect(200);
      refreshToken = token.body.refresh_token;
      secrets.push(token.body.access_token, refreshToken);

      const [login] = await search(`type:s AND user_id:"${user.user_id}"`);
      expect(login).toMatchObject({
        type: 's', description: 'Success Login', client_id: partner.client_id, client_name: 'Partner Notes', user_id: user.user_id, user_name: 'ada@example.com',
        connection: 'Username-Password-Authentication', ip: '198.51.100.10', user_agent: 'log-test/1.0', hostname: '127.0.0.1',
      });
      expect(login?.log_id).toMatch(/^[0-9a-f]{32}$/);
      expectConforms(login, logEventResponse);
      const [consent] = await search(`type:consent_given AND client_id:${partner.client_id}`);
      expect(consent).toMatchObject({ user_id: user.user_id, audience: apiIdentifier, scope: expect.stringContaining('read:notes') });
      const [exchange] = await search(`type:seacft AND client_id:${partner.client_id}`);
      expect(exchange).toMatchObject({
        user_id: user.user_id, user_name: 'ada@example.com', audience: apiIdentifier, scope: expect.stringContaining('read:notes'),
        details: { grant_type: 'authorization_code', application_kind: 'third_party' },
      });
    });

    it('refresh (sertft), refresh-token reuse (ferrt), and a failed code exchange (feacft)', async () => {
      const refreshed = await request(test.app).post('/oauth/token').type('form').send({
        grant_type: 'refresh_token', refresh_token: refreshToken, client_id: partner.client_id, client_secret: partnerSecret,
      }).expect(200);
      secrets.push(refreshed.body.access_token, refreshed.body.refresh_token);
      const reused = await request(test.app).post('/oauth/token').type('form').send({
        grant_type: 'refresh_token', refresh_token: refreshToken, client_id: partner.client_id, client_secret: partnerSecret,
      });
      expect(reused.body.error).toBe('invalid_grant');
      await request(test.app).post('/oauth/token').type('form').send({
        grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: CALLBACK, code_verifier: 'x'.repeat(43), client_id: partner.client_id, client_secret: partnerSecret,
      }).expect(400);

      expect(await search(`type:sertft AND client_id:${partner.client_id}`)).toEqual([expect.objectContaining({ user_id: user.user_id, audience: apiIdentifier })]);
      expect(await search(`type:ferrt AND client_id:${partner.client_id}`)).toEqual([expect.objectContaining({ details: { grant_type: 'refresh_token', error: 'invalid_grant', application_kind: 'third_party' } })]);
      expect(await search(`type:feacft AND client_id:${partner.client_id}`)).toHaveLength(1);
    });

    it('client credentials (seccft, feccft) and the password grant (sepft, fepft, with fp)', async () => {
      expect((await clientCredentialsToken(test.app, firstParty.client_id, firstPartySecret, apiIdentifier)).status).toBe(200);
      expect((await clientCredentialsToken(test.app, firstParty.client_id, 'wrong secret', apiIdentifier)).status).toBe(401);
      const password = (pw: string) => request(test.app).post('/oauth/token').set(from('198.51.100.20')).type('form').send({
        grant_type: 'password', username: user.email, password: pw, client_id: firstParty.client_id, client_secret: firstPartySecret, audience: apiIdentifier, scope: 'read:notes',
      });
      secrets.push((await password(PASSWORD).expect(200)).body.access_token);
      await password('a wrong password').expect(400);

      expect(await search(`type:seccft AND client_id:${firstParty.client_id}`)).toEqual([
        expect.objectContaining({ client_name: 'Own App', audience: apiIdentifier, details: { grant_type: 'client_credentials', application_kind: 'first_party' } }),
      ]);
      expect(await search(`type:feccft AND client_id:${firstParty.client_id}`)).toEqual([expect.objectContaining({ details: expect.objectContaining({ error: 'invalid_client' }) })]);
      expect(await search(`type:sepft AND user_id:"${user.user_id}"`)).toEqual([expect.objectContaining({ client_id: firstParty.client_id, audience: apiIdentifier })]);
      expect(await search(`type:fepft AND client_id:${firstParty.client_id}`)).toHaveLength(1);
      expect(await search(`type:fp AND ip:198.51.100.20`)).toEqual([
        expect.objectContaining({ user_id: user.user_id, client_id: firstParty.client_id, connection: 'Username-Password-Authentication', description: 'Wrong password' }),
      ]);
    });

    it('unknown users (fu), blocked users (f), blocked accounts (limit_wc, once) and addresses (limit_mu), and unblocking', async () => {
      const attempt = (email: string, password: string, ip: string) => request(test.app).post('/oauth/token').set(from(ip)).type('form').send({
        grant_type: 'password', username: email, password, client_id: firstParty.client_id, client_secret: firstPartySecret, scope: 'openid',
      });
      await attempt('nobody@example.com', 'whatever 123', '198.51.100.30').expect(400);
      const blocked = await createUser(test.gatehouse.stores, 'blocked@example.com', PASSWORD);
      await test.gatehouse.stores.durable.users.update(blocked.user_id, { set: { blocked: true } });
      await attempt('blocked@example.com', PASSWORD, '198.51.100.31').expect(400);
      const victim = await createUser(test.gatehouse.stores, 'victim@example.com', PASSWORD);
      for (let i = 0; i < 5; i += 1) await attempt('victim@example.com', `guess ${i}`, `198.51.100.${40 + i}`);
      for (let i = 0; i < 6; i += 1) await attempt(`spray${i}@example.com`, 'guess', '198.51.100.50');
      await api('delete', `/user-blocks?identifier=${encodeURIComponent('Victim@example.com')}`).expect(204);

      expect(await search('type:fu AND ip:198.51.100.30')).toEqual([expect.objectContaining({ user_name: 'nobody@example.com', client_id: firstParty.client_id })]);
      expect(await search('type:f AND ip:198.51.100.31')).toEqual([expect.objectContaining({ user_id: blocked.user_id, description: 'The user is blocked' })]);
      expect(await search('type:limit_wc')).toEqual([expect.objectContaining({ user_name: 'victim@example.com', ip: '198.51.100.43' })]);
      expect(await search('type:limit_mu AND ip:198.51.100.50')).toHaveLength(1);
      expect(await search('type:account_unblocked')).toEqual([expect.objectContaining({ user_name: 'victim@example.com' })]);
      expect(victim.user_id).toBeDefined();
    });

    it('consent denied and revoked, and logout (slo)', async () => {
      const denying = await partnerFlow('198.51.100.60', 'read:notes', { prompt: 'consent' });
      expect(isConsentPage(denying.outcome)).toBe(true);
      await denying.browser.submit(pageOf(denying.outcome), { action: 'deny' });
      const [grant] = (await api('get', `/grants?client_id=${partner.client_id}`).expect(200)).body as { id: string }[];
      await api('delete', `/grants/${grant?.id}`).expect(204);
      const logout = pageOf(await denying.browser.open(`/oidc/logout`));
      await denying.browser.submit(logout, { logout: 'yes' });

      expect(await search(`type:consent_denied AND user_id:"${user.user_id}"`)).toEqual([expect.objectContaining({ client_id: partner.client_id, ip: '198.51.100.60' })]);
      expect(await search(`type:consent_revoked AND client_id:${partner.client_id}`)).toEqual([expect.objectContaining({ user_id: user.user_id, audience: apiIdentifier })]);
      expect(await search(`type:slo AND user_id:"${user.user_id}"`)).toEqual([expect.objectContaining({ ip: '198.51.100.60' })]);
    });

    it('dynamic registration: created, and refused by reason (disabled, invalid metadata, network ACL, rate limit, cap)', async () => {
      const register = (ip: string, body: unknown) => request(test.app).post('/oidc/register').set(from(ip)).send(body as object);
      const valid = { client_name: 'Agent', redirect_uris: ['https://agent.example.com/cb'] };
      await register('192.0.2.1', valid).expect(400); // off
      await api('patch', '/tenants/settings', { flags: { enable_dynamic_client_registration: true } }).expect(200);
      await register('192.0.2.2', { redirect_uris: ['http://agent.example.com/cb'] }).expect(400);
      await api('post', '/network-acls', { description: 'No agents from here', priority: 10, rule: { scope: 'dcr', action: { block: true }, match: { ipv4_cidrs: ['192.0.2.99/32'] } } }).expect(201);
      await register('192.0.2.99', valid).expect(403);
      const created = await register('192.0.2.3', valid).expect(201);
      secrets.push(created.body.client_secret);
      await register('192.0.2.4', valid).expect(201);
      await register('192.0.2.4', valid).expect(403); // the cap: 2 registered applications
      await register('192.0.2.4', valid).expect(429); // the per-address limit: 2 a minute

      expect(await search(`type:client_registered AND client_id:${created.body.client_id}`)).toEqual([
        expect.objectContaining({ client_name: 'Agent', ip: '192.0.2.3', details: expect.objectContaining({ redirect_hosts: ['agent.example.com'], token_endpoint_auth_method: 'client_secret_post' }) }),
      ]);
      const refusals = await search('type:client_registration_failed', '&sort=date:1');
      expect(refusals.map((event) => [event.ip, (event.details as { reason: string }).reason])).toEqual([
        ['192.0.2.1', 'disabled'], ['192.0.2.2', 'invalid_metadata'], ['192.0.2.99', 'acl'], ['192.0.2.4', 'cap_reached'], ['192.0.2.4', 'rate_limited'],
      ]);
      expect(await search('type:api_limit AND ip:192.0.2.4')).toEqual([expect.objectContaining({ details: { limit: 'registration_per_address', retry_after_seconds: expect.any(Number) } })]);
    });

    it('Management API writes (sapi, fapi) naming the calling application, never their bodies', async () => {
      const created = await api('post', '/users', { connection: 'Username-Password-Authentication', email: 'new@example.com', password: 'a new password 42' }).expect(201);
      secrets.push('a new password 42');
      await api('post', '/users', { connection: 'Username-Password-Authentication', email: 'new@example.com', password: 'another password 43' }).expect(409);
      await api('patch', `/users/${encodeURIComponent(created.body.user_id)}`, { password: 'a changed password 44' }).expect(200);
      secrets.push('a changed password 44');
      expect(await search(`type:scp AND user_id:"${created.body.user_id}"`)).toEqual([expect.objectContaining({ user_name: 'new@example.com', description: 'Password changed by an administrator' })]);
      const adminId = test.gatehouse.adminCredentials.client_id;
      const success = (await search(`type:sapi AND client_id:${adminId}`)).find((event) => event.description === 'Create a user in a database connection');
      expect(success).toMatchObject({
        description: 'Create a user in a database connection', client_name: 'Gatehouse Admin',
        details: { request: { method: 'POST', path: '/api/v2/users', query: {} }, response: { statusCode: 201 } },
      });
      const writes = await search(`type:sapi AND client_id:${adminId}`, '&sort=date:1');
      type Write = { request: { method: string; path: string }; response: { statusCode: number } };
      expect(writes.map((event) => { const { request: r, response } = event.details as Write; return `${r.method} ${r.path} ${response.statusCode}`; })).toEqual([
        'DELETE /api/v2/user-blocks 204', expect.stringMatching(/^DELETE \/api\/v2\/grants\/\w+ 204$/), 'PATCH /api/v2/tenants/settings 200',
        'POST /api/v2/network-acls 201', 'POST /api/v2/users 201', expect.stringMatching(/^PATCH \/api\/v2\/users\/.+ 200$/),
      ]);
      expect(await search(`type:fapi AND client_id:${adminId}`)).toEqual([expect.objectContaining({
        description: 'Create a user in a database connection',
        details: { request: { method: 'POST', path: '/api/v2/users', query: {} }, response: { statusCode: 409, errorCode: expect.any(String), message: expect.any(String) } },
      })]);
      expect(created.body.user_id).toBeDefined();
    });

    it('network ACL matches as a periodic summary (acls_summary)', async () => {
      const rule = await api('post', '/network-acls', { description: 'Watch the lab', priority: 20, rule: { scope: 'tenant', action: { log: true }, match: { ipv4_cidrs: ['203.0.113.0/24'] } } }).expect(201);
      for (let i = 0; i < 3; i += 1) await request(test.app).get('/.well-known/jwks.json').set(from(`203.0.113.${i + 1}`)).expect(200);
      const [summary] = await search('type:acls_summary');
      expect(summary?.details).toMatchObject({
        acls_summary: [{ acl_id: rule.body.id, description: 'Watch the lab', priority: 20, action: { log: true }, match: { success: 3 } }],
        start_time: expect.any(String), end_time: expect.any(String),
      });
    });

    it('never holds a secret, a token, a code or a password', async () => {
      await test.gatehouse.audit.flush();
      const everything = JSON.stringify(await test.gatehouse.stores.durable.logs.find());
      for (const secret of secrets.filter(Boolean)) expect(everything).not.toContain(secret);
    });
  });

  describe('the search and checkpoint forms', () => {
    it('pages newest first (or oldest first), with totals, and keeps or drops the fields asked for', async () => {
      const all = await search('type:sapi');
      expect(all.length).toBeGreaterThan(2);
      const newest = await api('get', '/logs?q=type:sapi&per_page=2&page=0&include_totals=true').expect(200);
      expect(newest.body).toMatchObject({ start: 0, limit: 2, length: 2, total: all.length });
      expect(newest.body.logs.map((e: LogEvent) => e.log_id)).toEqual(all.slice(0, 2).map((e) => e.log_id));
      const oldest = await api('get', '/logs?q=type:sapi&per_page=1&sort=date:1').expect(200);
      expect(oldest.body[0].log_id).toBe(all.at(-1)?.log_id);
      const only = await api('get', '/logs?q=type:sapi&per_page=1&fields=log_id,type').expect(200);
      expect(Object.keys(only.body[0]).sort()).toEqual(['log_id', 'type']);
      const without = await api('get', '/logs?q=type:sapi&per_page=1&fields=details,user_agent&include_fields=false').expect(200);
      expect(without.body[0]).not.toHaveProperty('details');
      expect(without.body[0]).toHaveProperty('log_id');
    });

    it('finds by connection, ip, user and client together; one event by id; a user\'s events', async () => {
      const found = await search(`connection:Username-Password-Authentication AND ip:198.51.100.10 AND user_id:"${user.user_id}" AND client_id:${partner.client_id}`);
      expect(found.map((event) => event.type)).toContain('s');
      const one = await api('get', `/logs/${found[0]?.log_id}`).expect(200);
      expect(one.body).toEqual(found[0]);
      const own = await api('get', `/users/${encodeURIComponent(user.user_id)}/logs?per_page=100`).expect(200);
      expect(own.body.length).toBeGreaterThan(3);
      expect(own.body.every((event: LogEvent) => event.user_id === user.user_id)).toBe(true);
    });

    it('reads everything from checkpoints, oldest first, with a Link to the next one', async () => {
      await test.gatehouse.audit.flush();
      const seen: string[] = [];
      let next = '/logs?take=7';
      for (;;) {
        const res = await api('get', next).expect(200);
        expect(res.headers.link).toMatch(/^<http:\/\/gatehouse\.test\/api\/v2\/logs\?.*>; rel="next"$/);
        if (!res.body.length) break;
        seen.push(...res.body.map((event: LogEvent) => event.log_id));
        next = `/logs?${new URL(/<([^>]+)>/.exec(res.headers.link as string)?.[1] as string).searchParams}`;
      }
      const stored = (await test.gatehouse.stores.durable.logs.find()).map((event) => event.log_id);
      expect(seen).toEqual(stored);
      expect([...seen].sort()).toEqual(seen);
    });

    it('pages a search through checkpoints, newest first, to its end (q and sort=date:-1 with from/take: Gatehouse\'s addition)', async () => {
      await test.gatehouse.audit.flush();
      const q = `client_id:${partner.client_id}`;
      const seen: LogEvent[] = [];
      let next = `/logs?take=3&sort=date:-1&q=${encodeURIComponent(q)}`;
      for (;;) {
        const res = await api('get', next).expect(200);
        if (!res.body.length) break;
        seen.push(...res.body);
        const link = new URL(/<([^>]+)>/.exec(res.headers.link as string)?.[1] as string);
        expect(Object.fromEntries(link.searchParams)).toEqual({ from: res.body.at(-1).log_id, take: '3', sort: 'date:-1', q });
        next = `/logs?${link.searchParams}`;
      }
      const stored = (await test.gatehouse.stores.durable.logs.find({ client_id: partner.client_id }, { order: 'desc' })).map((event) => event.log_id);
      expect(stored.length).toBeGreaterThan(3);
      expect(seen.map((event) => event.log_id)).toEqual(stored);
      // Without sort, a narrowed checkpoint read goes forward from `from`, as Auth0's does.
      const forward = await api('get', `/logs?from=${stored.at(-1)}&take=100&q=${encodeURIComponent(q)}`).expect(200);
      expect(forward.body.map((event: LogEvent) => event.log_id)).toEqual(stored.slice(0, -1).reverse());
    });

    it.each([
      ['type:s OR type:f', /OR is not supported/],
      ['NOT type:s', /join field:value terms with AND/],
      ['type:s AND', /ends with AND/],
      ['password:x', /cannot search password/],
      ['type:s*', /wildcards/],
      ['date:[2020-01-01 TO 2030-01-01]', /cannot search date/],
      ['user_id:auth0|x AND user_id:auth0|y', /more than once/],
      ['type:"s', /unterminated/],
      ['type:s type:f', /expected AND/],
      ['client_id:a/b', /must be escaped/],
    ])('refuses q=%s with a 400 that says why', async (q, message) => {
      expectApiError(await api('get', `/logs?q=${encodeURIComponent(q)}`), 400, 'invalid_query_string', message);
    });

    it('refuses other bad forms with a 400: a bad checkpoint, unknown fields, a sort it cannot do, pages beyond the first 1,000 results', async () => {
      expectApiError(await api('get', '/logs?from=12345'), 400, 'invalid_query_string', /from/);
      expectApiError(await api('get', '/logs?fields=secret'), 400, 'invalid_query_string', /fields names secret/);
      expectApiError(await api('get', '/logs?sort=type:1'), 400, 'invalid_query_string');
      expectApiError(await api('get', '/logs?page=10&per_page=100'), 400, 'invalid_query_string', /first 1000 results/);
      expectApiError(await api('get', '/logs?take=101'), 400, 'invalid_query_string');
    });

    it('finds values with escapes and quotes', async () => {
      expect(await search(`user_id:${user.user_id.replace('|', '\\|')} AND type:s`)).not.toHaveLength(0);
      expect(await search(`user_id:"${user.user_id}" AND type:s`)).not.toHaveLength(0);
    });
  });

  it('keeps events for retention_days, then deletes them (retention by time-ordered id)', async () => {
    const { logs } = test.gatehouse.stores.durable;
    const old = { log_id: newTimeOrderedId(Date.now() - 31 * 86_400_000), date: new Date(Date.now() - 31 * 86_400_000).toISOString(), type: 'sapi', description: 'Old' };
    await logs.insert(old);
    const before = await logs.count();
    expect(await test.gatehouse.audit.applyRetention()).toBe(1);
    expect(await logs.get(old.log_id)).toBeUndefined();
    expect(await logs.count()).toBe(before - 1);
  });
});

describe('the tenant log when its store fails or its queue is full', () => {
  it('never fails a protocol request: it drops and counts what does not fit, says once that it cannot write, and catches up', async () => {
    const stores = memoryStores();
    const { transaction } = stores.durable;
    let storeDown = false;
    stores.durable.transaction = (record) => (storeDown ? Promise.reject(new Error('disk full')) : transaction(record));
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } }));
    const test = await startGatehouse({ stores, logger, config: manualLogDelivery({ queue_size: 5 }) });
    try {
      const notes = await createApi(stores);
      const { app, secret } = await insertApplication(stores, { grant_types: ['client_credentials'] });
      await createGrant(stores, { client_id: app.client_id, audience: notes.identifier, scope: ['read:notes'], subject_type: 'client' });
      storeDown = true;
      for (let i = 0; i < 8; i += 1) expect((await clientCredentialsToken(test.app, app.client_id, secret, notes.identifier)).status).toBe(200);
      const { audit } = test.gatehouse;
      expect([audit.queued, audit.dropped]).toEqual([5, 3]);
      await audit.flush();
      await audit.flush();
      const failures = () => lines.filter((line) => line.includes('tenant log: events could not be written')).length;
      expect(failures()).toBe(1); // told once, however often it retries
      expect(lines.filter((line) => line.includes('tenant log events dropped'))).toHaveLength(1);
      expect(audit.queued).toBe(5); // kept for the next attempt

      storeDown = false;
      await audit.flush();
      expect(audit.queued).toBe(0);
      expect(await stores.durable.logs.count({ type: 'seccft', client_id: app.client_id })).toBe(5);
      expect(lines.some((line) => line.includes('tenant log: events are written again'))).toBe(true);
    } finally {
      await test.close();
      await stores.close();
    }
  });
});
