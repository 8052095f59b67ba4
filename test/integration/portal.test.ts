import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import request from 'supertest';
import type { NetworkAcl } from '../../src/domain/model.ts';
import { csrfToken } from '../../src/http/pages/render.ts';
import type { Stores } from '../../src/store/index.ts';
import { draftClientGrant } from '../../src/domain/client-grant-rules.ts';
import { newId } from '../../src/domain/ids.ts';
import { createApi, createGrant } from '../support/fixtures.ts';
import { Browser, codeFlowTokens, createUser, pageOf } from '../support/flow.ts';
import { ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';

const generous = { rate_limit_per_second: 1000, rate_limit_per_ip_per_minute: 1000, rate_limit_per_claimed_identity_per_hour: 1000, max_applications: 1000, idle_cleanup_days: 0 };

async function setTenant(stores: Stores, changes: { registration?: boolean; support_email?: string }) {
  const settings = (await stores.durable.settings.get('tenant'))!;
  await stores.durable.settings.update('tenant', {
    set: {
      ...(changes.support_email ? { support_email: changes.support_email } : {}),
      flags: { ...settings.flags, enable_dynamic_client_registration: changes.registration ?? settings.flags.enable_dynamic_client_registration },
    },
  });
}

const unescape = (html: string) => html.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>');
/** The text of the element with this id (the values the copy buttons copy). */
const valueOf = (html: string, id: string) => unescape(new RegExp(`id="${id}" class="value[^"]*">([^<]*)<`).exec(html)?.[1] ?? '');
const dynamicApps = (test: TestGatehouse) => test.gatehouse.stores.durable.applications.count({ registration_type: 'dynamic' });

const webApp = { client_name: 'Notes Sync', app_type: 'web', redirect_uris: 'https://sync.example.com/callback\r\nhttps://sync.example.com/other', logo_uri: '', client_uri: 'https://sync.example.com' };

/** Opens the form (which sets the visitor cookie) and sends it with these values. */
async function registerThroughForm(test: TestGatehouse, values: Record<string, string>, browser = new Browser(test.app)) {
  const form = pageOf(await browser.open('/developers/register'));
  expect(form.text).toContain('name="client_name"');
  return pageOf(await browser.submit(form, values));
}

describe('developer portal', () => {
  let test: TestGatehouse;
  let notesApi: string;
  const stores = () => test.gatehouse.stores;

  beforeAll(async () => {
    test = await startGatehouse({ config: { registration: generous } });
    await setTenant(stores(), { registration: true });
    const notes = await createApi(stores(), { name: '<script>alert(1)</script> Notes & "Co"', allow_offline_access: true });
    notesApi = notes.identifier;
    await createGrant(stores(), { default_for: 'third_party_clients', audience: notes.identifier, scope: ['read:notes', 'write:notes'] });
    const archive = await createApi(stores(), { name: 'Archive API', allow_offline_access: false, scopes: [{ value: 'read:archive', description: 'Read your archive' }] });
    await createGrant(stores(), { default_for: 'third_party_clients', audience: archive.identifier, scope: ['read:archive'] });
    await createApi(stores(), { name: 'Internal Billing API' }); // no default grant
    const closed = await createApi(stores(), { name: 'Closed API', user: 'deny_all' });
    await createGrant(stores(), { default_for: 'third_party_clients', audience: closed.identifier, scope: ['read:notes'] });
    // A default grant for the system API, written past the Management API's rules (a valid grant re-pointed): the decision still refuses it.
    const valid = draftClientGrant({ default_for: 'third_party_clients', audience: notes.identifier, scope: ['read:notes'], subject_type: 'user' }, notes, undefined, newId('cgr_'), new Date().toISOString());
    await stores().durable.clientGrants.insert({ ...valid, audience: `${ISSUER}/api/v2/`, scope: ['read:clients'] });
    await createUser(stores(), 'dev@example.com', 'dev password 123');
  });
  afterAll(async () => {
    await test.close();
  });

  describe('catalogue', () => {
    it('lists what a registered application can reach through the default grant, with scopes and offline access', async () => {
      const res = await request(test.app).get('/developers').expect(200);
      expect(res.text).toContain(notesApi);
      expect(res.text).toContain('Read your notes');
      expect(res.text).toContain('Change your notes');
      expect(res.text).not.toContain('Delete your notes'); // not in the default grant
      expect(res.text).toContain('Archive API');
      expect(res.text).toContain('Not available: people sign in again');
      expect(res.text).toContain('Available: ask for <code>offline_access</code>');
      expect(res.text).toContain('Authorization code with PKCE (S256)');
      expect(res.text).toContain('https://api.example.com/'); // the seeded API and its default grant
    });

    it('never lists the system API, an API without a default grant, or one whose policy denies users', async () => {
      const res = await request(test.app).get('/developers').expect(200);
      expect(res.text).not.toContain('/api/v2/');
      expect(res.text).not.toContain('read:clients');
      expect(res.text).not.toContain('Internal Billing API');
      expect(res.text).not.toContain('Closed API');
    });

    it('escapes a hostile API name', async () => {
      const res = await request(test.app).get('/developers').expect(200);
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Notes &amp; &quot;Co&quot;');
      expect(res.text).not.toContain('<script>alert(1)');
    });
  });

  describe('registration through the form', () => {
    it('registers a web application, shows its credentials once, and its ready URLs work as shown', async () => {
      const browser = new Browser(test.app);
      const page = await registerThroughForm(test, webApp, browser);
      expect(page.status).toBe(200);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.headers.location).toBeUndefined();
      const clientId = valueOf(page.text, 'client-id');
      const secret = valueOf(page.text, 'client-secret');
      expect(clientId).toMatch(/^tpc_/);
      expect(secret.length).toBeGreaterThan(40);
      expect(page.text).toContain('it will not be shown again');
      const app = (await stores().durable.applications.get(clientId))!;
      expect(app).toMatchObject({ name: 'Notes Sync', is_first_party: false, registration_type: 'dynamic', token_endpoint_auth_method: 'client_secret_post', callbacks: ['https://sync.example.com/callback', 'https://sync.example.com/other'] });
      expect(app.registration_metadata).toMatchObject({ client_uri: 'https://sync.example.com' });

      // The authorization URL and verifier on the page complete a real sign-in; the token request's fields are the ones shown.
      const authorizeUrl = new URL(valueOf(page.text, 'authorize-url'));
      expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
      const tokenRequest = valueOf(page.text, 'token-request');
      expect(tokenRequest).toContain(`client_id=${clientId}`);
      expect(tokenRequest).toContain('client_secret="$CLIENT_SECRET"');
      expect(tokenRequest).not.toContain(secret);
      const verifier = /code_verifier=([\w-]+)/.exec(tokenRequest)?.[1] as string;
      const tokens = await codeFlowTokens(test.app, app, {
        email: 'dev@example.com', password: 'dev password 123', secret, query: { path: `${authorizeUrl.pathname}${authorizeUrl.search}`, verifier },
      });
      expect(tokens.status).toBe(200);
      const audience = authorizeUrl.searchParams.get('resource') as string;
      expect(decodeJwt(tokens.body.access_token)).toMatchObject({ aud: audience, scope: expect.stringMatching(/^read:/) });

    });

    it('registers a single-page application as a public client, without a secret', async () => {
      const page = await registerThroughForm(test, { ...webApp, client_name: 'Notes SPA', app_type: 'spa' });
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('id="client-secret"');
      expect(page.text).toContain('No client secret');
      const app = (await stores().durable.applications.get(valueOf(page.text, 'client-id')))!;
      expect(app).toMatchObject({ token_endpoint_auth_method: 'none', app_type: 'spa' });
      expect(valueOf(page.text, 'token-request')).not.toContain('client_secret');
    });

    it('shows a bad redirect URI beside its field, keeping what was typed', async () => {
      const before = await dynamicApps(test);
      const page = await registerThroughForm(test, { ...webApp, redirect_uris: 'https://sync.example.com/callback\nhttp://sync.example.com/insecure' });
      expect(page.status).toBe(400);
      expect(page.text).toMatch(/<p class="field-error" id="redirect_uris-error">Redirect URI 2: &quot;http:\/\/sync.example.com\/insecure&quot; must use https/);
      expect(page.text).toContain('value="Notes Sync"');
      expect(page.text).toContain('https://sync.example.com/callback\nhttp://sync.example.com/insecure</textarea>');
      expect(page.text).toMatch(/value="web" checked/);
      expect(await dynamicApps(test)).toBe(before);
    });

    it('names the other fields\' problems too', async () => {
      const logo = await registerThroughForm(test, { ...webApp, logo_uri: 'http://sync.example.com/logo.png' });
      expect(logo.text).toContain('id="logo_uri-error">The logo URL must be an https URL');
      const unnamed = await registerThroughForm(test, { ...webApp, client_name: ' ' });
      expect(unnamed.text).toContain('id="client_name-error">Give your application a name');
      const long = await registerThroughForm(test, { ...webApp, client_name: 'n'.repeat(150) });
      expect(long.text).toContain('id="client_name-error">The name must NOT have more than 128 characters');
      const none = await registerThroughForm(test, { ...webApp, redirect_uris: '\n' });
      expect(none.text).toContain('id="redirect_uris-error">The redirect URIs must not be empty');
    });

    it('refuses a post without the visitor cookie, with a forged token or an expired cookie (CSRF), registering nothing', async () => {
      const before = await dynamicApps(test);
      const page = pageOf(await new Browser(test.app).open('/developers/register'));
      const token = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] as string;
      const noCookie = await request(test.app).post('/developers/register').type('form').send({ ...webApp, csrf: token });
      expect(noCookie.status).toBe(403);
      expect(noCookie.text).toContain('This form has expired or was already sent');
      const browser = new Browser(test.app);
      pageOf(await browser.open('/developers/register'));
      const forged = await request(test.app).post('/developers/register').type('form').set('Cookie', browser.jar.header()).send({ ...webApp, csrf: token });
      expect(forged.status).toBe(403);
      expect(await dynamicApps(test)).toBe(before);
      // A visitor cookie past its expiry is refused even with its own valid token (which works while it is fresh).
      const post = (visitor: string) => request(test.app).post('/developers/register').type('form').set('Cookie', `gatehouse_portal=${visitor}`)
        .send({ ...webApp, csrf: csrfToken(test.gatehouse.keys.cookies[0] as string, 'portal', visitor) });
      expect((await post(`${'a'.repeat(22)}.${Math.floor(Date.now() / 1000) - 1}`)).status).toBe(403);
      expect(await dynamicApps(test)).toBe(before);
      expect((await post(`${'a'.repeat(22)}.${Math.floor(Date.now() / 1000) + 60}`)).status).toBe(200);
    });

    it('answers a form it cannot read with a page in plain words, not JSON', async () => {
      const tooMany = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`field${i}`, 'x']));
      const res = await request(test.app).post('/developers/register').type('form').send(tooMany);
      expect(res.status).toBe(413);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('This form could not be read');
      expect(res.text).toContain('Go to the start page');
    });

    it('refuses a second post of the same form (a reload of the credentials page)', async () => {
      const browser = new Browser(test.app);
      const form = pageOf(await browser.open('/developers/register'));
      const first = pageOf(await browser.submit(form, webApp));
      expect(first.status).toBe(200);
      const before = await dynamicApps(test);
      const again = pageOf(await browser.submit(form, webApp));
      expect(again.status).toBe(403);
      expect(await dynamicApps(test)).toBe(before);
    });

    it('has a getting-started page with discovery, the rules and the connected apps page', async () => {
      const res = await request(test.app).get('/developers/getting-started').expect(200);
      expect(res.text).toContain(`${ISSUER}/.well-known/openid-configuration`);
      expect(res.text).toContain(`${ISSUER}/.well-known/oauth-authorization-server`);
      expect(res.text).toContain(`href="${ISSUER}/u/apps"`);
      expect(res.text).toContain('No implicit flow');
      expect(res.text).toContain('No ID token');
      expect(res.text).toContain(`${ISSUER}/oidc/register`);
    });
  });
});

describe('developer portal refusals', () => {
  const now = new Date().toISOString();
  const blockLoopback: NetworkAcl = {
    id: 'acl_block', description: 'block', active: true, priority: 10, created_at: now, updated_at: now,
    rule: { scope: 'dynamic_client_registration', action: { block: true }, match: { ipv4_cidrs: ['127.0.0.0/8'], ipv6_cidrs: ['::1/128'] } },
  };

  it('shows a network ACL refusal as a message, keeping the form', async () => {
    const test = await startGatehouse({ config: { registration: generous } });
    await setTenant(test.gatehouse.stores, { registration: true });
    await test.gatehouse.stores.durable.networkAcls.insert(blockLoopback);
    const page = await registerThroughForm(test, webApp);
    expect(page.status).toBe(403);
    expect(page.text).toContain('<p class="alert" role="alert">Registration is not allowed from your network.</p>');
    expect(page.text).toContain('value="Notes Sync"');
    expect(await dynamicApps(test)).toBe(0);
    await test.close();
  });

  it('shows the rate limit as a message with Retry-After', async () => {
    const test = await startGatehouse({ config: { registration: { ...generous, rate_limit_per_ip_per_minute: 1 } } });
    await setTenant(test.gatehouse.stores, { registration: true });
    expect((await registerThroughForm(test, webApp)).status).toBe(200);
    const limited = await registerThroughForm(test, webApp);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.text).toMatch(/Too many registrations: try again in \d+ s\./);
    await test.close();
  });

  it('when registration is disabled, still shows the catalogue and says whom to ask', async () => {
    const test = await startGatehouse({ config: { registration: generous } });
    await setTenant(test.gatehouse.stores, { registration: false, support_email: 'apis@example.com' });
    const catalogue = await request(test.app).get('/developers').expect(200);
    expect(catalogue.text).toContain('https://api.example.com/');
    expect(catalogue.text).toContain('Registration is closed.');
    expect(catalogue.text).toContain('href="mailto:apis@example.com"');
    const register = await request(test.app).get('/developers/register').expect(200);
    expect(register.text).toContain('Registration is closed.');
    expect(register.text).not.toContain('name="client_name"');

    // A form opened before registration closed is refused by the registration service.
    await setTenant(test.gatehouse.stores, { registration: true });
    const browser = new Browser(test.app);
    const form = pageOf(await browser.open('/developers/register'));
    await setTenant(test.gatehouse.stores, { registration: false });
    const refused = pageOf(await browser.submit(form, webApp));
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('Registration has just been closed.');
    expect(await dynamicApps(test)).toBe(0);
    await test.close();
  });
});
