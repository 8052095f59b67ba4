import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import type { LogEvent } from '../../src/domain/model.ts';
import { startDocumentHost, type DocumentHost } from '../support/document-host.ts';
import { authorizeQuery } from '../support/fixtures.ts';
import { codeFlowTokens } from '../support/flow.ts';
import { insertApplication, manualLogDelivery } from '../support/harness.ts';
import { checkPage, chromiumMissing, launchChromium, phonePage, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';
import { consoleDriver } from '../support/console-driver.ts';
import { LogReceiver } from '../support/log-receiver.ts';

const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] console operations skipped: ${chromiumMissing}\n`);

const ADMIN = { email: 'ada@ops.example', password: 'ada console password' };
const VIEWER = { email: 'vic@ops.example', password: 'vic console password' };
const PERSON = { email: 'jo@example.com', password: 'jo password 123' };
const NOTES = 'https://notes.example.com/';
const AGENT_CALLBACK = 'https://agent.example.com/callback';

/**
 * The console's pages for what issues 14 and 15 added, driven in Chromium and checked through the Management API: the
 * queue of self-registered applications and their trust, every connection of an application revoked, the tenant log
 * with its filters and checkpoints, log streams delivering to a receiver on loopback, the new tenant settings,
 * connection activity, and a viewer who reads all of it. The steps build on each other.
 */
suite(`console operations in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let live: LiveGatehouse;
  let documents: DocumentHost;
  let browser: Browser;
  let admin: Page;
  let knownAgentUrl: string;
  const receiver = new LogReceiver();
  const state: { agent?: string; agentRefreshToken?: string; helper?: string; streamId?: string } = {};
  const { mgmt, go, submit, signIn } = consoleDriver(() => live);

  /** A public client registered through /oidc/register (it starts as the tenant's trust ladder says). */
  async function register(name: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await fetch(`${live.origin}/oidc/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: name, redirect_uris: [AGENT_CALLBACK], token_endpoint_auth_method: 'none', ...extra }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { client_id: string }).client_id;
  }

  /** A person signs in to the client and consents: its tokens for the Notes API (with a refresh token). */
  const tokensFor = (clientId: string) => codeFlowTokens(live.origin as unknown as Express, { client_id: clientId, callbacks: [AGENT_CALLBACK] }, {
    ...PERSON, query: authorizeQuery({ client_id: clientId, callbacks: [AGENT_CALLBACK] } as never, { audience: NOTES, scope: 'openid offline_access read:notes' }),
  });

  const refresh = (clientId: string, refreshToken: string) => fetch(`${live.origin}/oauth/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
  });

  /** Everything recorded so far is in the tenant log. */
  const flushLog = () => live.gatehouse.audit.flush();

  beforeAll(async () => {
    documents = await startDocumentHost();
    knownAgentUrl = documents.serve('/vendor/assistant.json', {
      client_id: `${documents.origin}/vendor/assistant.json`, client_name: 'Acme Assistant', redirect_uris: [AGENT_CALLBACK], token_endpoint_auth_method: 'none',
    });
    await receiver.start();
    live = await startLiveGatehouse({
      tenant: { friendly_name: 'Acme', default_audience: '', allow_permissive_third_party_clients: false },
      adminEmail: ADMIN.email, adminPassword: ADMIN.password,
      cimd: { allowed_private_hosts: ['localhost'], known_agents: [{ client_id: knownAgentUrl, name: 'Acme Assistant', vendor: 'Acme AI' }] },
      ...manualLogDelivery(),
    });
    // An API third-party applications may read by default (with refresh tokens), and a person who uses them.
    expect((await mgmt('/resource-servers', {
      method: 'POST', body: JSON.stringify({ name: 'Notes API', identifier: NOTES, allow_offline_access: true, scopes: [{ value: 'read:notes', description: 'Read your notes' }] }),
    })).status).toBe(201);
    expect((await mgmt('/client-grants', {
      method: 'POST', body: JSON.stringify({ default_for: 'third_party_clients', audience: NOTES, subject_type: 'user', scope: ['read:notes'] }),
    })).status).toBe(201);
    expect((await mgmt('/users', { method: 'POST', body: JSON.stringify({ connection: 'Username-Password-Authentication', ...PERSON }) })).status).toBe(201);
    browser = await launchChromium();
    admin = await phonePage(browser);
    admin.setDefaultTimeout(10_000);
    await go(admin, '/settings');
    await signIn(admin, ADMIN);
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
    await documents?.close();
    await receiver.close();
  });

  it('sets the trust ladder, metadata documents and registration in tenant settings; a rule\'s error shows on its row', async () => {
    expect(admin.url()).toBe(`${live.origin}/console/settings`);
    expect(await admin.textContent('#cimd-hint')).toContain('https URL of a JSON document');
    await admin.check('input[name="flags.enable_dynamic_client_registration"]');
    await admin.check('input[name=client_id_metadata_document_supported]');
    await admin.selectOption('[id="self_registered_clients.initial_trust.dynamic_registration"]', 'pending');
    await admin.selectOption('[id="self_registered_clients.initial_trust.client_id_metadata_document"]', 'pending');
    await admin.selectOption('[id="self_registered_clients.over_budget"]', 'admit_as_pending');
    await admin.selectOption('[id="rule.0.match"]', 'cimd_url_prefix');
    await admin.fill('[id="rule.0.value"]', 'http://agents.example.net/');
    await admin.selectOption('[id="rule.0.trust"]', 'blocked');
    await submit(admin);
    expect(await admin.textContent('[id="rule.0-error"]')).toContain('must start with https://');
    await checkPage(admin, 'console-settings-rule-error');

    await admin.fill('[id="rule.0.value"]', 'https://agents.example.net/');
    await submit(admin);
    expect(await admin.textContent('[role=status]')).toContain('Settings saved');
    await admin.selectOption('[id="rule.1.match"]', 'redirect_host');
    await admin.fill('[id="rule.1.value"]', 'evil.example');
    await admin.selectOption('[id="rule.1.trust"]', 'blocked');
    await submit(admin);
    expect((await mgmt('/tenants/settings')).body).toMatchObject({
      flags: { enable_dynamic_client_registration: true }, client_id_metadata_document_supported: true,
      self_registered_clients: {
        initial_trust: { dynamic_registration: 'pending', client_id_metadata_document: 'pending' }, over_budget: 'admit_as_pending',
        trust_rules: [{ cimd_url_prefix: 'https://agents.example.net/', trust: 'blocked' }, { redirect_host: 'evil.example', trust: 'blocked' }],
      },
    });
    await checkPage(admin, 'console-settings-trust');

    await admin.check('input[name="rule.0.remove"]');
    await submit(admin);
    expect((await mgmt('/tenants/settings')).body.self_registered_clients.trust_rules).toEqual([{ redirect_host: 'evil.example', trust: 'blocked' }]);
  });

  it('queues self-registered clients for approval with what an operator needs to decide; approved, one gets a token', async () => {
    state.agent = await register('Notes Agent', { software_id: 'notes-agent', software_version: '2.1' });
    // A known agent's metadata document, first seen at /authorize (and held, as the tenant says).
    const seen = await fetch(`${live.origin}/authorize?${new URLSearchParams({
      client_id: knownAgentUrl, response_type: 'code', redirect_uri: AGENT_CALLBACK, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
    })}`, { redirect: 'manual' });
    expect(seen.status).toBe(400);
    expect((await mgmt('/clients?trust=pending')).body).toHaveLength(2);

    await go(admin, '/applications');
    expect(await admin.textContent('.console-nav a[href$="/pending"]')).toMatch(/Waiting for approval\s*2 applications/);
    await admin.click('.console-nav a[href$="/pending"]');
    const queue = (await admin.textContent('main')) as string;
    expect(queue).toContain('Notes Agent');
    expect(queue).toContain('Dynamic Client Registration');
    expect(queue).toContain('agent.example.com');
    expect(queue).toContain('notes-agent version 2.1');
    expect(queue).toContain(`published by ${new URL(knownAgentUrl).host}`);
    expect(await admin.textContent('.verified')).toContain('Verified: Acme AI (Acme Assistant)');
    await checkPage(admin, 'console-pending');

    // Before approval the client gets nothing; approved, a person's consent gives it a token.
    await expect(tokensFor(state.agent)).rejects.toThrow();
    await submit(admin, 'button[aria-label="Approve Notes Agent"]');
    expect(await admin.textContent('[role=status]')).toContain('Notes Agent is approved');
    expect((await mgmt(`/clients/${state.agent}`)).body.trust).toBe('trusted');
    expect(await admin.textContent('.console-nav a[href$="/pending"]')).toMatch(/Waiting for approval\s*1 application\b/);
    const tokens = await tokensFor(state.agent);
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.access_token).scope).toBe('read:notes');
    state.agentRefreshToken = tokens.body.refresh_token;
    expect((await refresh(state.agent, state.agentRefreshToken as string)).status).toBe(200);
  });

  it('shows trust on a self-registered application\'s page, and blocking there revokes its consents and refresh tokens at once', async () => {
    const agent = state.agent as string;
    await go(admin, `/applications/${agent}`);
    expect(await admin.textContent('#trust-heading')).toContain('approved');
    expect(await admin.textContent('.trust-actions + .hint')).toContain('revokes at once every consent');
    await checkPage(admin, 'console-application-trust');
    // Token requests are recorded after the response: the refresh token is used again in a moment.
    const rotated = await refresh(agent, state.agentRefreshToken as string);
    const refreshToken = ((await rotated.json()) as { refresh_token?: string }).refresh_token ?? state.agentRefreshToken as string;
    await submit(admin, `button[aria-label="Block Notes Agent"]`);
    expect(await admin.textContent('[role=status]')).toContain('Blocked');
    expect((await mgmt(`/clients/${agent}`)).body.trust).toBe('blocked');
    expect((await mgmt(`/grants?client_id=${agent}`)).body).toEqual([]);
    const refused = await refresh(agent, refreshToken);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'unauthorized_client' });
    await go(admin, '/applications');
    expect(await admin.textContent('main')).toContain('blocked');
  });

  it('revokes every connection of an application after a confirmation naming how many people it affects', async () => {
    state.helper = await register('Notes Helper');
    expect((await mgmt(`/clients/${state.helper}/trust`, { method: 'POST', body: JSON.stringify({ trust: 'trusted' }) })).status).toBe(200);
    expect((await tokensFor(state.helper)).status).toBe(200);
    await live.gatehouse.activity.flush();
    await go(admin, '/consents');
    expect(await admin.textContent('main')).toMatch(new RegExp(`Notes Helper.*${new Date().toISOString().slice(0, 10)}\\s*1 token`, 's'));
    await checkPage(admin, 'console-consents-activity');

    await go(admin, `/applications/${state.helper}`);
    await admin.click('a:has-text("Revoke every connection")');
    expect(await admin.textContent('main')).toContain('1 person connected Notes Helper');
    await checkPage(admin, 'console-revoke-connections');
    await submit(admin, 'form.form-actions button.danger');
    expect(await admin.textContent('[role=status]')).toContain('1 person is no longer connected to Notes Helper');
    expect((await mgmt(`/grants?client_id=${state.helper}`)).body).toEqual([]);
    expect((await mgmt(`/clients/${state.helper}`)).status).toBe(200);
  });

  it('lists the applications nobody used for N days', async () => {
    await insertApplication(live.gatehouse.stores, { name: 'Forgotten Tool', created_at: new Date(Date.now() - 100 * 86_400_000).toISOString() });
    await go(admin, '/applications');
    await admin.click('a:has-text("applications nobody used lately")');
    expect(await admin.textContent('main')).toContain('Forgotten Tool');
    expect(await admin.textContent('main')).not.toContain('Notes Helper'); // used today
    await checkPage(admin, 'console-applications-unused');
    await admin.fill('#unused_for_days', '0');
    await submit(admin, 'main form.toolbar button[type=submit]');
    expect(await admin.textContent('#unused_for_days-error')).toContain('unused_for_days');
  });

  it('finds a sign-in failure in the logs by filtering, shows it on its own page, and pages older events by checkpoint', async () => {
    const intruder = await phonePage(browser);
    await go(intruder, '/applications');
    await intruder.waitForURL(/\/u\/login/);
    await intruder.fill('#email', ADMIN.email);
    await intruder.fill('#password', 'not the password');
    await Promise.all([intruder.waitForLoadState('load'), intruder.click('button[type=submit]')]);
    await intruder.context().close();
    // 55 failed client-credentials requests: more than a page of one type.
    for (let i = 0; i < 55; i += 1) {
      const refused = await fetch(`${live.origin}/oauth/token`, {
        method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: live.gatehouse.adminCredentials.client_id, client_secret: 'wrong', audience: NOTES }),
      });
      expect(refused.status).toBe(401);
    }
    await flushLog();

    await go(admin, '/logs');
    await admin.selectOption('#type', 'fp');
    await admin.fill('#user_name', ADMIN.email);
    await submit(admin, 'form.log-filters button[type=submit]');
    const rows = admin.locator('main table.list tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Failed Login (Incorrect Password)');
    await checkPage(admin, 'console-logs');
    await rows.first().locator('a').click();
    await admin.waitForURL(/\/console\/logs\/[0-9a-f]{32}$/);
    const logId = admin.url().split('/logs/')[1] as string;
    const event = (await mgmt(`/logs/${logId}`)).body;
    expect(event).toMatchObject({ type: 'fp', user_name: ADMIN.email, client_id: 'gatehouse_console' });
    expect(await admin.textContent('h1')).toBe('Failed Login (Incorrect Password)');
    expect(await admin.textContent('main')).toContain('auth.login.fail');
    expect(await admin.textContent('main')).toContain(event.ip);
    await checkPage(admin, 'console-log-event');

    // A free search, newest first, then older events through the checkpoint link.
    await go(admin, `/logs?q=${encodeURIComponent('type:feccft')}`);
    const firstPage = await admin.locator('main table.list tbody tr td:first-child a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    expect(firstPage).toHaveLength(50);
    await admin.click('a:has-text("Older →")');
    const olderPage = await admin.locator('main table.list tbody tr td:first-child a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    expect(olderPage).toHaveLength(5);
    const all = (await mgmt(`/logs?q=${encodeURIComponent('type:feccft')}&per_page=100`)).body as LogEvent[];
    expect([...firstPage, ...olderPage].map((href) => String(href).split('/logs/')[1])).toEqual(all.map((e) => e.log_id));
    expect(await admin.$('a:has-text("Older →")')).toBeNull();

    // An event's details, readable: the agent's trust went from trusted to blocked.
    await go(admin, `/applications/${state.agent}`);
    await admin.click('a:has-text("Its log events")');
    await admin.selectOption('#type', 'trust_level_changed');
    await submit(admin, 'form.log-filters button[type=submit]');
    await admin.locator('main table.list tbody tr td:first-child a').first().click();
    await admin.waitForURL(/\/console\/logs\/[0-9a-f]{32}$/);
    expect(await admin.locator('dl.details').evaluate((dl) => [...dl.children].map((node) => node.textContent))).toEqual(['from', 'trusted', 'to', 'blocked']);
    await checkPage(admin, 'console-log-event-details');

    // A search the API cannot read is refused beside the search field.
    await go(admin, `/logs?q=${encodeURIComponent('type:fp OR type:fu')}`);
    expect(await admin.textContent('#q-error')).toContain('OR is not supported');
  });

  it('creates an http log stream to a receiver on loopback, which gets events; a suspended stream says why and resumes', async () => {
    await go(admin, '/log-streams');
    await admin.click('a:has-text("Create log stream")');
    await admin.fill('#name', 'Loopback SIEM');
    await admin.fill('[id="sink.httpEndpoint"]', 'http://siem.example.com/in');
    await admin.selectOption('[id="sink.httpContentFormat"]', 'JSONLINES');
    await admin.fill('[id="sink.httpAuthorization"]', 'Bearer stream-secret-123');
    await admin.fill('[id="sink.httpCustomHeaders"]', 'X-Source: gatehouse');
    await admin.check('input[name=filters][value="auth.login.fail"]');
    await submit(admin);
    expect(await admin.textContent('[id="sink.httpEndpoint-error"]')).toContain('https');
    expect(await admin.inputValue('[id="sink.httpAuthorization"]')).toBe(''); // never sent back
    await checkPage(admin, 'console-log-stream-new-error');
    await admin.fill('[id="sink.httpEndpoint"]', receiver.url);
    await admin.fill('[id="sink.httpAuthorization"]', 'Bearer stream-secret-123');
    await submit(admin);
    expect(await admin.textContent('[role=status]')).toContain('Log stream created');
    expect(await admin.textContent('main')).not.toContain('stream-secret-123');
    state.streamId = admin.url().split('/log-streams/')[1]?.split('?')[0];
    const stream = (await mgmt(`/log-streams/${state.streamId}`)).body;
    expect(stream).toMatchObject({
      name: 'Loopback SIEM', status: 'active', filters: [{ type: 'category', name: 'auth.login.fail' }],
      sink: { httpEndpoint: receiver.url, httpContentFormat: 'JSONLINES', httpCustomHeaders: [{ header: 'X-Source', value: 'gatehouse' }] },
    });
    expect(JSON.stringify(stream)).not.toContain('stream-secret-123');
    await checkPage(admin, 'console-log-stream');

    // A failed sign-in is an auth.login.fail event: delivered, with the authorization and the custom header.
    const failedLogin = async () => {
      const page = await phonePage(browser);
      await go(page, '/applications');
      await page.waitForURL(/\/u\/login/);
      await page.fill('#email', 'stranger@example.com');
      await page.fill('#password', 'whatever it is');
      await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
      await page.context().close();
    };
    await failedLogin();
    await flushLog();
    await live.gatehouse.logStreams.deliverNow();
    const delivered = receiver.events().map((item) => item.data);
    expect(delivered.map((e) => e.type)).toEqual(['fu']);
    expect(delivered[0]).toMatchObject({ user_name: 'stranger@example.com', client_id: 'gatehouse_console' });
    expect(receiver.deliveries[0]?.headers).toMatchObject({ authorization: 'Bearer stream-secret-123', 'x-source': 'gatehouse' });
    await go(admin, '/log-streams');
    await checkPage(admin, 'console-log-streams');

    // The receiver fails: retried, then suspended with the reason; resumed, it gets what it missed.
    receiver.respond = () => 500;
    await failedLogin();
    await flushLog();
    for (const wait of [0, 450, 850]) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      await live.gatehouse.logStreams.deliverNow();
    }
    expect((await mgmt(`/log-streams/${state.streamId}`)).body.status).toBe('suspended');
    await go(admin, `/log-streams/${state.streamId}`);
    expect(await admin.textContent('#status-reason')).toMatch(/^Suspended after 3 failed deliveries in a row; the last: .*answered HTTP 500/);
    await checkPage(admin, 'console-log-stream-suspended');
    receiver.respond = () => 200;
    await submit(admin, 'form[action$="/status"] button');
    expect(await admin.textContent('[role=status]')).toContain('Delivery resumes');
    expect((await mgmt(`/log-streams/${state.streamId}`)).body.status).toBe('active');
    const attempts = receiver.deliveries.length;
    await live.gatehouse.logStreams.deliverNow();
    // The failed attempts reached the receiver too (it answered 500); the one after resuming carries the missed event.
    expect(receiver.deliveries.length).toBe(attempts + 1);
    expect(new Set(receiver.events().map((item) => item.log_id)).size).toBe(2);
  });

  it('shows a viewer all of it, read only', async () => {
    const invitation = await mgmt('/operators/invitations', { method: 'POST', body: JSON.stringify({ email: VIEWER.email, role: 'viewer' }) });
    expect(invitation.status).toBe(201);
    const viewer = await phonePage(browser);
    viewer.setDefaultTimeout(10_000);
    await viewer.goto(invitation.body.invitation_url);
    await viewer.fill('#password', VIEWER.password);
    await viewer.fill('#password_again', VIEWER.password);
    await submit(viewer);
    await signIn(viewer, VIEWER);

    expect((await mgmt(`/clients/${state.helper}/trust`, { method: 'POST', body: JSON.stringify({ trust: 'pending' }) })).status).toBe(200);
    await go(viewer, '/pending');
    expect(await viewer.textContent('main')).toContain('Notes Helper');
    expect(await viewer.$('.trust-actions')).toBeNull();
    await checkPage(viewer, 'console-pending-viewer');
    await go(viewer, `/applications/${state.agent}`);
    expect(await viewer.textContent('#trust-heading')).toContain('blocked');
    expect(await viewer.$('.trust-actions')).toBeNull();
    await go(viewer, `/applications/${state.helper}/connections/revoke`);
    expect(await viewer.$('button.danger')).toBeNull();
    await go(viewer, '/settings');
    expect(await viewer.$('main form fieldset[disabled]')).not.toBeNull();
    expect(await viewer.inputValue('[id="rule.0.value"]')).toBe('evil.example');
    expect(await viewer.$('[id="rule.1.value"]')).toBeNull(); // no row to add one
    await checkPage(viewer, 'console-settings-viewer');
    await go(viewer, '/logs?type=fu');
    expect(await viewer.locator('main table.list tbody tr').count()).toBe(2);
    await go(viewer, '/log-streams');
    expect(await viewer.$('a:has-text("Create log stream")')).toBeNull();
    await go(viewer, `/log-streams/${state.streamId}`);
    expect(await viewer.$('form[action$="/status"]')).toBeNull();
    expect(await viewer.$('.danger-zone')).toBeNull();
    await checkPage(viewer, 'console-log-stream-viewer');
    await viewer.context().close();
  });
});
