import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import request from 'supertest';
import { upstreamCallbackUrl } from '../../src/domain/links.ts';
import { createConnection } from '../../src/services/connections.ts';
import type { Connection } from '../../src/domain/model.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores } from '../../src/store/index.ts';
import { sealAtRest } from '../../src/store/sealed-at-rest.ts';
import { createSealer } from '../../src/store/sealing.ts';
import { authorizeQuery as authorizeWith, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import type { Application } from '../../src/domain/model.ts';
import { Browser, callbackOf, createUser, isConsentPage, pageOf, type Outcome } from '../support/flow.ts';
import { insertApplication, ISSUER, pathOf, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, managementCaller, type ManagementCaller } from '../support/management.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../support/upstream-idp.ts';

const CALLBACK = upstreamCallbackUrl(ISSUER);
/** A front-channel provider posts ID tokens only to https redirect URIs. */
const SECURE_ISSUER = 'https://gatehouse.test';

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('upstream connections', () => {
  let idp: UpstreamIdp;
  let test: TestGatehouse;
  let api: ManagementCaller;
  const kek = Buffer.alloc(32, 7);
  // A store that seals what the collection specs say, to see what is at rest.
  const embedded = openEmbeddedStore({ dataDir: null });
  const sealed = sealAtRest(embedded, createSealer([kek]));

  beforeAll(async () => {
    idp = await startUpstreamIdp([CALLBACK, upstreamCallbackUrl(SECURE_ISSUER)]);
    idp.accounts.set('ada', { email: 'ada@corp.example', email_verified: true, name: 'Ada Lovelace' });
    idp.accounts.set('bob', { email: 'bob@corp.example', email_verified: false, name: 'Bob' });
    idp.accounts.set('anon', { name: 'No Email' });
    test = await startGatehouse({ stores: combineStores(sealed, embedded) });
    api = await managementCaller(test);
    const notes = await createApi(test.gatehouse.stores);
    audience = notes.identifier;
    await createGrant(test.gatehouse.stores, { default_for: 'third_party_clients', audience, scope: ['read:notes'] });
  });
  let audience: string;
  /** An authorization request for the notes API (which every application here may use). */
  const authorizeQuery = (app: Application, extra: Record<string, string> = {}) => authorizeWith(app, { audience, scope: 'read:notes', ...extra });
  afterAll(async () => {
    await test.close();
    await embedded.close();
    await idp.close();
  });

  const oidcOptions = (extra: Record<string, unknown> = {}) => ({ discovery_url: `${idp.issuer}/.well-known/openid-configuration`, ...idp.client, ...extra });
  const createOidc = async (name: string, extra: Record<string, unknown> = {}, fields: Record<string, unknown> = {}) =>
    (await api('post', '/connections', { name, strategy: 'oidc', display_name: `${name} SSO`, options: oidcOptions(extra), ...fields }).expect(201)).body as Connection;

  describe('Management API', () => {
    it('creates an oidc connection after checking its provider; the client secret is sealed at rest and never returned', async () => {
      const created = await createOidc('corp-check', { domain_aliases: ['check.example'] });
      expect(created.options).toEqual({ discovery_url: `${idp.issuer}/.well-known/openid-configuration`, client_id: idp.client.client_id, domain_aliases: ['check.example'] });
      expect(JSON.stringify(created)).not.toContain(idp.client.client_secret);
      expect(JSON.stringify((await api('get', `/connections/${created.id}`).expect(200)).body)).not.toContain(idp.client.client_secret);
      const raw = await embedded.connections.get(created.id);
      expect(String(raw?.secret_options)).toMatch(/^sealed:/);
      expect(JSON.stringify(raw)).not.toContain(idp.client.client_secret);
      expect((await sealed.connections.get(created.id))?.secret_options).toEqual({ client_secret: idp.client.client_secret });
    });

    it('keeps the client secret when the options are replaced without it', async () => {
      const created = await createOidc('corp-keep');
      const patched = await api('patch', `/connections/${created.id}`, { options: { issuer: idp.issuer, client_id: idp.client.client_id, scope: 'openid email' } }).expect(200);
      expect(patched.body.options).toEqual({ issuer: idp.issuer, client_id: idp.client.client_id, scope: 'openid email' });
      expect((await sealed.connections.get(created.id))?.secret_options).toEqual({ client_secret: idp.client.client_secret });
    });

    it('refuses a provider that does not answer, a URL that is no discovery document, and wrong credentials, saying what failed', async () => {
      const closedPort = await freePort();
      const unreachable = await api('post', '/connections', { name: 'down', strategy: 'oidc', options: { ...idp.client, discovery_url: `http://127.0.0.1:${closedPort}/.well-known/openid-configuration` } });
      expectApiError(unreachable, 400, 'invalid_body', new RegExp(`discovery document at http://127.0.0.1:${closedPort}/.* could not be used: the provider did not answer \\(ECONNREFUSED\\)`));
      const notDiscovery = await api('post', '/connections', { name: 'wrong', strategy: 'oidc', options: { ...idp.client, discovery_url: `${idp.issuer}/.well-known/nothing-here` } });
      expectApiError(notDiscovery, 400, 'invalid_body', /could not be used: .*HTTP 404/);
      const badSecret = await api('post', '/connections', { name: 'badsecret', strategy: 'oidc', options: oidcOptions({ client_secret: 'not-the-secret' }) });
      expectApiError(badSecret, 400, 'invalid_body', /the provider refused the client credentials \(invalid_client/);
      const badClient = await api('post', '/connections', { name: 'badclient', strategy: 'oidc', options: oidcOptions({ client_id: 'nobody' }) });
      expectApiError(badClient, 400, 'invalid_body', /refused the client credentials/);
      expect((await api('get', '/connections?strategy=oidc').expect(200)).body.map((c: Connection) => c.name)).not.toEqual(expect.arrayContaining(['down', 'wrong', 'badsecret', 'badclient']));
    });

    it('refuses options that do not fit the strategy', async () => {
      expectApiError(await api('post', '/connections', { name: 'x1', strategy: 'oidc', options: { client_id: 'a', client_secret: 'b' } }), 400, 'invalid_body', /discovery_url \(or options.issuer\) is required/);
      expectApiError(await api('post', '/connections', { name: 'x2', strategy: 'oidc', options: oidcOptions({ type: 'front_channel' }) }), 400, 'invalid_body', /client_secret does not apply to an oidc connection of type front_channel/);
      expectApiError(await api('post', '/connections', { name: 'x3', strategy: 'github', options: { client_id: 'a' } }), 400, 'invalid_body', /client_secret is required for the github strategy/);
      expectApiError(await api('post', '/connections', { name: 'x4', strategy: 'auth0', options: { client_id: 'a' } }), 400, 'invalid_body', /client_id does not apply to the auth0 strategy/);
      expectApiError(await api('post', '/connections', { name: 'x5', strategy: 'oidc', options: oidcOptions({ discovery_url: 'http://idp.example.com/.well-known/openid-configuration' }) }), 400, 'invalid_body', /must be an https URL/);
      expectApiError(await api('post', '/connections', { name: 'x6', strategy: 'oauth2', options: { client_id: 'a', client_secret: 'b', authorizationURL: 'https://a.example/authorize', tokenURL: 'https://a.example/token' } }), 400, 'invalid_body', /profileURL is required/);
    });

    it('accepts a front-channel connection to a provider that posts ID tokens, and creates no users of upstream connections itself', async () => {
      await api('post', '/connections', { name: 'corp-front', strategy: 'oidc', options: { discovery_url: `${idp.issuer}/.well-known/openid-configuration`, client_id: idp.frontChannelClient.client_id, type: 'front_channel' } }).expect(201);
      expectApiError(await api('post', '/users', { connection: 'corp-front', email: 'x@corp.example', password: 'long enough password' }), 400, 'invalid_body', /created when they first sign in/);
    });
  });

  describe('signing in', () => {
    beforeAll(async () => {
      await createOidc('corp', { domain_aliases: ['corp.example'] }, { is_domain_connection: true });
    });

    /** The login page's provider button, the provider, and back: where Gatehouse then sends the browser. */
    async function throughProvider(browser: Browser, start: Outcome, connection: string): Promise<Outcome> {
      const login = pageOf(start);
      expect(login.text).toContain(`value="${connection}"`);
      const toProvider = callbackOf(await browser.submit(login, { connection, email: undefined, password: undefined }));
      expect(toProvider.origin).toBe(idp.issuer);
      expect(toProvider.searchParams.get('code_challenge_method')).toBe('S256');
      expect(toProvider.searchParams.get('nonce')).toBeTruthy();
      const back = await idp.authorize(toProvider.href);
      expect(back.href.startsWith(CALLBACK)).toBe(true);
      return browser.open(pathOf(back.href));
    }

    it('creates the user at the first sign-in (no password, identities), refreshes the profile at the next', async () => {
      const { app } = await insertApplication(test.gatehouse.stores, { name: 'Corp Portal' });
      idp.next.login = 'ada';
      const browser = new Browser(test.app);
      const query = authorizeQuery(app, { scope: 'read:notes openid email' });
      const login = await browser.open(query.path);
      expect(pageOf(login).text).toContain('Continue with corp SSO');
      const code = callbackOf(await throughProvider(browser, login, 'corp')).searchParams.get('code');
      expect(code).toBeTruthy();
      const user = await test.gatehouse.stores.durable.users.get('oidc|corp|ada');
      expect(user).toMatchObject({
        email: 'ada@corp.example', email_verified: true, name: 'Ada Lovelace', connection: 'corp', password_hash: '', logins_count: 1,
        identities: [{ connection: 'corp', provider: 'oidc', user_id: 'ada', isSocial: false }],
      });
      const { body } = await api('get', `/users/${encodeURIComponent('oidc|corp|ada')}`).expect(200);
      expect(body.identities).toEqual([{ connection: 'corp', provider: 'oidc', user_id: 'ada', isSocial: false }]);

      idp.accounts.set('ada', { email: 'ada@corp.example', email_verified: true, name: 'Ada King' });
      const again = new Browser(test.app);
      callbackOf(await throughProvider(again, await again.open(authorizeQuery(app).path), 'corp'));
      expect(await test.gatehouse.stores.durable.users.get('oidc|corp|ada')).toMatchObject({ name: 'Ada King', logins_count: 2 });
      await test.gatehouse.audit.flush(); // in the tenant log: a sign-up at the first sign-in, a sign-in each time
      const events = (await api('get', `/logs?q=${encodeURIComponent('user_id:"oidc|corp|ada" AND connection:corp')}&sort=date:1`).expect(200)).body as { type: string; client_id: string }[];
      expect(events.filter((event) => ['ss', 's'].includes(event.type)).map((event) => [event.type, event.client_id])).toEqual([['ss', app.client_id], ['s', app.client_id], ['s', app.client_id]]);
    });

    it('sends an email of a domain alias straight to the provider, from the form and from login_hint', async () => {
      const { app } = await insertApplication(test.gatehouse.stores, { name: 'HRD App' });
      const browser = new Browser(test.app);
      const login = pageOf(await browser.open(authorizeQuery(app).path));
      const viaForm = callbackOf(await browser.submit(login, { email: 'Someone@Corp.Example', password: '' }));
      expect(viaForm.origin).toBe(idp.issuer);
      expect(viaForm.searchParams.get('login_hint')).toBe('Someone@Corp.Example');
      const viaHint = callbackOf(await new Browser(test.app).open(authorizeQuery(app, { login_hint: 'x@corp.example' }).path));
      expect(viaHint.origin).toBe(idp.issuer);
      // Other domains still need a password.
      const other = pageOf(await browser.submit(login, { email: 'jo@example.com', password: '' }));
      expect(other.status).toBe(400);
      expect(other.text).toContain('Enter your password.');
    });

    it('offers a connection that is not promoted to first-party applications only, and refuses it to third-party ones', async () => {
      const internal = await createOidc('corp-internal');
      const { app: thirdParty } = await thirdPartyApp(test.gatehouse.stores);
      const browser = new Browser(test.app);
      const login = pageOf(await browser.open(authorizeQuery(thirdParty).path));
      expect(login.text).not.toContain('value="corp-internal"');
      expect(login.text).toContain('value="corp"');
      const forced = pageOf(await browser.submit(login, { connection: 'corp-internal', email: undefined, password: undefined }));
      expect(forced.status).toBe(400);
      // Promoted when the sign-in started, demoted before the provider answered: refused at the callback.
      await api('patch', `/connections/${internal.id}`, { is_domain_connection: true }).expect(200);
      idp.next.login = 'ada';
      const started = pageOf(await browser.open(authorizeQuery(thirdParty).path));
      const toProvider = callbackOf(await browser.submit(started, { connection: 'corp-internal', email: undefined, password: undefined }));
      await api('patch', `/connections/${internal.id}`, { is_domain_connection: false }).expect(200);
      const refused = pageOf(await browser.open(pathOf((await idp.authorize(toProvider.href)).href)));
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('access_denied');
      expect(refused.text).toContain('domain-level connections only');
    });

    it('takes a third-party application through consent to a token', async () => {
      const { app } = await thirdPartyApp(test.gatehouse.stores, { name: 'Partner' });
      idp.next.login = 'ada';
      const browser = new Browser(test.app);
      const outcome = await throughProvider(browser, await browser.open(authorizeQuery(app).path), 'corp');
      expect(isConsentPage(outcome)).toBe(true);
      const code = callbackOf(await browser.submit(pageOf(outcome), { action: 'accept' })).searchParams.get('code');
      expect(code).toBeTruthy();
    });

    it('ends on a page naming what happened: the provider\'s error, a state from another browser, a replayed answer', async () => {
      const { app } = await insertApplication(test.gatehouse.stores, { name: 'Errors App' });
      idp.next.error = 'access_denied';
      const browser = new Browser(test.app);
      const denied = pageOf(await throughProvider(browser, await browser.open(authorizeQuery(app).path), 'corp'));
      idp.next.error = undefined;
      expect(denied.status).toBe(400);
      expect(denied.text).toContain('corp SSO did not sign you in');
      expect(denied.text).toContain('<code>access_denied</code>');
      expect(denied.text).toContain('Try signing in again');

      idp.next.login = 'ada';
      const started = pageOf(await browser.open(authorizeQuery(app).path));
      const toProvider = callbackOf(await browser.submit(started, { connection: 'corp', email: undefined, password: undefined }));
      const answer = await idp.authorize(toProvider.href);
      const elsewhere = await request(test.app).get(pathOf(answer.href)); // another browser: no binding cookie
      expect(elsewhere.status).toBe(400);
      expect(elsewhere.text).toContain('state_mismatch');
      callbackOf(await browser.open(pathOf(answer.href)));
      const replayed = pageOf(await browser.open(pathOf(answer.href)));
      expect(replayed.status).toBe(400);
      expect(replayed.text).toContain('invalid_state');
      const unknown = await request(test.app).get('/login/callback?state=made-up&code=x');
      expect(unknown.status).toBe(400);
      expect(unknown.text).toContain('This sign-in has expired');
    });

    it('refuses a person the provider shares no email address for, and a blocked account', async () => {
      const { app } = await insertApplication(test.gatehouse.stores, { name: 'Refusals App' });
      idp.next.login = 'anon';
      const browser = new Browser(test.app);
      const noEmail = pageOf(await throughProvider(browser, await browser.open(authorizeQuery(app).path), 'corp'));
      expect(noEmail.status).toBe(403);
      expect(noEmail.text).toContain('email_required');
      idp.next.login = 'ada';
      await test.gatehouse.stores.durable.users.update('oidc|corp|ada', { set: { blocked: true } });
      const blocked = pageOf(await throughProvider(browser, await browser.open(authorizeQuery(app).path), 'corp'));
      await test.gatehouse.stores.durable.users.update('oidc|corp|ada', { set: { blocked: false } });
      expect(blocked.status).toBe(403);
      expect(blocked.text).toContain('user_blocked');
    });

    it('never links accounts of different connections, unless the connection links by verified email', async () => {
      const { app } = await insertApplication(test.gatehouse.stores, { name: 'Linking App' });
      const database = await createUser(test.gatehouse.stores, 'bob@corp.example', 'bob password 123');
      await test.gatehouse.stores.durable.users.update(database.user_id, { set: { email_verified: true } });
      idp.next.login = 'bob';
      // Bob's address is not verified at the provider: a separate account even where linking is on.
      const linking = await createOidc('corp-linking', { link_by_verified_email: true });
      const browser = new Browser(test.app);
      callbackOf(await throughProvider(browser, await browser.open(authorizeQuery(app).path), 'corp'));
      expect(await test.gatehouse.stores.durable.users.get('oidc|corp|bob')).toBeDefined();
      idp.accounts.set('bob', { email: 'bob@corp.example', email_verified: true, name: 'Bob' });
      idp.next.login = 'bob';
      const linked = new Browser(test.app);
      callbackOf(await throughProvider(linked, await linked.open(authorizeQuery(app).path), linking.name));
      expect(await test.gatehouse.stores.durable.users.get('oidc|corp-linking|bob')).toBeUndefined();
      expect((await test.gatehouse.stores.durable.users.get(database.user_id))?.identities).toEqual([
        { connection: 'Username-Password-Authentication', provider: 'auth0', user_id: database.user_id.split('|')[1], isSocial: false },
        { connection: 'corp-linking', provider: 'oidc', user_id: 'bob', isSocial: false },
      ]);
    });

    it('signs in through a front-channel connection: the ID token posted back is checked, then confirmed by the browser that started', async () => {
      const secure = await startGatehouse({ config: { issuer: SECURE_ISSUER } });
      try {
        const { stores } = secure.gatehouse;
        await createConnection(stores.durable, SECURE_ISSUER, {
          name: 'corp-posted', strategy: 'oidc', is_domain_connection: true,
          options: { discovery_url: `${idp.issuer}/.well-known/openid-configuration`, client_id: idp.frontChannelClient.client_id, type: 'front_channel' },
        });
        const notes = await createApi(stores);
        await createGrant(stores, { default_for: 'third_party_clients', audience: notes.identifier, scope: ['read:notes'] });
        const { app } = await insertApplication(stores, { name: 'Posted App' });
        const query = () => authorizeWith(app, { audience: notes.identifier, scope: 'read:notes' }).path;
        idp.next.login = 'ada';
        const browser = new Browser(secure.app);
        const toProvider = callbackOf(await browser.submit(pageOf(await browser.open(query())), { connection: 'corp-posted', email: undefined, password: undefined }));
        expect(Object.fromEntries(toProvider.searchParams)).toMatchObject({ response_type: 'id_token', response_mode: 'form_post' });
        expect(toProvider.searchParams.get('code_challenge')).toBeNull();
        const { action, fields } = await idp.authorizeFormPost(toProvider.href);
        expect(action).toBe(upstreamCallbackUrl(SECURE_ISSUER));
        // Posted cross-site, so without the browser's cookies; a forged ID token is refused outright.
        const forged = await request(secure.app).post('/login/callback').type('form').send({ ...fields, id_token: `${fields.id_token!.slice(0, -4)}AAAA` });
        expect(forged.status).toBe(502);
        expect(forged.text).toContain('invalid_upstream_response');
        const retry = callbackOf(await browser.submit(pageOf(await browser.open(query())), { connection: 'corp-posted', email: undefined, password: undefined }));
        const posted = await idp.authorizeFormPost(retry.href);
        const checked = await request(secure.app).post('/login/callback').type('form').send(posted.fields);
        expect(checked.status).toBe(303);
        const confirm = checked.headers.location as string;
        expect((await request(secure.app).get(confirm)).text).toContain('state_mismatch'); // not the browser that started
        expect(callbackOf(await browser.open(confirm)).searchParams.get('code')).toBeTruthy();
        expect(await stores.durable.users.get('oidc|corp-posted|ada')).toMatchObject({ email: 'ada@corp.example' });
      } finally {
        await secure.close();
      }
    });

    it('tells the person when the provider does not answer, at the start and at the callback', async () => {
      const down = await startUpstreamIdp([CALLBACK]);
      down.accounts.set('ada', { email: 'ada@down.example', email_verified: true });
      down.next.login = 'ada';
      const created = (await api('post', '/connections', { name: 'flaky', strategy: 'oidc', is_domain_connection: true, options: { issuer: down.issuer, ...down.client } }).expect(201)).body as Connection;
      const { app } = await insertApplication(test.gatehouse.stores, { name: 'Flaky App' });
      const browser = new Browser(test.app);
      const started = pageOf(await browser.open(authorizeQuery(app).path));
      const toProvider = callbackOf(await browser.submit(started, { connection: created.name, email: undefined, password: undefined }));
      const answer = await down.authorize(toProvider.href);
      await down.close();
      const atCallback = pageOf(await browser.open(pathOf(answer.href)));
      expect(atCallback.status).toBe(503);
      expect(atCallback.text).toContain('flaky is not answering');
      expect(atCallback.text).toContain('upstream_unreachable');
      // Read anew after a change: the provider is asked again at the start, and does not answer.
      await api('patch', `/connections/${created.id}`, { display_name: 'Flaky SSO' }).expect(200);
      const atStart = pageOf(await browser.submit(pageOf(await browser.open(authorizeQuery(app).path)), { connection: created.name, email: undefined, password: undefined }));
      expect(atStart.status).toBe(503);
      expect(atStart.text).toContain('Flaky SSO is not answering');
    });
  });
});
