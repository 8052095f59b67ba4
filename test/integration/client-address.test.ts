import { describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import type { GatehouseConfig } from '../../src/config/schema.ts';
import type { Application, NetworkAcl } from '../../src/domain/model.ts';
import { authorizeQuery, createApi } from '../support/fixtures.ts';
import { Browser, createUser, pageOf, signIn } from '../support/flow.ts';
import { insertApplication, startGatehouse, type TestGatehouse } from '../support/harness.ts';

const EMAIL = 'kim@example.com';
const PASSWORD = 'kim password 12';
/** Three failures lock an address out; an account is never locked here, so only the address counts. */
const login = { max_failures_per_account: 1000, max_failures_per_address: 3, window_minutes: 15 };

async function gatehouseWithUser(config: Partial<GatehouseConfig>, before?: (host: Express) => void) {
  const test = await startGatehouse({ config: { login, ...config }, ...(before ? { before } : {}) });
  await createUser(test.gatehouse.stores, EMAIL, PASSWORD);
  const { app, secret } = await insertApplication(test.gatehouse.stores, { grant_types: ['authorization_code', 'refresh_token', 'password'] });
  const api = await createApi(test.gatehouse.stores);
  return { test, app, secret, authorizePath: authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path };
}

const passwordGrant = (express: Express, app: Application, secret: string, password: string, forwardedFor?: string) => {
  const req = request(express).post('/oauth/token').type('form');
  if (forwardedFor) req.set('X-Forwarded-For', forwardedFor);
  return req.send({ grant_type: 'password', username: EMAIL, password, client_id: app.client_id, client_secret: secret });
};

describe('one client address for every route, oidc-provider included', () => {
  it('does not let a caller locked out of the password grant in again with a forged X-Forwarded-For', async () => {
    // Only 10.0.0.0/8 proxies are trusted: this caller (loopback) is not one, whatever it writes in the header.
    const { test, app, secret } = await gatehouseWithUser({ trustProxy: '10.0.0.0/8' });
    for (const forged of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      expect((await passwordGrant(test.app, app, secret, 'wrong password', forged)).body.error).toBe('invalid_grant');
    }
    // The right password, from "another" address: still refused (oidc-provider words every invalid_grant the same).
    const again = await passwordGrant(test.app, app, secret, PASSWORD, '203.0.113.4');
    expect({ status: again.status, body: again.body }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } });
    await test.close();
  });

  it('behind a trusted proxy, counts the address it forwards, the same on the login page and in the password grant', async () => {
    const { test, app, secret, authorizePath } = await gatehouseWithUser({ trustProxy: 'loopback' });
    // Three failures on the login page (an Express route) from 203.0.113.1, as the proxy says.
    const browser = new Browser(test.app, { 'X-Forwarded-For': '203.0.113.1' });
    let page = pageOf(await signIn(browser, await browser.open(authorizePath), EMAIL, 'wrong password'));
    for (let i = 0; i < 2; i += 1) page = pageOf(await browser.submit(page, { email: EMAIL, password: 'wrong password' }));
    expect(page.text).toContain('Wrong email or password.');
    // oidc-provider's password grant (ctx.ip) sees the same address, locked out, and another one, free.
    expect((await passwordGrant(test.app, app, secret, PASSWORD, '203.0.113.1')).body.error).toBe('invalid_grant');
    expect((await passwordGrant(test.app, app, secret, PASSWORD, '203.0.113.2')).status).toBe(200);
    await test.close();
  });

  it('tells oidc-provider the request is https only when a trusted proxy says so', async () => {
    const cookiesOf = async (trustProxy: GatehouseConfig['trustProxy']) => {
      const { test, authorizePath } = await gatehouseWithUser({ trustProxy, issuer: 'https://id.example.com' });
      const res = await request(test.app).get(authorizePath).set('X-Forwarded-Proto', 'https');
      await test.close();
      const cookies = [res.headers['set-cookie'] ?? []].flat();
      expect(cookies.length).toBeGreaterThan(0);
      return cookies.map((cookie) => /;\s*secure/i.test(cookie));
    };
    expect(new Set(await cookiesOf('loopback'))).toEqual(new Set([true]));
    expect(new Set(await cookiesOf('10.0.0.0/8'))).toEqual(new Set([false]));
  });
});

describe('middleware mode: Gatehouse\'s trustProxy counts, not the host application\'s trust proxy', () => {
  const blockRange = (range: string): NetworkAcl => {
    const now = new Date().toISOString();
    return { id: 'acl_range', description: 'block', active: true, priority: 1, created_at: now, updated_at: now, rule: { scope: 'tenant', action: { block: true }, match: { ipv4_cidrs: [range] } } };
  };
  const tokenFrom = (test: TestGatehouse, forwardedFor: string) => {
    const { client_id, client_secret } = test.gatehouse.adminCredentials;
    return request(test.app).post('/oauth/token').set('X-Forwarded-For', forwardedFor).type('form')
      .send({ grant_type: 'client_credentials', client_id, client_secret, audience: 'http://gatehouse.test/api/v2/' });
  };

  it('ignores X-Forwarded-For when the host trusts proxies but Gatehouse does not', async () => {
    const { test } = await gatehouseWithUser({ trustProxy: false }, (host) => host.set('trust proxy', true));
    await test.gatehouse.stores.durable.networkAcls.insert(blockRange('203.0.113.0/24'));
    expect((await tokenFrom(test, '203.0.113.5')).status).toBe(200);
    await test.close();
  });

  it('believes X-Forwarded-For from a proxy Gatehouse trusts, whatever the host says', async () => {
    const { test } = await gatehouseWithUser({ trustProxy: 'loopback' }, (host) => host.set('trust proxy', false));
    await test.gatehouse.stores.durable.networkAcls.insert(blockRange('203.0.113.0/24'));
    expect((await tokenFrom(test, '203.0.113.5')).status).toBe(403);
    expect((await tokenFrom(test, '198.51.100.5')).status).toBe(200);
    await test.close();
  });
});
