import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import type { Stores } from '../../src/store/index.ts';
import { createApi, createGrant } from '../support/fixtures.ts';
import { createUser } from '../support/flow.ts';
import { checkPage, chromiumMissing, launchChromium, phonePage, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';

const CALLBACK = 'https://notes-sync.example.com/callback';
const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] developer portal skipped: ${chromiumMissing}\n`);

async function setRegistration(stores: Stores, enabled: boolean) {
  const settings = (await stores.durable.settings.get('tenant'))!;
  await stores.durable.settings.update('tenant', { set: { support_email: 'apis@acme.example', flags: { ...settings.flags, enable_dynamic_client_registration: enabled } } });
}

suite(`developer portal in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let live: LiveGatehouse;
  let browser: Browser;

  beforeAll(async () => {
    live = await startLiveGatehouse({ tenant: { friendly_name: 'Acme Notes', default_audience: '', allow_permissive_third_party_clients: false } });
    const { stores } = live.gatehouse;
    await setRegistration(stores, true);
    const api = await createApi(stores, { name: 'Acme Notes API', identifier: 'https://notes.acme.example/api/' });
    await createGrant(stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes', 'write:notes'] });
    await createUser(stores, 'jo@example.com', 'jo password 123');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });

  async function portalPage(path: string): Promise<Page> {
    const page = await phonePage(browser);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: live.origin });
    await page.goto(`${live.origin}/developers${path}`);
    return page;
  }

  it('shows the API catalogue', async () => {
    const page = await portalPage('');
    const text = await page.textContent('main');
    expect(text).toContain('Acme Notes API');
    expect(text).toContain('https://notes.acme.example/api/');
    expect(text).toContain('Read your notes');
    expect(text).not.toContain('Delete your notes');
    expect(text).toContain('Example API'); // seeded with a default grant
    await checkPage(page, 'portal-catalogue');
    await page.context().close();
  });

  it('registers an application through the form: a bad redirect URI first, then credentials that sign someone in', async () => {
    const page = await portalPage('/register');
    await page.fill('#client_name', 'Notes Sync');
    await page.check('input[name=app_type][value=web]');
    await page.fill('#redirect_uris', `${CALLBACK}\nhttp://notes-sync.example.com/callback`);
    await page.fill('#client_uri', 'https://notes-sync.example.com');
    await page.click('button[type=submit]');
    await page.waitForSelector('#redirect_uris-error');
    expect(await page.textContent('#redirect_uris-error')).toContain('Redirect URI 2: "http://notes-sync.example.com/callback" must use https');
    expect(await page.inputValue('#client_name')).toBe('Notes Sync');
    await checkPage(page, 'portal-register-error');

    await page.fill('#redirect_uris', CALLBACK);
    await page.click('button[type=submit]');
    await page.waitForSelector('#client-secret');
    const clientId = (await page.textContent('#client-id')) as string;
    const secret = (await page.textContent('#client-secret')) as string;
    expect(clientId).toMatch(/^tpc_/);
    expect(await page.textContent('main')).toContain('it will not be shown again');
    expect(page.url()).toBe(`${live.origin}/developers/register`); // the secret is in no URL
    await page.click('button[data-copy=client-id]');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(clientId);
    expect(await page.textContent('button[data-copy=client-id]')).toBe('Copied');
    await checkPage(page, 'portal-credentials');

    // The ready authorization URL and the example verifier take a person through sign-in and consent to a token.
    const authorizeUrl = (await page.textContent('#authorize-url')) as string;
    const verifier = /code_verifier=([\w-]+)/.exec((await page.textContent('#token-request')) as string)?.[1] as string;
    await page.route('https://notes-sync.example.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>back at Notes Sync</p>' }));
    await page.goto(authorizeUrl);
    await page.fill('#email', 'jo@example.com');
    await page.fill('#password', 'jo password 123');
    await page.click('button[type=submit]');
    await page.waitForSelector('button[value=accept]');
    expect(await page.textContent('main')).toContain('Notes Sync');
    await page.click('button[value=accept]');
    await page.waitForURL(/notes-sync\.example\.com\/callback/);
    const code = new URL(page.url()).searchParams.get('code') as string;
    const tokens = await (await fetch(`${live.origin}/oauth/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, client_secret: secret, code, redirect_uri: CALLBACK, code_verifier: verifier }),
    })).json() as { access_token: string; refresh_token: string };
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: 'https://notes.acme.example/api/', scope: 'read:notes write:notes' });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    await page.context().close();
  });

  it('explains how to get started', async () => {
    const page = await portalPage('/getting-started');
    const text = await page.textContent('main');
    expect(text).toContain(`${live.origin}/.well-known/openid-configuration`);
    expect(text).toContain('No implicit flow');
    expect(await page.getAttribute('a:has-text("connected apps")', 'href')).toBe(`${live.origin}/u/apps`);
    await checkPage(page, 'portal-getting-started');
    await page.context().close();
  });

  it('still shows the catalogue when registration is disabled, and says whom to ask', async () => {
    await setRegistration(live.gatehouse.stores, false);
    const page = await portalPage('');
    expect(await page.textContent('.closed')).toContain('Registration is closed.');
    expect(await page.getAttribute('.closed a', 'href')).toBe('mailto:apis@acme.example');
    expect(await page.textContent('main')).toContain('Acme Notes API');
    await checkPage(page, 'portal-disabled');
    await page.goto(`${live.origin}/developers/register`);
    expect(await page.locator('form #client_name').count()).toBe(0);
    await page.context().close();
  });
});
