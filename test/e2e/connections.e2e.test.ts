import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import express from 'express';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.ts';
import { upstreamCallbackUrl } from '../../src/domain/links.ts';
import { createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { createUser } from '../support/flow.ts';
import { memoryStores } from '../support/harness.ts';
import { checkPage, chromiumMissing, launchChromium, phonePage } from '../support/browser.ts';
import { linkIn, startSmtp, type TestSmtp } from '../support/smtp.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../support/upstream-idp.ts';

const APP_CALLBACK = 'https://partner.example/callback';
const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] connections skipped: ${chromiumMissing}\n`);

suite(`connections, sign-up and password reset in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let server: Server;
  let origin: string;
  let gatehouse: Gatehouse;
  const stores = memoryStores();
  let idp: UpstreamIdp;
  let smtp: TestSmtp;
  let browser: Browser;
  let audience: string;
  let partnerId: string;

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    smtp = await startSmtp();
    idp = await startUpstreamIdp([upstreamCallbackUrl(origin)]);
    idp.accounts.set('grace', { email: 'grace@navy.example', email_verified: true, name: 'Grace Hopper' });
    gatehouse = await createGatehouse({
      config: { env: 'test', logLevel: 'silent', issuer: origin, tenant: { friendly_name: 'Acme', default_audience: '', allow_permissive_third_party_clients: false }, mail: { smtp_url: smtp.url, from: 'Acme <accounts@acme.example>', templates_dir: '/nonexistent' } },
      stores,
    });
    const app = express();
    app.use(gatehouse.router);
    server.on('request', app);
    const api = await createApi(stores, { name: 'Acme Notes API' });
    audience = api.identifier;
    await createGrant(stores, { default_for: 'third_party_clients', audience, scope: ['read:notes'] });
    partnerId = (await thirdPartyApp(stores, { name: 'Partner Notes', token_endpoint_auth_method: 'none', callbacks: [APP_CALLBACK] })).app.client_id;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gatehouse?.close();
    await stores.close();
    await idp?.close();
    await smtp?.close();
  });

  /** The Management API of the live Gatehouse, with the admin application's token. */
  async function management() {
    const { client_id, client_secret } = gatehouse.adminCredentials;
    const token = await fetch(`${origin}/oauth/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret: client_secret as string, audience: `${origin}/api/v2/` }),
    }).then(async (res) => ((await res.json()) as { access_token: string }).access_token);
    return async (method: string, path: string, body?: unknown, expected = 200) => {
      const res = await fetch(`${origin}/api/v2${path}`, {
        method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
  }

  function authorizeUrl() {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: partnerId, response_type: 'code', redirect_uri: APP_CALLBACK, scope: 'read:notes offline_access', audience,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', state: 'xyz',
    });
    return { url: `${origin}/authorize?${query}`, verifier };
  }

  async function newPage(): Promise<Page> {
    const page = await phonePage(browser);
    await page.route('https://partner.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>back at the partner</p>' }));
    return page;
  }

  async function exchange(page: Page, verifier: string) {
    await page.waitForURL(/partner\.example\/callback/);
    const code = new URL(page.url()).searchParams.get('code') as string;
    const res = await fetch(`${origin}/oauth/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: APP_CALLBACK, code_verifier: verifier, client_id: partnerId }),
    });
    return (await res.json()) as { access_token: string; refresh_token: string };
  }

  it('signs a user in to a third-party application through a domain-level oidc connection, through consent, to a token', async () => {
    const api = await management();
    await api('POST', '/connections', {
      name: 'navy', strategy: 'oidc', display_name: 'Navy SSO', is_domain_connection: true,
      options: { discovery_url: `${idp.issuer}/.well-known/openid-configuration`, ...idp.client, domain_aliases: ['navy.example'] },
    }, 201);
    idp.next.login = 'grace';
    const page = await newPage();
    const { url, verifier } = authorizeUrl();
    await page.goto(url);
    await page.waitForSelector('button:has-text("Continue with Navy SSO")');
    expect(await page.textContent('main')).toContain('Forgot password?');
    await checkPage(page, 'login-with-providers');
    await page.click('button:has-text("Continue with Navy SSO")');
    await page.waitForSelector('button[value=accept]');
    expect(await page.textContent('main')).toContain('grace@navy.example');
    await checkPage(page, 'consent-after-upstream');
    await page.click('button[value=accept]');
    const tokens = await exchange(page, verifier);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: 'oidc|navy|grace', aud: audience, scope: 'read:notes' });
    await page.context().close();
  });

  it('refuses the same kind of connection to the third-party application while it is not promoted', async () => {
    const api = await management();
    const internal = await api('POST', '/connections', {
      name: 'navy-internal', strategy: 'oidc', display_name: 'Navy Internal', options: { issuer: idp.issuer, ...idp.client },
    }, 201);
    const page = await newPage();
    await page.goto(authorizeUrl().url);
    await page.waitForSelector('h1:has-text("Sign in")');
    expect(await page.textContent('main')).not.toContain('Navy Internal');
    await checkPage(page, 'login-without-internal-connection');
    await page.goto(`${authorizeUrl().url}&connection=navy-internal`); // asking for it by name changes nothing
    await page.waitForSelector('h1:has-text("Sign in")');
    expect(await page.textContent('main')).not.toContain('Navy Internal');
    await api('DELETE', `/connections/${internal.id}`, undefined, 204);
    await page.context().close();
  });

  it('shows what happened when the provider refuses, with its error code', async () => {
    idp.next.error = 'access_denied';
    const page = await newPage();
    await page.goto(authorizeUrl().url);
    await page.click('button:has-text("Continue with Navy SSO")');
    await page.waitForSelector('h1:has-text("Navy SSO did not sign you in")');
    idp.next.error = undefined;
    expect(await page.textContent('main')).toContain('access_denied');
    await checkPage(page, 'upstream-error');
    await page.click('a:has-text("Try signing in again")');
    await page.waitForSelector('h1:has-text("Sign in")');
    await page.context().close();
  });

  it('signs up, mails a verification link, and verifies the address', async () => {
    const page = await newPage();
    await page.goto(authorizeUrl().url);
    await page.click('a:has-text("Sign up")');
    await page.waitForSelector('h1:has-text("Create your account")');
    await checkPage(page, 'signup');
    await page.fill('#email', 'linus@example.com');
    await page.fill('#password', 'short');
    // The browser's own minlength check would stop the form; the server's answer is what is tested.
    await page.$eval('#password', (input) => input.removeAttribute('minlength'));
    await page.click('button:has-text("Sign up")');
    await page.waitForSelector('text=Choose a stronger password');
    await checkPage(page, 'signup-weak-password');
    await page.fill('#password', 'penguins all the way down');
    await page.click('button:has-text("Sign up")');
    await page.waitForSelector('button[value=accept]');

    const mail = await smtp.nextMailTo('linus@example.com');
    const link = linkIn(mail, '/u/email-verification');
    const landing = await newPage();
    await landing.goto(link);
    await landing.waitForSelector('h1:has-text("Verify your email address")');
    await checkPage(landing, 'verify-email');
    await landing.click('button:has-text("Verify my email address")');
    await landing.waitForSelector('h1:has-text("Your email address is verified")');
    await checkPage(landing, 'email-verified');
    const [user] = await stores.durable.users.find({ email: 'linus@example.com' });
    expect(user?.email_verified).toBe(true);
    await page.context().close();
    await landing.context().close();
  });

  it('resets a forgotten password by email: the new one signs in, the old refresh token is dead', async () => {
    await createUser(stores, 'ada@example.com', 'analytical engine 1');
    const first = await newPage();
    const start = authorizeUrl();
    await first.goto(start.url);
    await first.fill('#email', 'ada@example.com');
    await first.fill('#password', 'analytical engine 1');
    await first.click('button[type=submit]:text-is("Continue")');
    await first.click('button[value=accept]');
    const before = await exchange(first, start.verifier);
    await first.context().close();

    const page = await newPage();
    await page.goto(authorizeUrl().url);
    await page.click('a:has-text("Forgot password?")');
    await page.waitForSelector('h1:has-text("Forgot your password?")');
    await checkPage(page, 'forgot-password');
    await page.fill('#email', 'ada@example.com');
    await page.click('button:has-text("Send the link")');
    await page.waitForSelector('h1:has-text("Check your email")');
    await checkPage(page, 'reset-email-sent');

    const link = linkIn(await smtp.nextMailTo('ada@example.com'), '/u/reset-password');
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10)); // tokens carry whole seconds
    const reset = await newPage();
    await reset.goto(link);
    await reset.waitForSelector('h1:has-text("Choose a new password")');
    await checkPage(reset, 'reset-password');
    await reset.fill('#password', 'difference engine 2');
    await reset.click('button:has-text("Change my password")');
    await reset.waitForSelector('h1:has-text("Your password was changed")');
    await checkPage(reset, 'password-changed');

    const refresh = await fetch(`${origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: before.refresh_token, client_id: partnerId }) });
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');

    const again = authorizeUrl();
    await page.goto(again.url);
    await page.fill('#email', 'ada@example.com');
    await page.fill('#password', 'difference engine 2');
    await page.click('button[type=submit]:text-is("Continue")');
    // The consent given before the reset still stands: straight back to the application.
    const after = await exchange(page, again.verifier);
    expect(decodeJwt(after.access_token).aud).toBe(audience);
    await page.context().close();
    await reset.context().close();
  });
});
