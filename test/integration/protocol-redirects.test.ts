import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Application, RedirectionPolicy, ResourceServer } from '../../src/domain/model.ts';
import { startGatehouse, type ApplicationFixture, type TestGatehouse } from '../support/harness.ts';
import { authorizeQuery, CALLBACK, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, createUser, pageOf, signIn, type Outcome } from '../support/flow.ts';

/**
 * Open-redirect protection rests on oidc-provider emitting `authorization.error` before it decides to redirect
 * (src/oidc/authorization-hooks.ts). This suite pins that behaviour for every kind of error after the application
 * is identified, in both redirection policies, so an upgrade that changes the event order fails here.
 */
describe('open redirect protection', () => {
  let test: TestGatehouse;
  let api: ResourceServer;
  let ungranted: ResourceServer;
  const stores = () => test.gatehouse.stores;

  beforeAll(async () => {
    test = await startGatehouse();
    api = await createApi(stores());
    ungranted = await createApi(stores());
    await createUser(stores(), 'carol@example.com', 'carol password 1');
  });
  afterAll(async () => {
    await test.close();
  });

  async function appWith(policy: RedirectionPolicy | 'first-party'): Promise<Application> {
    const fields: ApplicationFixture = policy === 'first-party'
      ? { is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `fp_${Math.random().toString(36).slice(2)}` }
      : { redirection_policy: policy };
    const { app } = await thirdPartyApp(stores(), { token_endpoint_auth_method: 'none', ...fields });
    await createGrant(stores(), { client_id: app.client_id, audience: api.identifier, scope: ['read:notes'] });
    return app;
  }

  const cases: [string, (app: Application, browser: Browser) => Promise<Outcome>, string][] = [
    ['an invalid scope', (app, b) => b.open(authorizeQuery(app, { audience: api.identifier, scope: 'delete:notes' }).path), 'invalid_scope'],
    ['a missing PKCE challenge', (app, b) => b.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes', pkce: false }).path), 'invalid_request'],
    ['an API the application may not use', (app, b) => b.open(authorizeQuery(app, { audience: ungranted.identifier, scope: 'read:notes' }).path), 'unauthorized_client'],
    ['a denied consent', async (app, b) => {
      const consent = await signIn(b, await b.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path), 'carol@example.com', 'carol password 1');
      return b.submit(pageOf(consent), { action: 'deny' });
    }, 'access_denied'],
  ];

  it.each(cases)('renders %s on Gatehouse\'s page under open_redirect_protection', async (_name, run, error) => {
    const outcome = await run(await appWith('open_redirect_protection'), new Browser(test.app));
    const page = pageOf(outcome);
    expect(page.status).toBe(400);
    expect(page.headers.location).toBeUndefined();
    expect(page.text).toContain(error);
    expect(page.text).not.toContain(CALLBACK);
  });

  it.each(cases)('redirects %s to the callback under allow_always', async (_name, run, error) => {
    const outcome = await run(await appWith('allow_always'), new Browser(test.app));
    if (!('callback' in outcome)) throw new Error(`expected a redirect, got ${outcome.page.status}`);
    expect(outcome.callback.origin + outcome.callback.pathname).toBe(CALLBACK);
    expect(outcome.callback.searchParams.get('error')).toBe(error);
    expect(outcome.callback.searchParams.get('state')).toBe('st4te');
  });

  it('leaves first-party applications with standard redirects', async () => {
    const outcome = await new Browser(test.app).open(authorizeQuery(await appWith('first-party'), { audience: 'https://unknown.example.com/', scope: 'read:notes' }).path);
    if (!('callback' in outcome)) throw new Error('expected a redirect');
    expect(outcome.callback.searchParams.get('error')).toBe('invalid_target');
  });

  it('matches a first-party application\'s wildcard callback on one subdomain label only', async () => {
    const { app } = await thirdPartyApp(stores(), {
      is_first_party: true, third_party_security_mode: undefined, redirection_policy: undefined, client_id: `wc_${Date.now()}`,
      token_endpoint_auth_method: 'none', callbacks: ['https://*.example.com/callback'],
    });
    const browser = new Browser(test.app);
    const login = pageOf(await browser.open(authorizeQuery(app, { redirect_uri: 'https://eu.example.com/callback', scope: 'openid' }).path));
    const outcome = await signIn(browser, { page: login }, 'carol@example.com', 'carol password 1');
    if (!('callback' in outcome)) throw new Error('expected a redirect');
    expect(outcome.callback.host).toBe('eu.example.com');
    expect(outcome.callback.searchParams.get('code')).toEqual(expect.any(String));
    const deeper = pageOf(await browser.open(authorizeQuery(app, { redirect_uri: 'https://a.b.example.com/callback', scope: 'openid' }).path));
    expect(deeper.text).toContain('invalid_redirect_uri');
    // Credentials in the URI are refused when registered, so they are refused when matched too.
    const withCredentials = pageOf(await browser.open(authorizeQuery(app, { redirect_uri: 'https://user:pw@eu.example.com/callback', scope: 'openid' }).path));
    expect(withCredentials.status).toBe(400);
    expect(withCredentials.text).toContain('invalid_redirect_uri');
  });

  it('never redirects to an unregistered callback, whatever the policy', async () => {
    for (const policy of ['allow_always', 'first-party'] as const) {
      const app = await appWith(policy);
      const query = authorizeQuery(app, { audience: api.identifier, scope: 'read:notes', redirect_uri: 'https://evil.example.com/cb' });
      const page = pageOf(await new Browser(test.app).open(query.path));
      expect(page.status).toBe(400);
      expect(page.text).toContain('invalid_redirect_uri');
    }
  });
});
