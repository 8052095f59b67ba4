import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { startDocumentHost, type DocumentHost } from '../support/document-host.ts';
import { createApi, createGrant } from '../support/fixtures.ts';
import { createUser } from '../support/flow.ts';
import { checkPage, chromiumMissing, launchChromium, phonePage, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';

const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] agent pages skipped: ${chromiumMissing}\n`);

const CALLBACK = 'https://agent.example.com/callback';

/** The pages a person meets when an AI agent asks for access: consent that says who is asking, and each refusal. */
suite(`agent pages in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let live: LiveGatehouse;
  let documents: DocumentHost;
  let browser: Browser;
  let apiIdentifier: string;
  let knownUrl: string;

  beforeAll(async () => {
    documents = await startDocumentHost();
    knownUrl = `${documents.origin}/vendor/client.json`;
    live = await startLiveGatehouse({
      tenant: { friendly_name: 'Acme Notes', default_audience: '', allow_permissive_third_party_clients: false },
      cimd: { allowed_private_hosts: ['localhost'], known_agents: [{ client_id: knownUrl, name: 'Acme Assistant', vendor: 'Acme AI' }] },
    });
    const { stores } = live.gatehouse;
    const settings = (await stores.durable.settings.get('tenant'))!;
    await stores.durable.settings.update('tenant', {
      set: {
        flags: { ...settings.flags, enable_dynamic_client_registration: true }, client_id_metadata_document_supported: true,
        self_registered_clients: { ...settings.self_registered_clients, initial_trust: { dynamic_registration: 'pending', client_id_metadata_document: 'trusted' } },
      },
    });
    const api = await createApi(stores, { name: 'Acme Notes API' });
    apiIdentifier = api.identifier;
    await createGrant(stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes'] });
    await createUser(stores, 'jo@example.com', 'jo password 123');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
    await documents?.close();
  });

  function authorizeUrl(clientId: string, redirectUri = CALLBACK) {
    const query = new URLSearchParams({
      client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'read:notes', resource: apiIdentifier,
      code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'), code_challenge_method: 'S256', state: 'abc',
    });
    return `${live.origin}/authorize?${query}`;
  }

  async function consentPageFor(page: Page, clientId: string, redirectUri = CALLBACK) {
    await page.goto(authorizeUrl(clientId, redirectUri));
    await page.fill('#email', 'jo@example.com');
    await page.fill('#password', 'jo password 123');
    await page.click('button[type=submit]');
    await page.waitForSelector('button[value=accept]');
  }

  const publish = (path: string, name: string, redirect = CALLBACK, extra: Record<string, unknown> = {}) =>
    documents.serve(path, { client_id: `${documents.origin}${path}`, client_name: name, redirect_uris: [redirect], token_endpoint_auth_method: 'none', ...extra });

  it('consent says "Verified" for a known agent\'s exact client id URL, with its document\'s host', async () => {
    publish('/vendor/client.json', 'Acme Assistant');
    const page = await phonePage(browser);
    await consentPageFor(page, knownUrl);
    expect(await page.textContent('.owner')).toBe('A third-party application, not made by this service.');
    expect(await page.textContent('.verified')).toContain('Verified: Acme AI');
    expect(await page.textContent('main')).toContain(`Described by ${new URL(knownUrl).host}`);
    expect(await page.$('.warning')).toBeNull();
    await checkPage(page, 'agents-consent-verified');
    await page.context().close();
  });

  it('consent warns that an unverified name imitating a known agent is only what the application calls itself', async () => {
    const url = publish('/impostor/client.json', 'ChatGPT', 'http://127.0.0.1/callback');
    const page = await phonePage(browser);
    await consentPageFor(page, url, 'http://127.0.0.1:41111/callback');
    expect(await page.textContent('.warning')).toContain('“ChatGPT” is the name this application gave itself, and it is not verified');
    expect(await page.textContent('.redirect')).toContain('127.0.0.1:41111, an application on this computer');
    expect(await page.$('.verified')).toBeNull();
    await checkPage(page, 'agents-consent-warning');
    await page.context().close();
  });

  it('tells the person plainly that an application awaits the administrator\'s approval, or was blocked', async () => {
    const res = await fetch(`${live.origin}/oidc/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Notes Helper', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none' }),
    });
    const { client_id } = (await res.json()) as { client_id: string };
    const page = await phonePage(browser);
    const answer = await page.goto(authorizeUrl(client_id));
    expect(answer?.status()).toBe(400);
    expect(await page.textContent('h1')).toBe('Notes Helper is waiting for approval');
    await checkPage(page, 'agents-pending');

    await live.gatehouse.stores.durable.applications.update(client_id, { set: { trust: 'blocked' } });
    await page.goto(authorizeUrl(client_id));
    expect(await page.textContent('h1')).toBe('Notes Helper has been blocked');
    await checkPage(page, 'agents-blocked');
    await page.context().close();
  });

  it('stops with a plain page when an application\'s metadata document cannot be fetched', async () => {
    const page = await phonePage(browser);
    const answer = await page.goto(authorizeUrl(`${documents.origin}/gone/client.json`));
    expect(answer?.status()).toBe(400);
    expect(await page.textContent('h1')).toBe('This application could not be checked');
    expect(await page.textContent('main')).toContain(new URL(documents.origin).host);
    await page.click('summary');
    expect(await page.textContent('details')).toContain('answered 404');
    await checkPage(page, 'agents-document-unavailable');
    await page.context().close();
  });
});
