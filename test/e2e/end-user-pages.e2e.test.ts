import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { contrastRatio, DEFAULT_BRANDING } from '../../src/domain/branding.ts';
import { createApi, createConnection, createGrant } from '../support/fixtures.ts';
import { createUser } from '../support/flow.ts';
import { checkPage, chromiumMissing, launchChromium, phonePage, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';

const CALLBACK = 'http://127.0.0.1:7777/callback';

/** A computed CSS colour (`rgb()`, `rgba()` or `color(srgb …)`) as `#rrggbb`, laid over white when it is translucent. */
function opaqueHex(css: string): string {
  const srgb = /^color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)(?: \/ ([\d.]+))?\)$/.exec(css);
  const rgb = /^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)$/.exec(css);
  const channels = srgb ? srgb.slice(1, 4).map((c) => Number(c) * 255) : rgb ? rgb.slice(1, 4).map(Number) : undefined;
  if (!channels) throw new Error(`unexpected colour ${css}`);
  const alpha = Number((srgb ?? rgb)?.[4] ?? 1);
  return `#${channels.map((c) => Math.round(c * alpha + 255 * (1 - alpha)).toString(16).padStart(2, '0')).join('')}`;
}
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
    await stores.durable.settings.update('tenant', { set: { flags: { ...settings.flags, enable_dynamic_client_registration: true } } });
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
    await checkPage(page, 'login');
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('button[value=accept]');
    const consent = await page.textContent('main');
    expect(consent).toContain('Notes Helper');
    expect(consent).toContain('registered itself');
    expect(consent).toContain('Read your notes');
    expect(consent).toContain('Keeps access when you are not using it');
    expect(consent).toContain('127.0.0.1:7777');
    await checkPage(page, 'consent');
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

  it('shows the connected app and when it was last used, removes it, and the refresh token stops working', async () => {
    await live.gatehouse.activity.flush(); // connection activity is written in aggregate, every minute
    const page = await phonePage(browser);
    await page.goto(`${live.origin}/u/apps`);
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('text=Connected apps');
    expect(await page.textContent('main')).toContain('Notes Helper');
    expect(await page.textContent('.apps .owner')).toMatch(/since \d{4}-\d{2}-\d{2} · last used today$/);
    expect(await page.getAttribute('.apps .owner time', 'datetime')).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await checkPage(page, 'connected-apps');
    await page.click('button:has-text("Remove access")');
    await page.waitForSelector('.notice');
    expect(await page.textContent('.notice')).toContain('Notes Helper no longer has access');
    await checkPage(page, 'connected-apps-removed');
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
    expect(await page.textContent('main')).toContain('nothing was shared');
    await checkPage(page, 'error-denied');
    await page.click('a:has-text("See your connected apps")'); // a way forward, not a dead end
    await page.waitForSelector('h1:has-text("Connected apps")');
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
    await checkPage(page, 'login-refused');
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
    await checkPage(page, 'consent-hostile-name');
    await page.context().close();
  });

  it('signs out from the connected-apps page, asking first', async () => {
    const page = await phonePage(browser);
    await page.goto(`${live.origin}/u/apps`);
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('text=Connected apps');
    await page.click('a:has-text("Sign out")');
    await page.waitForSelector('h1:has-text("Sign out?")');
    await checkPage(page, 'logout');
    await page.click('button[name=logout]');
    await page.waitForSelector('h1:has-text("You are signed out")');
    await checkPage(page, 'signed-out');
    await page.goto(`${live.origin}/u/apps`);
    await page.waitForSelector('#password'); // signed out for real: the page asks to sign in again
    // A sign-out link followed when already signed out: oidc-provider posts its form by itself (a script its CSP hash
    // allows) and the person lands on the same page, not on a dead end.
    await page.goto(`${live.origin}/oidc/logout`);
    await page.waitForSelector('h1:has-text("You are signed out")');
    await page.context().close();
  });

  it('explains an unknown application in plain words', async () => {
    const page = await phonePage(browser);
    await page.goto(`${live.origin}/authorize?client_id=unknown&response_type=code&redirect_uri=${encodeURIComponent(CALLBACK)}`);
    await page.waitForSelector('text=Unknown application');
    // The library's wording is folded away for the developer; the person reads plain words and gets a way on.
    expect(await page.innerText('main')).not.toContain('client is invalid');
    await page.click('summary');
    expect(await page.innerText('main')).toContain('client is invalid');
    await checkPage(page, 'error-unknown-app');
    await page.click('a:has-text("Go to the start page")');
    await page.waitForSelector('h1:has-text("Welcome to Acme Notes")');
    await page.context().close();
  });

  it('keeps the session when the person chooses to stay signed in, and says so', async () => {
    const page = await phonePage(browser);
    await page.goto(`${live.origin}/u/apps`);
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('h1:has-text("Connected apps")');
    await page.click('a:has-text("Sign out")');
    await page.click('button:has-text("Stay signed in")');
    await page.waitForSelector('h1:has-text("You are still signed in")');
    await checkPage(page, 'still-signed-in');
    await page.click('a:has-text("See your connected apps")');
    await page.waitForSelector('h1:has-text("Connected apps")'); // no password asked: the session lives on, as the page said
    await page.context().close();
  });

  it('tells the truth when an application asks to sign the person out and they stay signed in', async () => {
    const page = await phonePage(browser);
    await page.goto(`${live.origin}/u/apps`);
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('h1:has-text("Connected apps")');
    await page.goto(`${live.origin}/oidc/logout?client_id=${encodeURIComponent(registeredClient)}`);
    expect(await page.textContent('.lead')).toContain('Notes Helper asked to sign you out.');
    await checkPage(page, 'logout-asked-by-app');
    await page.click('button:has-text("Stay signed in")');
    await page.waitForSelector('h1:has-text("You are still signed in")');
    expect(await page.textContent('.lead')).toContain('you are signed out of Notes Helper only');
    await checkPage(page, 'still-signed-in-app');
    await page.goto(`${live.origin}/u/apps`);
    await page.waitForSelector('h1:has-text("Connected apps")');
    await page.context().close();
  });

  it('explains a sign-in page opened directly, and offers to sign in to the account', async () => {
    const page = await phonePage(browser);
    const res = await page.goto(`${live.origin}/u/login`);
    expect(res?.status()).toBe(400);
    expect(await page.textContent('h1')).toBe('This sign-in has expired');
    await checkPage(page, 'login-expired');
    await page.click('a:has-text("Sign in to your account")');
    await signInOnPage(page, 'jo@example.com', 'jo password 123');
    await page.waitForSelector('h1:has-text("Connected apps")');
    await page.context().close();
  });

  it('offers a start page at / with the tenant\'s name, where to go, and a favicon, under the CSP', async () => {
    const page = await phonePage(browser); // checkPage fails on anything the CSP refused, the favicon included
    const res = await page.goto(`${live.origin}/`);
    expect(res?.status()).toBe(200);
    expect(await page.textContent('h1')).toBe('Welcome to Acme Notes');
    expect(await page.getAttribute('a:has-text("Your connected apps")', 'href')).toBe('/u/apps');
    expect(await page.getAttribute('a:has-text("Developer portal")', 'href')).toBe('/developers');
    expect(await page.getAttribute('a:has-text("OpenID Connect discovery")', 'href')).toBe(`${live.origin}/.well-known/openid-configuration`);
    const icon = await page.request.get(new URL((await page.getAttribute('link[rel=icon]', 'href')) as string, live.origin).toString());
    expect([icon.status(), icon.headers()['content-type']]).toEqual([200, 'image/svg+xml']);
    const ico = await page.request.get(`${live.origin}/favicon.ico`);
    expect([ico.status(), ico.headers()['content-type']]).toEqual([200, 'image/vnd.microsoft.icon']);
    await checkPage(page, 'home');
    await page.click('a:has-text("Developer portal")');
    await page.waitForSelector('nav.tabs');
    await page.context().close();
  });

  it('answers an unknown path with a page that leads somewhere, without repeating the path', async () => {
    const page = await phonePage(browser);
    const res = await page.goto(`${live.origin}/Your-account-is-locked-call-555-0100`);
    expect(res?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('Page not found');
    expect(await page.textContent('main')).not.toContain('555');
    await checkPage(page, 'not-found');
    await page.click('a:has-text("Go to the start page")');
    await page.waitForSelector('h1:has-text("Welcome to Acme Notes")');
    await page.context().close();
  });

  it('keeps controls readable: focus ring and field borders at 3:1, and brand colours that would not be are replaced', async () => {
    const { durable } = live.gatehouse.stores;
    const settings = (await durable.settings.get('tenant'))!;
    // Written around the Management API (which refuses them): white text on gold is 1.4:1.
    await durable.settings.update('tenant', { set: { branding: { primary_color: '#ffd700', page_background: '#ffffff' } } });
    try {
      const { client_id } = await registerClient();
      const page = await phonePage(browser);
      await page.goto(authorizeUrl(client_id).url);
      await page.focus('#email');
      const colours = await page.evaluate(`(() => {
        const style = (selector) => getComputedStyle(document.querySelector(selector));
        return { ring: style('#email').outlineColor, ringStyle: style('#email').outlineStyle, border: style('#password').borderTopColor,
          card: style('main').backgroundColor, button: style('button.primary').backgroundColor, buttonText: style('button.primary').color };
      })()`) as Record<'ring' | 'ringStyle' | 'border' | 'card' | 'button' | 'buttonText', string>;
      const card = opaqueHex(colours.card);
      expect(colours.ringStyle).toBe('solid');
      expect(contrastRatio(opaqueHex(colours.ring), card)).toBeGreaterThanOrEqual(3);
      expect(contrastRatio(opaqueHex(colours.border), card)).toBeGreaterThanOrEqual(3);
      expect(opaqueHex(colours.button)).toBe(DEFAULT_BRANDING.primary_color);
      expect(contrastRatio(opaqueHex(colours.buttonText), opaqueHex(colours.button))).toBeGreaterThanOrEqual(4.5);
      await checkPage(page, 'login-unreadable-branding');

      await durable.settings.update('tenant', { set: { branding: { primary_color: '#aa3300', page_background: '#fff4ec' } } });
      await page.goto(`${live.origin}/`);
      expect(opaqueHex(await page.evaluate<string>("getComputedStyle(document.querySelector('.destinations a')).color"))).toBe('#aa3300');
      await checkPage(page, 'home-branded');
      await page.context().close();
    } finally {
      await durable.settings.update('tenant', { set: settings });
    }
  });
});
