import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { adminToken, ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';

/** Malformed requests to every surface: each must get a clear 4xx in its protocol's format, never a 500. */
describe('bad input', () => {
  let test: TestGatehouse;
  let token: string;
  beforeAll(async () => {
    // Registration's limits out of the way, so that every body sent to it reaches its parser once it is open (below).
    test = await startGatehouse({ config: { registration: { rate_limit_per_second: 10_000, rate_limit_per_ip_per_minute: 10_000, rate_limit_per_claimed_identity_per_hour: 10_000, max_applications: 10_000, idle_cleanup_days: 0 } } });
    token = await adminToken(test);
  });
  afterAll(async () => {
    await test.close();
  });

  const junk = ['', '{', '[]', 'null', '"x"', '{"a":{"b":{"c":[1,2,{"d":null}]}}}', 'a=1&a=2&b[]=3', '\u0000\u0001', 'x'.repeat(70_000)];
  const types = ['application/json', 'application/x-www-form-urlencoded', 'text/plain'];

  /** How a surface may answer junk: the statuses, and the format (RFC 6749/7591 JSON, a page, or a redirect to sign in first). */
  type Answer = 'oauth' | 'page' | 'sign-in' | 'auto-post';
  const oauth: { statuses: number[]; answers: Answer[] } = { statuses: [400], answers: ['oauth'] };
  /** Too large a form is a 413 page; anything else fails on its merits (no interaction, no visitor cookie, no session). */
  const page = (status: number, answer: Answer = 'page') => ({ statuses: [status, 413], answers: [answer, 'page' as const] });
  const EXPECTED: Record<string, { statuses: number[]; answers: Answer[] }> = {
    '/oauth/token': oauth, '/oauth/revoke': oauth, '/oauth/introspect': oauth, '/oauth/par': oauth,
    // Registration is closed here, and its per-second limit may answer first (429, in the same format).
    '/oidc/register': { statuses: [400, 429], answers: ['oauth'] },
    '/u/login': page(400), '/u/consent': page(400), '/developers/register': page(403), '/u/apps/remove': page(303, 'sign-in'),
    '/oauth/device/code': oauth, '/authorize': page(400), '/activate': page(400),
    // Without a session there is nobody to ask: oidc-provider posts the sign-out confirmation on by itself.
    '/oidc/logout': { statuses: [200, 400], answers: ['oauth', 'auto-post'] },
  };
  const answerOf = (res: request.Response): string => {
    if (res.status === 303 && String(res.headers.location).startsWith('/authorize?client_id=gatehouse_account')) return 'sign-in';
    if (res.type === 'text/html' && res.text.includes('<h1')) return 'page';
    if (res.type === 'text/html' && /<form method="post"[^>]*>/.test(res.text) && res.text.includes('.submit()')) return 'auto-post';
    if (res.type === 'application/json' && typeof res.body.error === 'string' && typeof res.body.error_description === 'string') return 'oauth';
    return `${res.type}: ${res.text.slice(0, 80)}`;
  };

  it.each([
    ['post', '/oauth/token'], ['post', '/oauth/revoke'], ['post', '/oauth/introspect'], ['post', '/oidc/register'], ['post', '/u/login'],
    ['post', '/u/consent'], ['post', '/u/apps/remove'], ['post', '/developers/register'], ['post', '/oauth/par'],
    ['post', '/authorize'], ['post', '/oidc/logout'], ['post', '/oauth/device/code'], ['post', '/activate'],
  ] as const)('%s %s', async (method, path) => {
    const expected = EXPECTED[path]!;
    for (const body of junk) {
      for (const type of types) {
        const res = await request(test.app)[method](path).set('Content-Type', type).send(body);
        const answer = answerOf(res);
        expect({ path, type, body: body.slice(0, 20), status: res.status, expectedStatus: expected.statuses.includes(res.status), expectedFormat: expected.answers.includes(answer as Answer) })
          .toEqual({ path, type, body: body.slice(0, 20), status: res.status, expectedStatus: true, expectedFormat: true });
        expect(res.status).toBeLessThan(500);
      }
    }
  });

  it.each([
    '/authorize', '/authorize?client_id=', '/authorize?client_id=x&client_id=y', '/authorize?response_type=code&client_id=%00',
    '/authorize/unknown-uid', '/u/login', '/u/login?state=nope', '/u/consent?state=nope', '/u/apps/callback?error=x',
    '/userinfo', '/.well-known/oauth-authorization-server/extra', '/oidc/logout?id_token_hint=garbage', '/developers?x[y]=z',
    '/activate', '/activate?user_code=%00', '/activate/unknown-uid', '/v2/logout', '/v2/logout?client_id=nope&returnTo=javascript:x',
    '/v2/logout?client_id=a&client_id=b&returnTo[x]=y', '/authorize?client_id=x&response_mode=web_message',
  ])('GET %s', async (path) => {
    const res = await request(test.app).get(path);
    expect(res.status).toBeLessThan(500);
  });

  describe('bodies that cannot be decoded', () => {
    beforeAll(async () => {
      const opened = await request(test.app).patch('/api/v2/tenants/settings').set('Authorization', `Bearer ${token}`).send({ flags: { enable_dynamic_client_registration: true } });
      expect(opened.status).toBe(200);
    });

    /** A declared charset that JSON and forms do not use, and content codings over a body that is not encoded. */
    const undecodable: [name: string, charset: string | undefined, encoding: string | undefined][] = [
      ['charset=latin1', 'latin1', undefined], ['gzip', undefined, 'gzip'], ['deflate', undefined, 'deflate'], ['br', undefined, 'br'],
      ['an unknown coding', undefined, 'x-unknown'], ['a coding list', undefined, 'gzip, identity'],
    ];
    const json = '{"redirect_uris":["https://app.example.org/callback"],"grant_type":"client_credentials","client_id":"nobody"}';
    const form = 'grant_type=client_credentials&client_id=nobody&client_secret=nothing&token=abc&csrf=x&state=x';
    const surfaces: [name: string, path: string, format: 'oauth' | 'auth0' | 'page', body: 'json' | 'form'][] = [
      ['registration', '/oidc/register', 'oauth', 'json'],
      ['token endpoint (form)', '/oauth/token', 'oauth', 'form'],
      ['token endpoint (JSON)', '/oauth/token', 'oauth', 'json'],
      ['revocation (form)', '/oauth/revoke', 'oauth', 'form'],
      ['revocation (JSON)', '/oauth/revoke', 'oauth', 'json'],
      ['introspection', '/oauth/introspect', 'oauth', 'form'],
      ['pushed authorization requests', '/oauth/par', 'oauth', 'form'],
      ['Management API', '/api/v2/clients', 'auth0', 'json'],
      ['login page', '/u/login?state=x', 'page', 'form'],
      ['consent page', '/u/consent?state=x', 'page', 'form'],
      ['connected apps page', '/u/apps/remove', 'page', 'form'],
      ['developer portal form', '/developers/register', 'page', 'form'],
      // Form posts a browser makes to oidc-provider's own pages.
      ['authorization (form post)', '/authorize', 'page', 'form'],
      ['logout (form post)', '/oidc/logout', 'page', 'form'],
      ['device activation', '/activate', 'page', 'form'],
    ];

    it('reads bodies that really are compressed where it says it does (registration, JSON token requests)', async () => {
      // superagent would serialize a Buffer as JSON: the compressed bytes are sent as they are.
      const postGzipped = (path: string, value: object) => request(test.app).post(path).set({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })
        .serialize(() => gzipSync(JSON.stringify(value)) as unknown as string).send(value);
      expect((await postGzipped('/oidc/register', { redirect_uris: ['https://app.example.org/callback'] })).status).toBe(201);
      const { client_id, client_secret } = test.gatehouse.adminCredentials;
      expect((await postGzipped('/oauth/token', { grant_type: 'client_credentials', client_id, client_secret, audience: `${ISSUER}/api/v2/` })).status).toBe(200);
    });

    it.each(surfaces)('%s answers 400 or 415 in its own format', async (_name, path, format, kind) => {
      for (const [name, charset, encoding] of undecodable) {
        let call = request(test.app).post(path)
          .set('Content-Type', `${kind === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'}${charset ? `; charset=${charset}` : ''}`);
        if (encoding) call = call.set('Content-Encoding', encoding);
        if (format === 'auth0') call = call.set('Authorization', `Bearer ${token}`);
        if (format === 'page') call = call.set('Accept', 'text/html'); // as a browser sends it
        const res = await call.send(kind === 'json' ? json : form);
        // A form in latin1 can be read (oidc-provider decodes it): the request then fails on its merits (no such client).
        const expected = charset && format === 'oauth' && kind === 'form' ? [400, 401, 415] : [400, 415];
        expect({ case: name, status: res.status, expected: expected.includes(res.status) }).toEqual({ case: name, status: res.status, expected: true });
        if (format === 'auth0') {
          expect(res.body).toEqual({ statusCode: res.status, error: expect.any(String), message: expect.any(String), errorCode: expect.any(String) });
        } else {
          expect({ case: name, answer: answerOf(res) }).toEqual({ case: name, answer: format });
        }
        if (path === '/oidc/register') expect(['invalid_client_metadata', 'invalid_request']).toContain(res.body.error);
      }
    });
  });

  it('the Management API answers junk in Auth0 shape', async () => {
    for (const [method, path] of [['post', '/api/v2/clients'], ['patch', '/api/v2/tenants/settings'], ['post', '/api/v2/client-grants'], ['post', '/api/v2/network-acls'], ['post', '/api/v2/users']] as const) {
      for (const body of junk) {
        const res = await request(test.app)[method](path).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(body);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.body).toMatchObject({ statusCode: res.status, error: expect.any(String), message: expect.any(String) });
      }
    }
    const odd = await request(test.app).get('/api/v2/clients?per_page=1e400&page=-1&include_totals=maybe').set('Authorization', `Bearer ${token}`);
    expect(odd.status).toBe(400);
    const encoded = await request(test.app).get('/api/v2/resource-servers/%E0%A4%A').set('Authorization', `Bearer ${token}`);
    expect(encoded.status).toBeLessThan(500);
  });
});
