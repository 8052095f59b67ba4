import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Application, ResourceServer } from '../../src/domain/model.ts';
import { ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { authorizeQuery, CALLBACK, createApi, createConnection, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, codeFlowTokens, createUser, formOf, isConsentPage, pageOf, signIn } from '../support/flow.ts';

describe('end-user pages', () => {
  let test: TestGatehouse;
  let api: ResourceServer;
  let app: Application;
  const stores = () => test.gatehouse.stores;

  beforeAll(async () => {
    test = await startGatehouse({ config: { login: { max_failures_per_account: 3, max_failures_per_address: 1000, window_minutes: 15 } } });
    api = await createApi(stores());
    ({ app } = await thirdPartyApp(stores(), { token_endpoint_auth_method: 'none', name: 'Partner Notes' }));
    await createGrant(stores(), { client_id: app.client_id, audience: api.identifier, scope: ['read:notes', 'write:notes'] });
    await createUser(stores(), 'gina@example.com', 'gina password 1');
  });
  afterAll(async () => {
    await test.close();
  });

  describe('connected apps', () => {
    it('lists what each application may do, and removing one stops its access at once', async () => {
      const browser = new Browser(test.app);
      const tokens = await codeFlowTokens(test.app, app, { browser, email: 'gina@example.com', password: 'gina password 1', query: authorizeQuery(app, { audience: api.identifier, scope: 'read:notes offline_access' }) });
      expect(tokens.body.refresh_token).toEqual(expect.any(String));

      const page = pageOf(await browser.open('/u/apps')); // the session from signing in is enough
      expect(page.status).toBe(200);
      expect(page.text).toContain('Partner Notes');
      expect(page.text).toContain('Read your notes');
      expect(page.text).not.toContain('Change your notes');
      expect(page.text).toContain('Keeps access when you are not using it');

      const removed = pageOf(await browser.submit(page, { client_id: app.client_id }));
      expect(removed.text).toContain('no longer has access');
      expect(removed.text).toContain('No application has access to your account');
      const refresh = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: app.client_id });
      expect(refresh.body.error).toBe('invalid_grant');
      expect(await stores().durable.userGrants.count({ clientID: app.client_id })).toBe(0);
      // Consent is asked again next time.
      expect(isConsentPage(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path))).toBe(true);
    });

    it('shows no text from a crafted link: only a removal this session made is confirmed', async () => {
      const browser = new Browser(test.app);
      await codeFlowTokens(test.app, app, { browser, email: 'gina@example.com', password: 'gina password 1', query: authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }) });
      const crafted = pageOf(await browser.open(`/u/apps?removed=${encodeURIComponent('Your bank: call +1 555 0100 now. Partner Notes')}`));
      expect(crafted.status).toBe(200);
      expect(crafted.text).not.toContain('call +1 555 0100');
      expect(crafted.text).not.toContain('no longer has access');
      // Someone else's genuine confirmation link names nothing in this session either.
      const other = new Browser(test.app);
      await codeFlowTokens(test.app, app, { browser: other, email: 'gina@example.com', password: 'gina password 1', query: authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }) });
      const removal = await request(test.app).post('/u/apps/remove').type('form').set('Cookie', other.jar.header())
        .send({ client_id: app.client_id, csrf: formOf(pageOf(await other.open('/u/apps')).text).fields.csrf });
      const confirmation = String(removal.headers.location);
      expect(confirmation).toContain(`removed=${app.client_id}`);
      expect(pageOf(await other.open(confirmation)).text).toContain('<strong>Partner Notes</strong> no longer has access');
      expect(pageOf(await browser.open(confirmation)).text).not.toContain('no longer has access');
    });

    it('asks a visitor to sign in first, then shows the page', async () => {
      const browser = new Browser(test.app);
      const login = pageOf(await browser.open('/u/apps'));
      expect(login.text).toContain('to continue to <strong>Your account</strong>');
      const back = await signIn(browser, { page: login }, 'gina@example.com', 'gina password 1');
      expect(callbackOf(back).pathname).toBe('/u/apps/callback');
      expect(pageOf(await browser.open('/u/apps')).text).toContain('Connected apps');
    });

    it('refuses a removal without the form\'s CSRF token', async () => {
      const browser = new Browser(test.app);
      await codeFlowTokens(test.app, app, { browser, email: 'gina@example.com', password: 'gina password 1', query: authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }) });
      await request(test.app).post('/u/apps/remove').type('form').set('Cookie', browser.jar.header()).send({ client_id: app.client_id, csrf: 'forged' });
      expect(await stores().durable.userGrants.count({ clientID: app.client_id })).toBe(1);
    });
  });

  describe('login', () => {
    it('offers third-party applications domain-level connections only, and enforces it on the server', async () => {
      await createConnection(stores(), { name: 'employees' });
      await createUser(stores(), 'hal@example.com', 'hal password 12', 'employees');
      const browser = new Browser(test.app);
      const login = pageOf(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path));
      expect(login.text).not.toContain('employees');
      const forced = pageOf(await browser.submit(login, { email: 'hal@example.com', password: 'hal password 12', connection: 'employees' }));
      expect(forced.status).toBe(401);
      expect(forced.text).toContain('Wrong email or password.');

      // A session made through that connection (with a first-party app) does not count for the third-party app.
      const { app: internal } = await thirdPartyApp(stores(), { is_first_party: true, third_party_security_mode: undefined, client_id: `fp_${Date.now()}`, token_endpoint_auth_method: 'none' });
      const firstParty = await browser.open(authorizeQuery(internal, { scope: 'openid' }).path);
      const loginPage = pageOf(firstParty);
      expect(loginPage.text).toContain('employees');
      callbackOf(await browser.submit(loginPage, { email: 'hal@example.com', password: 'hal password 12', connection: 'employees' }));
      const again = pageOf(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path));
      expect(again.text).toContain('name="password"');
    });

    it('says the same for an unknown email and a wrong password, and slows down guessing per account', async () => {
      const browser = new Browser(test.app);
      const start = await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path);
      const unknown = pageOf(await signIn(browser, start, 'nobody@example.com', 'whatever password'));
      const wrong = pageOf(await browser.submit(unknown, { email: 'ivy@example.com', password: 'wrong password' }));
      expect(unknown.text).toContain('Wrong email or password.');
      expect(wrong.text).toContain('Wrong email or password.');
      await createUser(stores(), 'ivy@example.com', 'ivy password 12');
      let page = wrong;
      for (let i = 0; i < 2; i += 1) page = pageOf(await browser.submit(page, { email: 'ivy@example.com', password: 'wrong password' }));
      const blocked = pageOf(await browser.submit(page, { email: 'ivy@example.com', password: 'ivy password 12' }));
      expect(blocked.status).toBe(429);
      expect(blocked.text).toContain('Too many failed sign-in attempts');
    });

    it('refuses a form post without its CSRF token', async () => {
      const browser = new Browser(test.app);
      const login = pageOf(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path));
      const { action } = formOf(login.text);
      const res = await request(test.app).post(action).type('form').set('Cookie', browser.jar.header()).send({ email: 'gina@example.com', password: 'gina password 1', connection: 'Username-Password-Authentication' });
      expect(res.status).toBe(400);
      expect(res.text).toContain('no longer valid');
    });

    it('marks cookies Secure behind an https proxy', async () => {
      const behindProxy = await startGatehouse({ config: { trustProxy: true, issuer: 'https://id.example.com' } });
      const { app: client } = await thirdPartyApp(behindProxy.gatehouse.stores, { token_endpoint_auth_method: 'none' });
      const res = await request(behindProxy.app).get(authorizeQuery(client, { scope: 'offline_access' }).path).set('X-Forwarded-Proto', 'https');
      const cookies = [res.headers['set-cookie'] ?? []].flat();
      expect(cookies.length).toBeGreaterThan(0);
      for (const cookie of cookies) expect(cookie).toMatch(/;\s*secure/i);
      await behindProxy.close();
    });
  });

  describe('hostile metadata', () => {
    it('is rendered inert on the consent page', async () => {
      const { app: evil } = await thirdPartyApp(stores(), {
        token_endpoint_auth_method: 'none', name: '<script>alert("pwned")</script><img src=x onerror=alert(1)>',
        logo_uri: 'javascript:alert(1)',
      });
      await createGrant(stores(), { client_id: evil.client_id, audience: api.identifier, scope: ['read:notes'] });
      const browser = new Browser(test.app);
      const consent = pageOf(await signIn(browser, await browser.open(authorizeQuery(evil, { audience: api.identifier, scope: 'read:notes' }).path), 'gina@example.com', 'gina password 1'));
      expect(consent.text).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
      expect(consent.text).not.toContain('<script>alert');
      expect(consent.text).not.toContain('<img src=x');
      expect(consent.text).not.toContain('javascript:');
      expect(consent.headers['content-security-policy']).toContain("script-src 'self'");
    });
  });

  describe('branding', () => {
    it('themes the pages from tenant settings, ignoring anything but colours and https logos', async () => {
      const settings = (await stores().durable.settings.get('tenant'))!;
      await stores().durable.settings.update('tenant', { set: { friendly_name: 'Acme Notes', branding: { primary_color: '#aa3300', page_background: 'red;}body{display:none', logo_url: 'http://insecure.example/logo.png' } } });
      const css = await request(test.app).get('/u/theme.css');
      expect(css.text).toContain('--primary: #aa3300;');
      expect(css.text).not.toContain('display:none');
      const login = pageOf(await new Browser(test.app).open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path));
      expect(login.text).toContain('Acme Notes');
      expect(login.text).not.toContain('insecure.example');
      await stores().durable.settings.update('tenant', { set: settings });
    });
  });

  describe('the error page', () => {
    it('explains in plain words, with no stack trace and no link to the callback', async () => {
      const res = await request(test.app).get(`/authorize?client_id=nope&response_type=code&redirect_uri=${encodeURIComponent(CALLBACK)}`);
      expect(res.status).toBe(400);
      expect(res.text).toContain('Unknown application');
      expect(res.text).not.toMatch(/at .*\.(js|ts):\d+/);
      expect(res.text).not.toContain(CALLBACK);
      expect(res.text).toContain(`${new URL(ISSUER).pathname === '/' ? '' : ''}Go back to the application`);
    });

    it('offers a next step when an application has no way to sign in, and names who can fix it', async () => {
      const [domainLevel] = await stores().durable.connections.find({ is_domain_connection: true });
      await stores().durable.connections.update(domainLevel!.id, { set: { is_domain_connection: false } });
      try {
        const res = await new Browser(test.app).open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' }).path);
        const page = pageOf(res);
        expect(page.status).toBe(400);
        expect(page.text).toContain('You cannot sign in to this application yet');
        expect(page.text).toContain('Tell the administrator of this service');
        expect(page.text).toContain('href="/">Go to the start page</a>');
      } finally {
        await stores().durable.connections.update(domainLevel!.id, { set: domainLevel! });
      }
    });

    it('links the tenant\'s help page and email from every page, when set', async () => {
      const settings = (await stores().durable.settings.get('tenant'))!;
      await stores().durable.settings.update('tenant', { set: { support_url: 'https://help.acme.example/sign-in', support_email: 'help@acme.example' } });
      const page = (await request(test.app).get('/nope').set('Accept', 'text/html')).text;
      expect(page).toContain('href="https://help.acme.example/sign-in"');
      expect(page).toContain('href="mailto:help@acme.example"');
      await stores().durable.settings.update('tenant', { set: { support_url: 'javascript:alert(1)' } }); // written around the API's schema
      expect((await request(test.app).get('/nope').set('Accept', 'text/html')).text).not.toContain('javascript:');
      await stores().durable.settings.update('tenant', { set: settings, unset: ['support_url', 'support_email'] });
    });
  });
});
