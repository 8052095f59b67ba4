import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Request, Response } from 'express';
import { ConsoleSessions, type OperatorSession } from '../../src/http/console/session.ts';
import request from 'supertest';
import { Browser, formOf, pageOf, signIn } from '../support/flow.ts';
import { memoryStores, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { managementCaller } from '../support/management.ts';

const ADMIN = { email: 'ada@ops.example', password: 'ada console password' };

/** The console's protections, request by request (test/e2e/console.e2e.test.ts drives its pages in Chromium). */
describe('console: sign-in, session, CSRF and headers', () => {
  let test: TestGatehouse;
  beforeAll(async () => {
    test = await startGatehouse({ config: { adminEmail: ADMIN.email, adminPassword: ADMIN.password } });
  });
  afterAll(() => test.close());

  /** Signs in through the console's own sign-in; says where the callback sent the operator. */
  async function signedIn(start = '/console/applications'): Promise<{ browser: Browser; landing: string }> {
    const browser = new Browser(test.app);
    const outcome = await signIn(browser, await browser.open(start), ADMIN.email, ADMIN.password);
    const callback = 'callback' in outcome ? outcome.callback : undefined;
    if (!callback) throw new Error('expected the console callback');
    const res = await request(test.app).get(`${callback.pathname}${callback.search}`).set('Cookie', browser.jar.header());
    browser.jar.store(res.headers['set-cookie']);
    return { browser, landing: String(res.headers.location) };
  }

  it('sends someone without a session to the operators\' sign-in, and back to the page they asked for', async () => {
    const res = await request(test.app).get('/console/users?email=a');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/console/login?return_to=${encodeURIComponent('/console/users?email=a')}`);
    const login = await request(test.app).get(res.headers.location as string);
    const authorize = new URL(login.headers.location as string, 'http://gatehouse.test');
    expect(authorize.pathname).toBe('/authorize');
    expect(authorize.searchParams.get('client_id')).toBe('gatehouse_console');
    expect(authorize.searchParams.get('prompt')).toBe('login');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/gatehouse_console=[\w-]{43}; Max-Age=600; Path=\/console; HttpOnly; SameSite=Lax/);
  });

  it('returns an operator to the page they asked for, and never off the console', async () => {
    expect((await signedIn('/console/users?email=a')).landing).toBe('/console/users?email=a');
    for (const returnTo of ['https://evil.example/', '//evil.example/console/x', '/u/apps', '/console\\@evil.example']) {
      expect((await signedIn(`/console/login?${new URLSearchParams({ return_to: returnTo })}`)).landing).toBe('/console/applications');
    }
  });

  it('serves pages that are never cached, never framed, without inline script or style, and refuses a form without its token', async () => {
    const { browser } = await signedIn();
    const page = pageOf(await browser.open('/console/applications'));
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("style-src 'self'");
    expect(page.text).not.toMatch(/<script>|style="/);

    const forged = pageOf(await browser.post('/console/applications', { name: 'Forged', app_type: 'spa' }));
    expect(forged.status).toBe(403);
    const admin = await managementCaller(test);
    expect((await admin('get', '/clients')).body.map((app: { name: string }) => app.name)).not.toContain('Forged');

    const { fields } = formOf(pageOf(await browser.open('/console/applications/new')).text);
    const created = pageOf(await browser.post('/console/applications', { csrf: fields.csrf as string, name: 'Real', app_type: 'spa' }));
    expect(created.status).toBe(201);
    expect(created.text).toContain('Real is created');
  });

  it('ends the session on sign-out: the same cookie then signs nobody in', async () => {
    const { browser } = await signedIn();
    const signOut = pageOf(await browser.submit(pageOf(await browser.open('/console/applications')), {})); // the first form of every page
    expect(signOut.text).toContain('You are signed out of the console');
    const after = await browser.open('/console/applications');
    expect(pageOf(after).text).toContain('name="password"'); // the sign-in page again
  });

  it('answers a form sent after the session ended with a page that says so, not a redirect that loses it silently', async () => {
    const res = await request(test.app).post('/console/applications').type('form').send({ name: 'Late', csrf: 'x' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('Your console session has ended');
  });
});

describe('console sessions', () => {
  it('end after the idle timeout, or when the token expires, whichever comes first; every request pushes the idle end back', async () => {
    const stores = memoryStores();
    try {
      const sessions = new ConsoleSessions(stores, { cookiePath: '/console', secure: false, idleTimeoutMinutes: 30 });
      const res = { append: () => undefined } as unknown as Response;
      const start = Date.now();
      const record: OperatorSession = { kind: 'operator', token: 't', tokenExpiresAt: Math.floor(start / 1000) + 7200, userId: 'u', email: 'e', role: 'admin', scopes: [] };
      const id = await sessions.start(res, record);
      const req = (at: number) => {
        jest.spyOn(Date, 'now').mockReturnValue(at);
        return { headers: { cookie: `gatehouse_console=${id}` } } as unknown as Request;
      };
      expect((await sessions.read(req(start + 29 * 60_000)))?.record.kind).toBe('operator');
      await sessions.save(res, id, record); // a request at minute 29
      expect((await sessions.read(req(start + 58 * 60_000)))?.record.kind).toBe('operator');
      expect(await sessions.read(req(start + 60 * 60_000))).toBeUndefined(); // 31 idle minutes
      const busy = await sessions.start(res, { ...record, tokenExpiresAt: Math.floor(start / 1000) + 600 });
      jest.spyOn(Date, 'now').mockReturnValue(start);
      await sessions.save(res, busy, { ...record, tokenExpiresAt: Math.floor(start / 1000) + 600 });
      expect(await sessions.read({ headers: { cookie: `gatehouse_console=${busy}` } } as unknown as Request)).toBeDefined();
      expect(await sessions.read(Object.assign(req(start + 601_000), { headers: { cookie: `gatehouse_console=${busy}` } }))).toBeUndefined(); // the token expired
    } finally {
      jest.restoreAllMocks();
      await stores.close();
    }
  });
});
