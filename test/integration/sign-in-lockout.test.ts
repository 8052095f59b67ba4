import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Application } from '../../src/domain/model.ts';
import { userBlocksResponse } from '../../src/http/management/schemas.ts';
import { insertApplication, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { authorizeQuery } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, pageOf, type Outcome } from '../support/flow.ts';
import { expectConforms, managementCaller, type ManagementCaller } from '../support/management.ts';

const PASSWORD = 'right password 1';
const CONNECTION = 'Username-Password-Authentication';

/**
 * One failure counter per account, whichever path checks the password: the login form with a connection, the form
 * without one, and the password grant with or without `realm`. An administrator lifts the block with Auth0's
 * user-blocks endpoints.
 */
describe('the sign-in lockout', () => {
  let test: TestGatehouse;
  let app: Application;
  let secret: string;
  let api: ManagementCaller;

  beforeAll(async () => {
    test = await startGatehouse({ config: { login: { max_failures_per_account: 3, max_failures_per_address: 1000, window_minutes: 15 } } });
    ({ app, secret } = await insertApplication(test.gatehouse.stores, { grant_types: ['authorization_code', 'password'] }));
    api = await managementCaller(test);
  });
  afterAll(async () => {
    await test.close();
  });

  const passwordGrant = (username: string, password: string, realm?: string) => request(test.app).post('/oauth/token').type('form')
    .send({ grant_type: 'password', username, password, client_id: app.client_id, client_secret: secret, scope: 'openid', ...(realm ? { realm } : {}) });

  /** The login form of a new authorization, posted with these values (`connection: undefined` leaves the field out). */
  async function loginForm(values: { email: string; password: string; connection?: string }): Promise<Outcome> {
    const browser = new Browser(test.app);
    const login = pageOf(await browser.open(authorizeQuery(app, { scope: 'openid' }).path));
    return browser.submit(login, { email: values.email, password: values.password, connection: values.connection });
  }

  /** One wrong guess on each path: the form with a connection, the form without one, the password grant without realm. */
  async function guessOnEveryPath(email: string) {
    expect(pageOf(await loginForm({ email, password: 'wrong guess 1', connection: CONNECTION })).status).toBe(401);
    expect(pageOf(await loginForm({ email, password: 'wrong guess 2' })).status).toBe(401);
    expect((await passwordGrant(email, 'wrong guess 3')).body.error).toBe('invalid_grant');
  }

  it('counts every path against one counter per account, and then refuses the right password everywhere', async () => {
    await createUser(test.gatehouse.stores, 'lou@example.com', PASSWORD);
    await guessOnEveryPath('Lou@Example.com');

    const grant = await passwordGrant('lou@example.com', PASSWORD, CONNECTION);
    expect({ status: grant.status, error: grant.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    expect((await passwordGrant('lou@example.com', PASSWORD)).status).toBe(400);
    const page = pageOf(await loginForm({ email: 'lou@example.com', password: PASSWORD, connection: CONNECTION }));
    expect(page.status).toBe(429);
    expect(page.text).toContain('Too many failed sign-in attempts');
    expect(pageOf(await loginForm({ email: 'lou@example.com', password: PASSWORD })).status).toBe(429);
  });

  it('locks an unknown email exactly like a known one, so the lockout says nothing about existence', async () => {
    await createUser(test.gatehouse.stores, 'known@example.com', PASSWORD);
    await guessOnEveryPath('known@example.com');
    await guessOnEveryPath('unknown@example.com');
    for (const email of ['known@example.com', 'unknown@example.com']) {
      const page = pageOf(await loginForm({ email, password: PASSWORD }));
      expect({ email, status: page.status, locked: page.text.includes('Too many failed sign-in attempts') }).toEqual({ email, status: 429, locked: true });
      const grant = await passwordGrant(email, PASSWORD);
      expect({ email, status: grant.status, body: grant.body }).toEqual({ email, status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } });
    }
  });

  it('counts parallel guesses before checking them, so no more than the limit are ever checked', async () => {
    await createUser(test.gatehouse.stores, 'par@example.com', PASSWORD);
    const forms = [];
    for (let i = 0; i < 8; i += 1) {
      const browser = new Browser(test.app);
      forms.push({ browser, login: pageOf(await browser.open(authorizeQuery(app, { scope: 'openid' }).path)) });
    }
    const answers = await Promise.all(forms.map(({ browser, login }, i) => browser.submit(login, { email: 'par@example.com', password: `parallel guess ${i}` })));
    const statuses = answers.map((outcome) => pageOf(outcome).status).sort();
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
  });

  it('shows the block in Auth0\'s shape and lets an administrator lift it, by identifier or by user id', async () => {
    const user = await createUser(test.gatehouse.stores, 'may@example.com', PASSWORD);
    const none = await api('get', '/user-blocks?identifier=may@example.com').expect(200);
    expect(none.body).toEqual({ blocked_for: [] });
    expect((await api('get', `/user-blocks/${encodeURIComponent(user.user_id)}`).expect(200)).body).toEqual({ blocked_for: [] });

    await guessOnEveryPath('may@example.com');
    const byIdentifier = await api('get', '/user-blocks?identifier=MAY@example.com&consider_brute_force_enablement=true').expect(200);
    expectConforms(byIdentifier.body, userBlocksResponse);
    expect(byIdentifier.body).toEqual({ blocked_for: [{ identifier: 'may@example.com', connection: CONNECTION }] });
    const byId = await api('get', `/user-blocks/${encodeURIComponent(user.user_id)}`).expect(200);
    expect(byId.body).toEqual(byIdentifier.body);

    await api('delete', '/user-blocks?identifier=May@Example.com').expect(204);
    expect((await passwordGrant('may@example.com', PASSWORD)).status).toBe(200);
    expect((await api('get', '/user-blocks?identifier=may@example.com').expect(200)).body).toEqual({ blocked_for: [] });

    await guessOnEveryPath('may@example.com');
    expect((await passwordGrant('may@example.com', PASSWORD)).status).toBe(400);
    await api('delete', `/user-blocks/${encodeURIComponent(user.user_id)}`).expect(204);
    expect(callbackOf(await loginForm({ email: 'may@example.com', password: PASSWORD })).searchParams.get('code')).toEqual(expect.any(String));
    expect((await passwordGrant('may@example.com', PASSWORD)).status).toBe(200);
  });

  it('leaves a user blocked by an administrator blocked', async () => {
    const user = await createUser(test.gatehouse.stores, 'ned@example.com', PASSWORD);
    await api('patch', `/users/${encodeURIComponent(user.user_id)}`, { blocked: true }).expect(200);
    await api('delete', `/user-blocks/${encodeURIComponent(user.user_id)}`).expect(204);
    expect((await passwordGrant('ned@example.com', PASSWORD)).status).toBe(400);
  });
});
