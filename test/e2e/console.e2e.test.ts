import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { authorizeQuery } from '../support/fixtures.ts';
import { codeFlowTokens } from '../support/flow.ts';
import { checkPage, chromiumMissing, launchChromium, phonePage, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';
import { consoleDriver } from '../support/console-driver.ts';

const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] console skipped: ${chromiumMissing}\n`);

const ADMIN = { email: 'ada@ops.example', password: 'ada console password' };
const VIEWER = { email: 'vic@ops.example', password: 'vic console password' };
const PARTNER_CALLBACK = 'https://partner.example.com/callback';
const ITEMS = 'https://items.example.com/';

/**
 * Every Dashboard step of the source documents, driven in Chromium through the console, each checked through the
 * Management API (with the admin application's own token, not the console's). The steps build on each other.
 */
suite(`console in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let live: LiveGatehouse;
  let browser: Browser;
  let admin: Page;
  const state: { partner?: string; partnerSecret?: string; itemsApi?: string; sync?: string; syncSecret?: string; userId?: string } = {};
  const { mgmt, go, submit, signIn } = consoleDriver(() => live);

  beforeAll(async () => {
    live = await startLiveGatehouse({ tenant: { friendly_name: 'Acme', default_audience: '', allow_permissive_third_party_clients: false } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });

  it('the first-start link makes the first operator, who signs in to the console', async () => {
    const link = live.gatehouse.operatorBootstrap.signUpUrl as string;
    expect(link).toMatch(/\/console\/join\?invitation=/);
    admin = await phonePage(browser);
    admin.setDefaultTimeout(10_000);
    await admin.goto(link);
    await checkPage(admin, 'console-join');
    await admin.fill('#email', ADMIN.email);
    await admin.fill('#password', ADMIN.password);
    await admin.fill('#password_again', 'not the same');
    await submit(admin);
    expect(await admin.textContent('#password_again-error')).toContain('differ');
    await admin.fill('#password', ADMIN.password);
    await admin.fill('#password_again', ADMIN.password);
    await submit(admin);
    await signIn(admin, ADMIN);
    expect(admin.url()).toBe(`${live.origin}/console/applications`);
    expect(await admin.textContent('main')).toContain(ADMIN.email);
    await checkPage(admin, 'console-applications');
    const operators = await mgmt('/operators');
    expect(operators.body).toEqual([expect.objectContaining({ email: ADMIN.email, role: 'admin' })]);
    // The link is used up.
    const again = await phonePage(browser);
    await again.goto(link);
    expect(await again.textContent('h1')).toBe('This invitation cannot be used');
    await again.context().close();
  });

  it('creates a third-party application: a strict tpc_ application whose secret is shown once', async () => {
    await go(admin, '/applications/new');
    await checkPage(admin, 'console-application-new');
    await admin.fill('#name', 'Partner Application');
    await admin.check('input[name=app_type][value=regular_web]');
    await admin.check('input[name=third_party]');
    await submit(admin);
    const clientId = (await admin.textContent('#client-id')) as string;
    const secret = (await admin.textContent('#client-secret')) as string;
    expect(clientId).toMatch(/^tpc_/);
    expect(await admin.textContent('main')).toContain('will not be shown again');
    await checkPage(admin, 'console-application-created');
    const { body } = await mgmt(`/clients/${clientId}`);
    expect(body).toMatchObject({ name: 'Partner Application', is_first_party: false, third_party_security_mode: 'strict', app_type: 'regular_web' });
    Object.assign(state, { partner: clientId, partnerSecret: secret });
  });

  it('changes its settings: callbacks, origins, grant types, authentication, open redirect protection, refresh tokens, logo; errors show beside the field', async () => {
    await go(admin, `/applications/${state.partner}`);
    await checkPage(admin, 'console-application');
    await admin.fill('[id="callbacks"]', 'http://partner.example.com/callback');
    await submit(admin);
    expect(await admin.textContent('[id="callbacks-error"]')).toContain('https');
    await checkPage(admin, 'console-application-error');

    await admin.fill('[id="callbacks"]', PARTNER_CALLBACK);
    await admin.fill('[id="allowed_origins"]', 'https://partner.example.com');
    await admin.fill('[id="logo_uri"]', 'https://partner.example.com/logo.png');
    await admin.check('input[name=grant_types][value=client_credentials]');
    await admin.selectOption('[id="token_endpoint_auth_method"]', 'client_secret_basic');
    await admin.uncheck('input[name=redirection_policy]');
    await admin.fill('[id="refresh_token.token_lifetime"]', '864000');
    await admin.fill('[id="refresh_token.idle_token_lifetime"]', '86400');
    await submit(admin);
    expect(await admin.textContent('[role=status]')).toContain('Saved');
    const { body } = await mgmt(`/clients/${state.partner}`);
    expect(body).toMatchObject({
      callbacks: [PARTNER_CALLBACK], allowed_origins: ['https://partner.example.com'], logo_uri: 'https://partner.example.com/logo.png',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], token_endpoint_auth_method: 'client_secret_basic',
      redirection_policy: 'allow_always', refresh_token: expect.objectContaining({ token_lifetime: 864000, idle_token_lifetime: 86400 }),
    });
    expect(body.allowed_logout_urls).toEqual([]); // not offered for strict applications, so never sent

    // Open Redirect Protection back on, and the secret sent in the body again.
    await admin.check('input[name=redirection_policy]');
    await admin.selectOption('[id="token_endpoint_auth_method"]', 'client_secret_post');
    await submit(admin);
    expect((await mgmt(`/clients/${state.partner}`)).body).toMatchObject({ redirection_policy: 'open_redirect_protection', token_endpoint_auth_method: 'client_secret_post' });
  });

  it('rotates the secret, shown once', async () => {
    await go(admin, `/applications/${state.partner}`);
    await submit(admin, 'form[action$="/rotate-secret"] button');
    const secret = (await admin.textContent('#client-secret')) as string;
    expect(secret).not.toBe(state.partnerSecret);
    state.partnerSecret = secret;
    await checkPage(admin, 'console-application-rotated');
  });

  it('creates an API with permissions, token settings and per-app authorization for both access kinds', async () => {
    await go(admin, '/apis/new');
    await checkPage(admin, 'console-api-new');
    await admin.fill('#name', 'Items API');
    await admin.fill('#identifier', ITEMS);
    await submit(admin);
    state.itemsApi = admin.url().split('/apis/')[1] as string;
    await admin.click('a:has-text("Permissions")');
    for (const [value, description] of [['read:items', 'Read your items'], ['write:items', 'Change your items']] as const) {
      await admin.fill('#value', value);
      await admin.fill('#description', description);
      await submit(admin);
    }
    expect(await admin.textContent('main')).toContain('Change your items');
    await checkPage(admin, 'console-api-permissions');

    await go(admin, `/apis/${state.itemsApi}`);
    await admin.fill('#token_lifetime', '3600');
    await submit(admin, 'form[action$="' + state.itemsApi + '"] button[type=submit]');
    expect(await admin.textContent('#token_lifetime_for_web-error')).toContain('cannot be longer than token_lifetime');
    await admin.fill('#token_lifetime_for_web', '1800');
    await admin.check('input[name=allow_offline_access]');
    await admin.selectOption('[id="subject_type_authorization.user"]', 'require_client_grant');
    await admin.selectOption('[id="subject_type_authorization.client"]', 'require_client_grant');
    await submit(admin, 'form[action$="' + state.itemsApi + '"] button[type=submit]');
    expect(await admin.textContent('[role=status]')).toContain('Settings saved');
    await checkPage(admin, 'console-api-settings');
    const { body } = await mgmt(`/resource-servers/${state.itemsApi}`);
    expect(body).toMatchObject({
      identifier: ITEMS, token_lifetime: 3600, allow_offline_access: true,
      scopes: [{ value: 'read:items', description: 'Read your items' }, { value: 'write:items', description: 'Change your items' }],
      subject_type_authorization: { user: { policy: 'require_client_grant' }, client: { policy: 'require_client_grant' } },
    });
  });

  it('sets the default permissions for third-party apps', async () => {
    await go(admin, `/apis/${state.itemsApi}`);
    await admin.check('input[name="user.on"]');
    await admin.check('input[name="user.scope"][value="read:items"]');
    await submit(admin, 'form[action$="/defaults"] button[type=submit]');
    expect(await admin.textContent('[role=status]')).toContain('Default permissions');
    const { body } = await mgmt(`/client-grants?audience=${encodeURIComponent(ITEMS)}&default_for=third_party_clients`);
    expect(body).toEqual([expect.objectContaining({ subject_type: 'user', scope: ['read:items'], allow_all_scopes: false })]);
  });

  it('grants one application read access for user-delegated access, and its token is bounded by that grant', async () => {
    await go(admin, `/apis/${state.itemsApi}/access`);
    await checkPage(admin, 'console-api-access');
    await admin.click(`a[href$="/access/${state.partner}"]`);
    await admin.check('input[name="user.on"]');
    await admin.check('input[name="user.scope"][value="read:items"]');
    await checkPage(admin, 'console-api-grant');
    await submit(admin);
    expect(await admin.textContent('main')).toContain('Granted: read:items');
    const { body } = await mgmt(`/client-grants?client_id=${state.partner}`);
    expect(body).toEqual([expect.objectContaining({ audience: ITEMS, subject_type: 'user', scope: ['read:items'] })]);

    // A person uses Partner Application, which asks for more than its grant: the token holds read:items only.
    await mgmt('/users', { method: 'POST', body: JSON.stringify({ connection: 'Username-Password-Authentication', email: 'jo@example.com', password: 'jo password 123' }) });
    const query = authorizeQuery({ client_id: state.partner as string, callbacks: [PARTNER_CALLBACK] } as never, { audience: ITEMS, scope: 'openid read:items write:items' });
    const tokens = await codeFlowTokens(live.origin as unknown as Express, { client_id: state.partner as string, callbacks: [PARTNER_CALLBACK] }, {
      email: 'jo@example.com', password: 'jo password 123', query, secret: state.partnerSecret as string,
    });
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.access_token).scope).toBe('read:items');
  });

  it('runs the Test tab: a sample client-credentials request with decoded claims and its curl', async () => {
    await go(admin, '/applications/new');
    await admin.fill('#name', 'Inventory Sync');
    await admin.check('input[name=app_type][value=non_interactive]');
    await submit(admin);
    state.sync = (await admin.textContent('#client-id')) as string;
    state.syncSecret = (await admin.textContent('#client-secret')) as string;
    await go(admin, `/apis/${state.itemsApi}/access/${state.sync}`);
    await admin.check('input[name="client.on"]');
    await admin.check('input[name="client.all"]');
    await submit(admin);

    await go(admin, `/apis/${state.itemsApi}/test`);
    await admin.selectOption('#client_id', state.sync as string);
    await admin.fill('#client_secret', 'wrong secret');
    await submit(admin);
    expect(await admin.textContent('[id="client_secret-error"]')).toContain('invalid_client');
    await admin.fill('#client_secret', state.syncSecret as string);
    await submit(admin);
    const claims = (await admin.textContent('#token-claims')) as string;
    expect(claims).toContain(ITEMS);
    expect(claims).toContain('read:items write:items');
    expect(await admin.textContent('#curl')).toContain(`--data 'client_id=${state.sync}'`);
    expect(await admin.textContent('main')).not.toContain(state.syncSecret);
    await checkPage(admin, 'console-api-test');
  });

  it('creates a database connection, promotes it to domain level and chooses its applications', async () => {
    await go(admin, '/connections/new');
    await admin.fill('#name', 'Partner-Users');
    await submit(admin);
    await admin.check('input[name=is_domain_connection]');
    await admin.check(`input[name=enabled_clients][value="${state.sync}"]`);
    await submit(admin);
    expect(await admin.textContent('[role=status]')).toContain('Saved');
    await checkPage(admin, 'console-connection');
    const { body } = await mgmt('/connections?name=Partner-Users');
    expect(body).toEqual([expect.objectContaining({ is_domain_connection: true, enabled_clients: [state.sync] })]);
    await go(admin, '/connections');
    expect(await admin.textContent('main')).toContain('gatehouse-operators'); // listed, and reserved:
    const reserved = (await mgmt('/connections?name=gatehouse-operators')).body[0];
    expect((await mgmt(`/connections/${reserved.id}`, { method: 'PATCH', body: JSON.stringify({ is_domain_connection: true }) })).status).toBe(400);
    await checkPage(admin, 'console-connections');
  });

  it('enables dynamic client registration (with its warning), and a client registers', async () => {
    await go(admin, '/settings');
    expect(await admin.textContent('#dcr-warning')).toContain('anyone can create applications');
    await admin.check('input[name="flags.enable_dynamic_client_registration"]');
    await submit(admin);
    expect(await admin.textContent('[role=status]')).toContain('Settings saved');
    expect((await mgmt('/tenants/settings')).body.flags.enable_dynamic_client_registration).toBe(true);
    const registered = await fetch(`${live.origin}/oidc/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'My Dynamic Application', redirect_uris: ['https://application.example.com/callback'] }),
    });
    expect(registered.status).toBe(201);
    expect((await registered.json() as { client_id: string }).client_id).toMatch(/^tpc_/);

    // Branding: a colour that makes the pages unreadable is refused beside its field.
    await admin.fill('[id="branding.primary_color"]', '#ffff00');
    await submit(admin);
    expect(await admin.textContent('[id="branding.primary_color-error"]')).toContain('WCAG');
    await checkPage(admin, 'console-settings-error');
    await go(admin, '/settings');
    await checkPage(admin, 'console-settings');
  });

  it('creates a network ACL', async () => {
    await go(admin, '/network-acls/new');
    await admin.fill('#description', 'Documentation network');
    await admin.fill('[id="rule.match.ipv4_cidrs"]', '192.0.2.0/24');
    await admin.selectOption('[id="rule.scope"]', 'dynamic_client_registration');
    await submit(admin);
    expect(await admin.textContent('[role=status]')).toContain('Saved');
    await checkPage(admin, 'console-network-acl');
    const { body } = await mgmt('/network-acls');
    expect(body).toEqual([expect.objectContaining({ description: 'Documentation network', rule: expect.objectContaining({ scope: 'dynamic_client_registration', action: { block: true }, match: { ipv4_cidrs: ['192.0.2.0/24'] } }) })]);
    await go(admin, '/network-acls');
    await checkPage(admin, 'console-network-acls');
  });

  it('manages users: search, create, block and unblock, change a password, revoke a consent', async () => {
    await go(admin, '/users/new');
    await admin.fill('#email', 'sam@example.com');
    await admin.fill('#password', 'short');
    await submit(admin);
    expect(await admin.textContent('#password-error')).toContain('password');
    await admin.fill('#password', 'sam password 123');
    await submit(admin);
    expect(await admin.textContent('[role=status]')).toContain('User created');

    await go(admin, '/users?email=jo@example.com');
    await checkPage(admin, 'console-users');
    await admin.click('a:has-text("jo@example.com")');
    state.userId = decodeURIComponent(admin.url().split('/users/')[1] as string);
    expect(await admin.textContent('main')).toContain('Partner Application'); // the consent given above
    await checkPage(admin, 'console-user');
    await submit(admin, 'form[action$="/blocked"] button');
    expect((await mgmt(`/users/${encodeURIComponent(state.userId)}`)).body.blocked).toBe(true);
    await submit(admin, 'form[action$="/blocked"] button');
    expect((await mgmt(`/users/${encodeURIComponent(state.userId)}`)).body.blocked).toBe(false);
    await admin.fill('#password', 'jo new password 456');
    await submit(admin, 'form[action$="/password"] button');
    expect(await admin.textContent('[role=status]')).toContain('Password changed');
    await submit(admin, 'form[action*="/consents/"] button');
    expect(await admin.textContent('[role=status]')).toContain('Consent revoked');
    expect((await mgmt(`/grants?user_id=${encodeURIComponent(state.userId)}`)).body).toEqual([]);
    await go(admin, '/consents');
    await checkPage(admin, 'console-consents');
  });

  it('invites a viewer, who reads but cannot change; an admin removes them and their session ends', async () => {
    await go(admin, '/operators');
    await admin.fill('#email', VIEWER.email);
    await admin.selectOption('#role', 'viewer');
    await submit(admin);
    const link = (await admin.textContent('#invitation-url')) as string;
    await checkPage(admin, 'console-operators');

    const viewer = await phonePage(browser);
    await viewer.goto(link);
    expect(await viewer.textContent('main')).toContain(VIEWER.email);
    await viewer.fill('#password', VIEWER.password);
    await viewer.fill('#password_again', VIEWER.password);
    await submit(viewer);
    await signIn(viewer, VIEWER);
    expect(await viewer.textContent('main')).toContain('Partner Application');
    expect(await viewer.$('a:has-text("Create application")')).toBeNull();
    await go(viewer, `/applications/${state.partner}`);
    expect(await viewer.$('main form fieldset[disabled]')).not.toBeNull();
    await checkPage(viewer, 'console-application-viewer');

    await go(admin, '/operators');
    await submit(admin, `form[action$="/remove"] button[aria-label="Remove ${VIEWER.email}"]`);
    expect(await admin.textContent('[role=status]')).toContain('Operator removed');
    expect((await mgmt('/operators')).body.map((o: { email: string }) => o.email)).toEqual([ADMIN.email]);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the Management API's memory of a caller lasts a second
    await go(viewer, '/applications');
    expect(await viewer.textContent('h1')).toBe('Your console session has ended');
    await viewer.context().close();
  });

  it('deletes an application after a confirmation naming what goes with it', async () => {
    await go(admin, `/applications/${state.partner}/delete`);
    const text = await admin.textContent('main');
    expect(text).toContain('1 API grant');
    expect(text).toContain(ITEMS);
    await checkPage(admin, 'console-application-delete');
    await submit(admin, 'form.form-actions button.danger');
    expect((await mgmt(`/clients/${state.partner}`)).status).toBe(404);
  });

  it('signs out', async () => {
    await submit(admin, 'form[action$="/logout"] button');
    expect(await admin.textContent('h1')).toBe('You are signed out of the console');
    await go(admin, '/applications');
    await admin.waitForURL(/\/u\/login/);
  });
});
