import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { createApi, createConnection, createGrant } from '../support/fixtures.ts';
import { createUser } from '../support/flow.ts';
import { chromiumMissing, launchChromium, phonePage, screenshot, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';

const CALLBACK = 'http://127.0.0.1:7777/callback';
const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] end-user pages skipped: ${chromiumMissing}\n`);

suite(`end-user pages in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let live: LiveGatehouse;
  let browser: Browser;
  let apiIdentifier: string;

  beforeAll(async () => {
    live = await startLiveGatehouse({ tenant: { friendly_name: 'Acme Notes', default_audience: '', allow_permissive_third_party_clients: false } });
    const { stores } = live.gatehouse;
    const settings = (await stores.durable.settings.get('tenant'))!;
    await stores.durable.settings.replace({ ...settings, flags: { enable_dynamic_client_registration: true } });
    const api = await createApi(stores, { name: 'Acme Notes API' });
    apiIdentifier = api.identifier;
    await createGrant(stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes', 'write:notes'] });
    await createUser(stores, 'jo@example.com', 'jo password 123');
    await createConnection(stores, { name: 'employees' });
    await createUser(stores, 'staff@example.com', 'staff password 1', 'employees');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });

  async function registerClient(metadata: Record<string, unknown> = {}) {
    const res = await fetch(`${live.origin}/oidc/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Notes Helper', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none', ...metadata }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { client_id: string };
  }

  function authorizeUrl(clientId: string, extra: Record<string, string> = {}) {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: clientId, response_type: 'code', redirect_uri: CALLBACK, scope: 'read:notes write:notes offline_access', resource: apiIdentifier,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', state: 'abc', ...extra,
    });
    return { url: `${live.origin}/authorize?${query}`, verifier };
  }

  /** The client's callback: answered in the browser, so the test reads the code from the URL. */
  async function catchCallback(page: Page) {
    await page.route('http://127.0.0.1:7777/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>back at the app</p>' }));
  }

  async function signInOnPage(page: Page, email: string, password: string) {
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
  }

  let refreshToken: string;
  let registeredClient: string;

  it('takes a dynamically registered public client through login, consent, code and token with PKCE', async () => {
    const { client_id } = await registerClient();
    registeredClient = client_id;
    const page = await phonePage(browser);
    await catchCallback(page);
    const { url, verifier } = authorizeUrl(client_id);
    await page.goto(url);
    await page.waitForSelector('#email');
    expect(await page.textContent('h1')).toBe('Sign in');
    await screenshot(page, 'login');
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('button[value=accept]');
    const consent = await page.textContent('main');
    expect(consent).toContain('Notes Helper');
    expect(consent).toContain('registered itself');
    expect(consent).toContain('Read your notes');
    expect(consent).toContain('Keeps access when you are not using it');
    expect(consent).toContain('127.0.0.1:7777');
    await screenshot(page, 'consent');
    await page.click('button[value=accept]');
    await page.waitForURL(/127\.0\.0\.1:7777\/callback/);
    const code = new URL(page.url()).searchParams.get('code') as string;
    const tokens = await (await fetch(`${live.origin}/oauth/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id }),
    })).json() as { access_token: string; refresh_token: string };
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: apiIdentifier, scope: 'read:notes write:notes' });
    refreshToken = tokens.refresh_token;
    await page.context().close();
  });

  it('shows the connected app, removes it, and the refresh token stops working', async () => {
    const page = await phonePage(browser);
    await page.goto(`${live.origin}/u/apps`);
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('text=Connected apps');
    expect(await page.textContent('main')).toContain('Notes Helper');
    await screenshot(page, 'connected-apps');
    await page.click('button:has-text("Remove access")');
    await page.waitForSelector('.notice');
    expect(await page.textContent('.notice')).toContain('Notes Helper no longer has access');
    await screenshot(page, 'connected-apps-removed');
    const refresh = await fetch(`${live.origin}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: registeredClient }) });
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
    await page.context().close();
  });

  it('on Deny stays on Gatehouse\'s error page (open-redirect protection)', async () => {
    const { client_id } = await registerClient();
    const page = await phonePage(browser);
    await catchCallback(page);
    await page.goto(authorizeUrl(client_id).url);
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.click('button[value=deny]');
    await page.waitForSelector('text=Access was not granted');
    expect(page.url().startsWith(live.origin)).toBe(true);
    expect(await page.textContent('main')).toContain('access_denied');
    await screenshot(page, 'error-denied');
    await page.context().close();
  });

  it('refuses a third-party app a connection that is not domain-level', async () => {
    const { client_id } = await registerClient();
    const page = await phonePage(browser);
    await page.goto(authorizeUrl(client_id).url);
    expect(await page.locator('select#connection').count()).toBe(0); // only the domain-level connection is offered
    await signInOnPage(page, 'staff@example.com', 'staff password 1');
    await page.waitForSelector('.alert');
    expect(await page.textContent('.alert')).toBe('Wrong email or password.');
    await screenshot(page, 'login-refused');
    await page.context().close();
  });

  it('renders a hostile client name inert', async () => {
    const { client_id } = await registerClient({ client_name: '<img src=x onerror=alert(1)><script>alert(2)</script>Evil "App"' });
    const page = await phonePage(browser); // any dialog fails the test
    await page.goto(authorizeUrl(client_id).url);
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('button[value=accept]');
    expect(await page.textContent('h1')).toContain('<img src=x onerror=alert(1)><script>alert(2)</script>Evil "App"');
    expect(await page.locator('main img[src=x], main script').count()).toBe(0);
    await screenshot(page, 'consent-hostile-name');
    await page.context().close();
  });

  it('signs out from the connected-apps page, asking first', async () => {
    const page = await phonePage(browser);
    await page.goto(`${live.origin}/u/apps`);
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('text=Connected apps');
    await page.click('a:has-text("Sign out")');
    await page.waitForSelector('h1:has-text("Sign out?")');
    await screenshot(page, 'logout');
    await page.click('button[name=logout]');
    await page.waitForSelector('h1:has-text("You are signed out")');
    await screenshot(page, 'signed-out');
    await page.goto(`${live.origin}/u/apps`);
    await page.waitForSelector('#password'); // signed out for real: the page asks to sign in again
    await page.context().close();
  });

  it('explains an unknown application in plain words', async () => {
    const page = await phonePage(browser);
    await page.goto(`${live.origin}/authorize?client_id=unknown&response_type=code&redirect_uri=${encodeURIComponent(CALLBACK)}`);
    await page.waitForSelector('text=Unknown application');
    await screenshot(page, 'error-unknown-app');
    await page.context().close();
  });
});
