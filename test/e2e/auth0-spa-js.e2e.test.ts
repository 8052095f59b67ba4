import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createRequire } from 'node:module';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { createApi } from '../support/fixtures.ts';
import { createUser } from '../support/flow.ts';
import { insertApplication } from '../support/harness.ts';
import { chromiumMissing, launchChromium, loopbackCertificate, screenshot, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';

const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] auth0-spa-js skipped: ${chromiumMissing}\n`);

const SDK = readFileSync(createRequire(import.meta.url).resolve('@auth0/auth0-spa-js/dist/auth0-spa-js.production.js'));

/**
 * Auth0's browser SDK, unchanged and in its default setup (redirect login, silent authentication in an iframe with
 * response_mode=web_message, Auth0's /v2/logout), in Chromium against an https Gatehouse whose issuer ends with `/`.
 * The single-page application is served from another origin of the same site (another port of localhost), as Auth0
 * recommends (a custom domain): browsers block third-party cookies in iframes more and more, Chromium's fresh profiles
 * among them, so silent authentication across sites cannot be relied on.
 */
suite(`auth0-spa-js in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let live: LiveGatehouse;
  let spaServer: Server;
  let spaOrigin: string;
  let browser: Browser;
  let clientId: string;
  let audience: string;

  beforeAll(async () => {
    const tls = await loopbackCertificate();
    live = await startLiveGatehouse({ tenant: { friendly_name: 'Acme', default_audience: '', allow_permissive_third_party_clients: false } }, { tls: { ...tls, hostname: 'localhost' }, trailingSlash: true });
    spaServer = createServer(tls, (req, res) => {
      if (req.url === '/auth0-spa-js.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(SDK);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>SPA</title><script src="/auth0-spa-js.js"></script><p id="where">the application</p>');
    });
    await new Promise<void>((resolve) => spaServer.listen(0, '127.0.0.1', resolve));
    spaOrigin = `https://localhost:${(spaServer.address() as { port: number }).port}`;
    const { stores } = live.gatehouse;
    audience = (await createApi(stores, { name: 'Acme API' })).identifier;
    await createUser(stores, 'spa@example.com', 'spa password 123');
    ({ app: { client_id: clientId } } = await insertApplication(stores, {
      name: 'Acme SPA', app_type: 'spa', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'],
      callbacks: [`${spaOrigin}/callback`], web_origins: [spaOrigin], allowed_logout_urls: [`${spaOrigin}/bye`],
    }));
    browser = await launchChromium(['--ignore-certificate-errors']);
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
    await new Promise((resolve) => spaServer?.close(resolve));
  });

  /** Runs the SDK in the application's page, with one client per page load (its cache is in memory, the SDK's default). */
  const inApp = <T>(page: Page, script: string) => page.evaluate(`(async () => {
    const client = window.gatehouseClient ??= await auth0.createAuth0Client(${JSON.stringify({ domain: new URL(live.origin).host, clientId: 'CLIENT', authorizationParams: { redirect_uri: 'CALLBACK', audience: 'AUDIENCE' } })
      .replace('CLIENT', clientId).replace('CALLBACK', `${spaOrigin}/callback`).replace('AUDIENCE', audience)});
    ${script}
  })()`) as Promise<T>;

  it('logs in with redirect, gets a token silently through web_message, and logs out through /v2/logout', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const silentRequests: string[] = [];
    page.on('request', (req) => { if (req.url().includes('response_mode=web_message')) silentRequests.push(req.url()); });
    await page.goto(`${spaOrigin}/`);
    await inApp(page, 'await client.loginWithRedirect();');
    await page.getByLabel('Email').waitFor();
    await page.getByLabel('Email').fill('spa@example.com');
    await page.getByLabel('Password').fill('spa password 123');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${spaOrigin}/callback?**`);

    const user = await inApp<{ sub: string }>(page, 'await client.handleRedirectCallback(); return client.getUser();');
    expect(user.sub).toMatch(/^auth0\|/);
    const first = await inApp<string>(page, 'return client.getTokenSilently();');
    expect(decodeJwt(first)).toMatchObject({ iss: `${live.origin}/`, aud: audience, azp: clientId });

    // No cache: the SDK opens a hidden iframe at /authorize?prompt=none&response_mode=web_message.
    const silent = await inApp<string>(page, 'return client.getTokenSilently({ cacheMode: "off" });');
    expect(silent).not.toBe(first);
    expect(silentRequests).toEqual([expect.stringContaining('prompt=none')]);
    expect(silentRequests[0]).toContain('auth0Client=');
    expect(decodeJwt(silent)).toMatchObject({ iss: `${live.origin}/`, aud: audience, sub: user.sub });

    await inApp(page, `await client.logout({ logoutParams: { returnTo: '${spaOrigin}/bye' } });`);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await screenshot(page, 'spa-js-logout');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${spaOrigin}/bye`);
    // Signed out: silent authentication now needs a login.
    await expect(inApp(page, 'return client.getTokenSilently({ cacheMode: "off" });')).rejects.toThrow('End-User authentication is required'); // login_required
    await context.close();
  });
});
