import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { CONSOLE_APPLICATION_ID, OPERATOR_CONNECTION } from '../../src/domain/operators.ts';
import { MANAGEMENT_API_SCOPES } from '../../src/domain/system-api.ts';
import { consoleCallback } from '../../src/services/bootstrap.ts';
import { acceptInvitation } from '../../src/services/operators.ts';
import { authorizeQuery } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, pageOf, signIn } from '../support/flow.ts';
import { insertApplication, ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, managementCaller, type ManagementCaller } from '../support/management.ts';

const ADMIN = { email: 'ada@ops.example', password: 'ada console password' };
const AUDIENCE = `${ISSUER}/api/v2/`;
const ALL_SCOPES = MANAGEMENT_API_SCOPES.join(' ');
const READ_SCOPES = MANAGEMENT_API_SCOPES.filter((scope) => scope.startsWith('read:'));

describe('operators: user tokens for the Management API, bounded by role', () => {
  let test: TestGatehouse;
  let admin: ManagementCaller;

  beforeAll(async () => {
    test = await startGatehouse({ config: { adminEmail: ADMIN.email, adminPassword: ADMIN.password } });
    admin = await managementCaller(test);
  });
  afterAll(() => test.close());

  /** The console's own sign-in: authorization code with PKCE for the system API, through the real login page. */
  async function consoleToken(who: { email: string; password: string }, scope = `openid ${ALL_SCOPES}`): Promise<string> {
    const console = { client_id: CONSOLE_APPLICATION_ID, callbacks: [consoleCallback(ISSUER)] };
    const query = authorizeQuery(console as never, { audience: AUDIENCE, scope, prompt: 'login' });
    const browser = new Browser(test.app);
    const code = callbackOf(await signIn(browser, await browser.open(query.path), who.email, who.password)).searchParams.get('code');
    const res = await request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code', code, redirect_uri: console.callbacks[0], client_id: CONSOLE_APPLICATION_ID, code_verifier: query.verifier,
    });
    if (res.status !== 200) throw new Error(`console token: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.access_token as string;
  }
  const as = (token: string) => (method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object) => {
    const req = request(test.app)[method](`/api/v2${path}`).set('Authorization', `Bearer ${token}`);
    return body ? req.send(body) : req;
  };

  async function invite(email: string, role: 'admin' | 'viewer', password: string) {
    const res = await admin('post', '/operators/invitations', { email, role }).expect(201);
    const token = new URL(res.body.invitation_url).searchParams.get('invitation') as string;
    const user = await acceptInvitation(test.gatehouse.stores.durable, token, { email, password });
    return { user, invitation: res.body };
  }

  it('makes the first operator from GATEHOUSE_ADMIN_EMAIL / _PASSWORD, an admin whose console token carries every scope', async () => {
    expect(test.gatehouse.operatorBootstrap).toEqual({ hasOperators: false, created: ADMIN.email });
    const claims = decodeJwt(await consoleToken(ADMIN));
    expect(claims).toMatchObject({ aud: AUDIENCE, client_id: CONSOLE_APPLICATION_ID, scope: ALL_SCOPES });
    expect(claims.sub).not.toBe(CONSOLE_APPLICATION_ID);
    const [operator] = (await admin('get', '/operators').expect(200)).body;
    expect(operator).toMatchObject({ email: ADMIN.email, role: 'admin', user_id: claims.sub });
    expect(operator).not.toHaveProperty('password_hash');
  });

  it('accepts an operator\'s token and records the operator, not the console, as who made the change', async () => {
    const token = await consoleToken(ADMIN);
    const created = await as(token)('post', '/operators/invitations', { email: 'who@ops.example', role: 'viewer' }).expect(201);
    expect(created.body.invited_by).toBe(decodeJwt(token).sub);
    expect(created.body.invitation_url).toMatch(`${ISSUER}/console/join?invitation=`);
    expect(created.body).not.toHaveProperty('token_hash');
    await as(token)('delete', `/operators/invitations/${created.body.id}`).expect(204);
    // The tenant log names the operator beside the console (its user_id searches an operator's changes).
    await test.gatehouse.audit.flush();
    const { sub } = decodeJwt(token);
    const writes = (await admin('get', `/logs?q=${encodeURIComponent(`type:sapi AND user_id:"${sub}"`)}&sort=date:1`).expect(200)).body;
    expect(writes).toEqual([
      expect.objectContaining({ client_id: CONSOLE_APPLICATION_ID, user_id: sub, user_name: ADMIN.email, details: expect.objectContaining({ request: expect.objectContaining({ method: 'POST', path: '/api/v2/operators/invitations' }) }) }),
      expect.objectContaining({ client_id: CONSOLE_APPLICATION_ID, user_id: sub, user_name: ADMIN.email, details: expect.objectContaining({ request: expect.objectContaining({ method: 'DELETE' }) }) }),
    ]);
  });

  it('gives a viewer a token with the read: scopes only: reading works, changing is refused', async () => {
    await invite('vic@ops.example', 'viewer', 'vic console password');
    const token = await consoleToken({ email: 'vic@ops.example', password: 'vic console password' });
    expect(decodeJwt(token).scope).toBe(READ_SCOPES.join(' '));
    await as(token)('get', '/clients').expect(200);
    expectApiError(await as(token)('post', '/clients', { name: 'Nope' }), 403, 'insufficient_scope', 'create:clients');
  });

  it('applies a role change and a removal within a second, whatever the token already says', async () => {
    const { user } = await invite('eve@ops.example', 'admin', 'eve console password');
    const token = await consoleToken({ email: 'eve@ops.example', password: 'eve console password' });
    await as(token)('post', '/connections', { name: 'Eve-Made', strategy: 'auth0' }).expect(201);
    await admin('patch', `/operators/${user.user_id}`, { role: 'viewer' }).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expectApiError(await as(token)('post', '/connections', { name: 'Eve-Again', strategy: 'auth0' }), 403, 'insufficient_scope');
    await as(token)('get', '/connections').expect(200);
    await admin('delete', `/operators/${user.user_id}`).expect(204);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expectApiError(await as(token)('get', '/connections'), 401, 'invalid_token', 'not an operator');
  });

  it('keeps an admin: nobody removes themselves or demotes the last admin', async () => {
    const token = await consoleToken(ADMIN);
    const me = String(decodeJwt(token).sub);
    expectApiError(await as(token)('delete', `/operators/${me}`), 400, 'invalid_body', 'yourself');
    expectApiError(await admin('patch', `/operators/${me}`, { role: 'viewer' }), 400, 'invalid_body', 'last admin');
    expectApiError(await admin('post', '/operators/invitations', { email: ADMIN.email, role: 'viewer' }), 400, 'invalid_body', 'operator already');
  });

  it('signs nobody else in to the console: a user of another connection cannot use its sign-in', async () => {
    await createUser(test.gatehouse.stores, 'jo@example.com', 'jo password 123');
    const console = { client_id: CONSOLE_APPLICATION_ID, callbacks: [consoleCallback(ISSUER)] };
    const browser = new Browser(test.app);
    const login = pageOf(await browser.open(authorizeQuery(console as never, { audience: AUDIENCE, scope: 'openid read:clients' }).path));
    expect(login.text).toContain(`value="${OPERATOR_CONNECTION}"`);
    const refused = pageOf(await browser.submit(login, { email: 'jo@example.com', password: 'jo password 123', connection: 'Username-Password-Authentication' }));
    expect(refused.status).toBe(401);
  });

  it('gives no other application user-delegated access to the Management API, even first-party with a grant', async () => {
    const { app } = await insertApplication(test.gatehouse.stores, { name: 'Internal tool', token_endpoint_auth_method: 'none', app_type: 'spa' });
    expectApiError(await admin('post', '/client-grants', { client_id: app.client_id, audience: AUDIENCE, subject_type: 'user', scope: ['read:clients'] }), 400, 'invalid_body', 'console only');
    const res = await new Browser(test.app).open(authorizeQuery(app, { audience: AUDIENCE, scope: 'openid read:clients' }).path);
    expect(callbackOf(res).searchParams.get('error')).toBe('unauthorized_client'); // it cannot hold the grant it would need
  });

  it('keeps operators out of /users changes and the reserved connection out of connection changes', async () => {
    const [operator] = (await admin('get', '/operators')).body;
    expectApiError(await admin('post', '/users', { connection: OPERATOR_CONNECTION, email: 'x@ops.example', password: 'long enough pw' }), 400, 'invalid_body', '/api/v2/operators');
    expectApiError(await admin('patch', `/users/${operator.user_id}`, { blocked: true }), 400, 'invalid_body', '/api/v2/operators');
    expectApiError(await admin('delete', `/users/${operator.user_id}`), 400, 'invalid_body', '/api/v2/operators');
    const [reserved] = (await admin('get', `/connections?name=${OPERATOR_CONNECTION}`)).body;
    expectApiError(await admin('patch', `/connections/${reserved.id}`, { is_domain_connection: true }), 400, 'operation_not_supported', 'reserved');
    expectApiError(await admin('delete', `/connections/${reserved.id}`), 400, 'operation_not_supported', 'reserved');
  });
});

describe('operators: settings', () => {
  it('wants GATEHOUSE_ADMIN_EMAIL and GATEHOUSE_ADMIN_PASSWORD together, and keeps the password out of messages', () => {
    expect(() => loadConfig({ env: { NODE_ENV: 'test', GATEHOUSE_ADMIN_EMAIL: 'a@b.example' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { NODE_ENV: 'test', GATEHOUSE_ADMIN_EMAIL: 'a@b.example', GATEHOUSE_ADMIN_PASSWORD: 'short' } })).toThrow(/not shown, since it is a secret/);
  });

  it('prints a single-use sign-up link at first start in development and tests, never in production', async () => {
    const test = await startGatehouse();
    try {
      expect(test.gatehouse.operatorBootstrap.signUpUrl).toMatch(/^http:\/\/gatehouse\.test\/console\/join\?invitation=[\w-]{43}$/);
      const [invitation] = await test.gatehouse.stores.durable.operatorInvitations.find({});
      expect(invitation).toMatchObject({ role: 'admin', invited_by: 'gatehouse' });
      expect(JSON.stringify(invitation)).not.toContain(new URL(test.gatehouse.operatorBootstrap.signUpUrl as string).searchParams.get('invitation'));
    } finally {
      await test.close();
    }
  });
});
