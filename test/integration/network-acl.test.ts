import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import request from 'supertest';
import type { NetworkAcl } from '../../src/domain/model.ts';
import { authorizeQuery, createApi } from '../support/fixtures.ts';
import { Browser, pageOf } from '../support/flow.ts';
import { insertApplication, ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, managementCaller, type ManagementCaller } from '../support/management.ts';

type Scope = NetworkAcl['rule']['scope'];
type Surface = 'management' | 'authentication' | 'registration';

/** The surfaces each scope covers (Auth0: tenant everywhere, authentication everywhere but the Management API). */
const COVERS: Record<Scope, Surface[]> = {
  tenant: ['management', 'authentication', 'registration'],
  management: ['management'],
  authentication: ['authentication', 'registration'],
  dynamic_client_registration: ['registration'],
};

const BLOCKED_PAGE = 'Access from your network is blocked';
const generous = { rate_limit_per_second: 1000, rate_limit_per_ip_per_minute: 1000, rate_limit_per_claimed_identity_per_hour: 1000, max_applications: 1000, idle_cleanup_days: 0 };

describe('network ACLs on every surface', () => {
  let test: TestGatehouse;
  let api: ManagementCaller;
  let authorizePath: string;
  const logLines: { msg: string; acl?: string; surface?: string }[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
    // Gatehouse behind a proxy on loopback: each probe says, in X-Forwarded-For, which client it stands for.
    test = await startGatehouse({ config: { trustProxy: 'loopback', registration: generous }, logger });
    api = await managementCaller(test);
    await api('patch', '/tenants/settings', { flags: { enable_dynamic_client_registration: true } }).expect(200);
    const { app } = await insertApplication(test.gatehouse.stores);
    const notes = await createApi(test.gatehouse.stores);
    authorizePath = authorizeQuery(app, { audience: notes.identifier, scope: 'read:notes' }).path;
  });
  afterAll(() => test.close());
  afterEach(async () => {
    for (const rule of (await api('get', '/network-acls').expect(200)).body as NetworkAcl[]) await api('delete', `/network-acls/${rule.id}`).expect(204);
    logLines.length = 0;
  });

  /** One request per surface and route kind, each with what a refusal looks like there and what getting through looks like. */
  const probes: { name: string; surface: Surface; send: (headers: Record<string, string>) => Promise<request.Response>; blocked: (res: request.Response) => void; through: (res: request.Response) => void }[] = [
    {
      name: 'Management API', surface: 'management',
      send: (headers) => request(test.app).get('/api/v2/clients').set('Authorization', `Bearer ${api.token}`).set(headers),
      blocked: (res) => expectApiError(res, 403, 'access_denied', /network/),
      through: (res) => expect(res.status).toBe(200),
    },
    {
      name: 'token endpoint (oidc-provider)', surface: 'authentication',
      send: (headers) => {
        const { client_id, client_secret } = test.gatehouse.adminCredentials;
        return request(test.app).post('/oauth/token').set(headers).type('form')
          .send({ grant_type: 'client_credentials', client_id, client_secret, audience: `${ISSUER}/api/v2/` });
      },
      blocked: (res) => expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: { error: 'access_denied', error_description: 'Requests from your network are not allowed.' } }),
      through: (res) => expect(res.status).toBe(200),
    },
    {
      name: 'discovery (oidc-provider)', surface: 'authentication',
      send: (headers) => request(test.app).get('/.well-known/openid-configuration').set(headers),
      blocked: (res) => expect({ status: res.status, error: res.body.error }).toEqual({ status: 403, error: 'access_denied' }),
      through: (res) => expect(res.status).toBe(200),
    },
    {
      name: 'authorization endpoint (oidc-provider), a page', surface: 'authentication',
      send: (headers) => request(test.app).get(authorizePath).set(headers),
      blocked: (res) => expect({ status: res.status, type: res.type, page: res.text.includes(BLOCKED_PAGE) }).toEqual({ status: 403, type: 'text/html', page: true }),
      through: (res) => expect({ status: res.status, location: res.headers.location }).toEqual({ status: 303, location: expect.stringContaining('/u/login?state=') }),
    },
    {
      name: 'login page (/u)', surface: 'authentication',
      send: (headers) => request(test.app).get('/u/login?state=nothing').set(headers),
      blocked: (res) => expect({ status: res.status, page: res.text.includes(BLOCKED_PAGE) }).toEqual({ status: 403, page: true }),
      through: (res) => expect({ status: res.status, page: res.text.includes('This sign-in has expired') }).toEqual({ status: 400, page: true }),
    },
    {
      name: 'developer portal', surface: 'authentication',
      send: (headers) => request(test.app).get('/developers').set(headers),
      blocked: (res) => expect({ status: res.status, page: res.text.includes(BLOCKED_PAGE) }).toEqual({ status: 403, page: true }),
      through: (res) => expect(res.status).toBe(200),
    },
    {
      name: 'dynamic registration', surface: 'registration',
      send: (headers) => request(test.app).post('/oidc/register').set(headers).send({ redirect_uris: ['https://app.example.com/cb'] }),
      blocked: (res) => expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: { error: 'access_denied', error_description: 'Registration is not allowed from your network.' } }),
      through: (res) => expect(res.status).toBe(201),
    },
    {
      name: 'the portal\'s registration form', surface: 'registration',
      send: async (headers) => {
        // Showing the form is browsing the portal; sending it registers.
        const browser = new Browser(test.app, headers);
        const form = pageOf(await browser.open('/developers/register'));
        if (form.status !== 200) return form;
        return pageOf(await browser.submit(form, { client_name: 'Notes Sync', app_type: 'web', redirect_uris: 'https://notes.example.com/cb' }));
      },
      blocked: (res) => expect({ status: res.status, refused: /Registration is not allowed from your network\.|Access from your network is blocked/.test(res.text) }).toEqual({ status: 403, refused: true }),
      through: (res) => expect({ status: res.status, credentials: res.text.includes('Notes Sync') && !res.text.includes('name="client_name"') }).toEqual({ status: 200, credentials: true }),
    },
  ];

  /** `client` is the address the proxy forwards; `headers` anything else the client sends. */
  async function expectOutcomes(client: string, blockedOn: Surface[], headers: Record<string, string> = {}) {
    for (const probe of probes) {
      const res = await probe.send({ 'X-Forwarded-For': client, ...headers });
      const expectation = blockedOn.includes(probe.surface) ? probe.blocked : probe.through;
      try {
        expectation(res);
      } catch (err) {
        throw new Error(`${probe.name} from ${client} ${JSON.stringify(headers)}, expected ${blockedOn.includes(probe.surface) ? 'blocked' : 'through'}: ${(err as Error).message}`);
      }
    }
  }

  const rule = (scope: Scope, priority: number, action: NetworkAcl['rule']['action'], range: string) =>
    api('post', '/network-acls', { description: `${Object.keys(action)[0]} ${range}`, priority, rule: { scope, action, match: { ipv4_cidrs: [range] } } }).expect(201);

  describe.each(Object.keys(COVERS) as Scope[])('scope %s', (scope) => {
    it('block: refuses the covered surfaces in their own format, and nothing else', async () => {
      const { body: blocking } = await rule(scope, 10, { block: true }, '203.0.113.0/24');
      await expectOutcomes('203.0.113.7', COVERS[scope]);
      await expectOutcomes('198.51.100.7', []);
      const blocked = logLines.filter((line) => line.msg === 'request blocked by a network ACL');
      expect({ rules: new Set(blocked.map((line) => line.acl)), surfaces: new Set(blocked.map((line) => line.surface)) }).toEqual({ rules: new Set([blocking.id]), surfaces: new Set(COVERS[scope]) });
    });

    it('allow: lets a client through before a block rule would refuse it', async () => {
      await rule(scope, 10, { allow: true }, '203.0.113.7/32');
      await rule(scope, 20, { block: true }, '203.0.113.0/24');
      await expectOutcomes('203.0.113.7', []);
      await expectOutcomes('203.0.113.8', COVERS[scope]);
    });

    it('log: lets everything through and logs the match on the covered surfaces', async () => {
      const { body: monitoring } = await rule(scope, 10, { log: true }, '203.0.113.0/24');
      await expectOutcomes('203.0.113.7', []);
      const logged = logLines.filter((line) => line.msg === 'network ACL matched (monitoring rule)');
      expect({ rules: new Set(logged.map((line) => line.acl)), surfaces: new Set(logged.map((line) => line.surface)) }).toEqual({ rules: new Set([monitoring.id]), surfaces: new Set(COVERS[scope]) });
    });
  });

  it('matches user agents on every surface', async () => {
    await api('post', '/network-acls', { description: 'bad bot', priority: 10, rule: { scope: 'tenant', action: { block: true }, match: { user_agents: ['BadBot/1.0'] } } }).expect(201);
    await expectOutcomes('198.51.100.7', COVERS.tenant, { 'User-Agent': 'BadBot/1.0' });
    await expectOutcomes('198.51.100.7', [], { 'User-Agent': 'GoodBot/1.0' });
  });

  it('never blocks the operations endpoints, nor the stylesheets a refusal page needs', async () => {
    await rule('tenant', 10, { block: true }, '203.0.113.0/24');
    for (const path of ['/healthz', '/u/assets/gatehouse.css', '/u/theme.css']) {
      expect([path, (await request(test.app).get(path).set('X-Forwarded-For', '203.0.113.7')).status]).toEqual([path, 200]);
    }
  });

  it('treats the paths Express routes case-insensitively and with a trailing slash as the surfaces they reach', async () => {
    await rule('dynamic_client_registration', 10, { block: true }, '203.0.113.0/24');
    for (const path of ['/OIDC/Register', '/oidc/register/', '/oidc//register']) {
      const res = await request(test.app).post(path).set('X-Forwarded-For', '203.0.113.7').send({ redirect_uris: ['https://app.example.com/cb'] });
      expect([path, res.status === 201]).toEqual([path, false]);
    }
  });

  it('matches IPv4-mapped IPv6 rules against the address the server sees for an IPv4 client', async () => {
    await api('post', '/network-acls', { description: 'mapped', priority: 10, rule: { scope: 'authentication', action: { block: true }, match: { ipv6_cidrs: ['::ffff:203.0.113.0/120'] } } }).expect(201);
    expect((await request(test.app).get('/developers').set('X-Forwarded-For', '203.0.113.7')).status).toBe(403);
    expect((await request(test.app).get('/developers').set('X-Forwarded-For', '::ffff:203.0.113.7')).status).toBe(403);
    expect((await request(test.app).get('/developers').set('X-Forwarded-For', '198.51.100.7')).status).toBe(200);
  });
});
