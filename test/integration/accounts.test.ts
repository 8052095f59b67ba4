import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import type { Application, Connection } from '../../src/domain/model.ts';
import { createMailer, renderEmail } from '../../src/services/mail.ts';
import { authorizeQuery as authorizeWith, CALLBACK, createApi, createConnection, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, codeFlowTokens, createUser, formOf, pageOf, signIn } from '../support/flow.ts';
import { insertApplication, pathOf, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, managementCaller, type ManagementCaller } from '../support/management.ts';
import { linkIn, startSmtp, type TestSmtp } from '../support/smtp.ts';

describe('accounts: sign-up, email verification, password reset, email', () => {
  let smtp: TestSmtp;
  let test: TestGatehouse;
  let api: ManagementCaller;
  let audience: string;
  let app: Application;
  const templatesDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-templates-'));

  beforeAll(async () => {
    smtp = await startSmtp();
    test = await startGatehouse({ config: { mail: { smtp_url: smtp.url, from: 'Acme <accounts@acme.example>', templates_dir: templatesDir } } });
    api = await managementCaller(test);
    const notes = await createApi(test.gatehouse.stores);
    audience = notes.identifier;
    await createGrant(test.gatehouse.stores, { default_for: 'third_party_clients', audience, scope: ['read:notes'] });
    ({ app } = await thirdPartyApp(test.gatehouse.stores, { name: 'Partner Notes', token_endpoint_auth_method: 'none' }));
  });
  afterAll(async () => {
    await test.close();
    await smtp.close();
  });

  const authorizeQuery = (client: Application, extra: Record<string, string> = {}) => authorizeWith(client, { audience, scope: 'read:notes offline_access', ...extra });
  const loginPage = async (browser: Browser, client = app) => pageOf(await browser.open(authorizeQuery(client).path));
  const linkTo = (html: string, text: string) => {
    const href = new RegExp(`<a href="([^"]+)">${text}</a>`).exec(html)?.[1];
    if (!href) throw new Error(`no link "${text}"`);
    return href.replaceAll('&amp;', '&');
  };

  describe('sign-up', () => {
    it('creates an account from the login page, signs it in, and verifies its address through the emailed link', async () => {
      const browser = new Browser(test.app);
      const login = await loginPage(browser);
      const signup = pageOf(await browser.open(linkTo(login.text, 'Sign up')));
      expect(signup.text).toContain('Create your account');
      expect(signup.text).toContain('At least 8 characters');

      const weak = pageOf(await browser.submit(signup, { email: 'newbie@example.com', password: 'short' }));
      expect(weak.status).toBe(400);
      expect(weak.text).toContain('Choose a stronger password');
      const outcome = await browser.submit(weak, { email: 'Newbie@Example.com', password: 'a long enough password' });
      expect(pageOf(outcome).text).toContain('value="accept"'); // signed in: the consent page of the third-party app
      const [user] = await test.gatehouse.stores.durable.users.find({ email: 'newbie@example.com' });
      expect(user).toMatchObject({ connection: 'Username-Password-Authentication', email_verified: false, logins_count: 1 });

      const mail = await smtp.nextMailTo('newbie@example.com');
      expect(mail.subject).toBe('Verify your email address');
      expect(mail.from?.value).toEqual([{ name: 'Acme', address: 'accounts@acme.example' }]);
      expect(mail.text).toContain('signing up to Partner Notes');
      const link = linkIn(mail, '/u/email-verification');
      expect(link.startsWith('http://gatehouse.test/u/email-verification?ticket=')).toBe(true);

      const landing = await request(test.app).get(pathOf(link));
      expect(landing.status).toBe(200);
      expect(landing.text).toContain('newbie@example.com');
      expect((await test.gatehouse.stores.durable.users.get(user!.user_id))?.email_verified).toBe(false); // opening changes nothing
      const { fields } = formOf(landing.text);
      const verified = await request(test.app).post(pathOf(link)).type('form').send(fields);
      expect(verified.text).toContain('Your email address is verified');
      expect((await test.gatehouse.stores.durable.users.get(user!.user_id))?.email_verified).toBe(true);
      const welcome = await smtp.nextMailTo('newbie@example.com');
      expect(welcome.subject).toBe('Welcome to Partner Notes');

      const again = await request(test.app).post(pathOf(link)).type('form').send(fields);
      expect(again.status).toBe(400);
      expect(again.text).toContain('invalid_ticket');
    });

    it('refuses an address that has an account, and is closed where the connection disables sign-up', async () => {
      await createUser(test.gatehouse.stores, 'taken@example.com', 'taken password 1');
      const browser = new Browser(test.app);
      const signup = pageOf(await browser.open(linkTo((await loginPage(browser)).text, 'Sign up')));
      const taken = pageOf(await browser.submit(signup, { email: 'taken@example.com', password: 'a long enough password' }));
      expect(taken.status).toBe(409);
      expect(taken.text).toContain('An account with this email already exists');

      const closed = await createConnection(test.gatehouse.stores, { name: 'closed-db', is_domain_connection: true });
      const [open] = await test.gatehouse.stores.durable.connections.find({ name: 'Username-Password-Authentication' });
      await api('patch', `/connections/${open!.id}`, { options: { disable_signup: true } }).expect(200);
      await api('patch', `/connections/${closed.id}`, { options: { disable_signup: true } }).expect(200);
      try {
        const other = new Browser(test.app);
        const login = await loginPage(other);
        expect(login.text).not.toContain('Sign up');
        const forced = pageOf(await other.open(`/u/signup?state=${new URL(formOf(login.text).action, 'http://x').searchParams.get('state')}`));
        expect(forced.status).toBe(403);
        expect(forced.text).toContain('signup_disabled');
      } finally {
        await api('patch', `/connections/${open!.id}`, { options: { disable_signup: false } }).expect(200);
        await api('delete', `/connections/${closed.id}`).expect(204);
      }
    });

    it('applies the connection\'s password policy (Auth0\'s levels) to sign-up and to the Management API', async () => {
      const strict = (await api('post', '/connections', { name: 'strict-db', strategy: 'auth0', is_domain_connection: true, options: { passwordPolicy: 'excellent' } }).expect(201)).body as Connection;
      try {
        expectApiError(await api('post', '/users', { connection: 'strict-db', email: 'p@example.com', password: 'aaaaaaaaaa' }), 400, 'invalid_body', /PasswordStrengthError: Password is too weak \(needs: At least three of/);
        expectApiError(await api('post', '/users', { connection: 'strict-db', email: 'p@example.com', password: 'Abc1111xyzw' }), 400, 'invalid_body', /No character more than twice in a row/);
        await api('post', '/users', { connection: 'strict-db', email: 'p@example.com', password: 'Abc11xyz!w' }).expect(201);
        const browser = new Browser(test.app);
        const signup = pageOf(await browser.open(linkTo((await loginPage(browser)).text, 'Sign up')));
        expect(signup.text).toContain('No character more than twice in a row');
      } finally {
        await api('delete', `/connections/${strict.id}`).expect(204);
      }
    });
  });

  describe('password reset', () => {
    it('sends a link (saying nothing about unknown addresses), changes the password, and ends earlier sessions and refresh tokens', async () => {
      await createUser(test.gatehouse.stores, 'forgetful@example.com', 'old password 123');
      const browser = new Browser(test.app);
      const tokens = await codeFlowTokens(test.app, app, { browser, email: 'forgetful@example.com', password: 'old password 123', query: authorizeQuery(app) });
      expect(tokens.status).toBe(200);
      const oldRefresh = tokens.body.refresh_token as string;
      expect(oldRefresh).toBeTruthy();
      // A first-party application's refresh token too (no consent record lists it).
      const { app: own, secret } = await insertApplication(test.gatehouse.stores, { name: 'Own App', grant_types: ['authorization_code', 'refresh_token'] });
      const ownTokens = await codeFlowTokens(test.app, own, { browser: new Browser(test.app), email: 'forgetful@example.com', password: 'old password 123', query: authorizeQuery(own), secret });
      expect(ownTokens.body.refresh_token).toBeTruthy();

      const other = new Browser(test.app);
      const forgot = pageOf(await other.open(linkTo((await loginPage(other)).text, 'Forgot password\\?')));
      const unknown = pageOf(await other.submit(forgot, { email: 'nobody@example.com' }));
      expect(unknown.text).toContain('Check your email');
      const known = pageOf(await other.submit(forgot, { email: 'Forgetful@example.com' }));
      expect(known.text).toBe(unknown.text.replace('nobody@example.com', 'Forgetful@example.com'));
      const mail = await smtp.nextMailTo('forgetful@example.com');
      expect(mail.subject).toBe('Reset your password');
      expect(smtp.received.some((m) => m.to && JSON.stringify(m.to).includes('nobody@example.com'))).toBe(false);

      const link = linkIn(mail, '/u/reset-password');
      const form = await request(test.app).get(pathOf(link));
      expect(form.text).toContain('Choose a new password');
      const weak = await request(test.app).post(pathOf(link)).type('form').send({ ...formOf(form.text).fields, password: 'short' });
      expect(weak.status).toBe(400);
      expect(weak.text).toContain('At least 8 characters <strong>(missing)</strong>');
      // Tokens carry whole seconds: the reset happens in a later second than the tokens above (predatesPasswordReset).
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10));
      const changed = await request(test.app).post(pathOf(link)).type('form').send({ ...formOf(form.text).fields, password: 'new password 456' });
      expect(changed.text).toContain('Your password was changed');
      const reused = await request(test.app).post(pathOf(link)).type('form').send({ ...formOf(form.text).fields, password: 'another password 789' });
      expect(reused.status).toBe(400);

      const refresh = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: oldRefresh, client_id: app.client_id });
      expect(refresh.body.error).toBe('invalid_grant');
      const ownRefresh = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: ownTokens.body.refresh_token, client_id: own.client_id, client_secret: secret });
      expect(ownRefresh.body.error).toBe('invalid_grant');
      // The browser's session from before the reset no longer signs it in: the login page again.
      const again = await browser.open(authorizeQuery(app).path);
      expect(pageOf(again).text).toContain('name="password"');
      const wrong = pageOf(await signIn(browser, again, 'forgetful@example.com', 'old password 123'));
      expect(wrong.status).toBe(401);
      const fresh = await codeFlowTokens(test.app, app, { browser: new Browser(test.app), email: 'forgetful@example.com', password: 'new password 456', query: authorizeQuery(app) });
      expect(fresh.status).toBe(200);
      const stillFresh = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: fresh.body.refresh_token, client_id: app.client_id });
      expect(stillFresh.status).toBe(200);
    });

    it('says plainly when a link is unknown or expired', async () => {
      const unknown = await request(test.app).get('/u/reset-password?ticket=made-up');
      expect(unknown.status).toBe(400);
      expect(unknown.text).toContain('This link cannot be used');
      const user = await createUser(test.gatehouse.stores, 'late@example.com', 'late password 1');
      const { body } = await api('post', '/tickets/password-change', { user_id: user.user_id, ttl_sec: 1 }).expect(201);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const expired = await request(test.app).get(pathOf(body.ticket));
      expect(expired.status).toBe(400);
      expect(expired.text).toMatch(/This link (has expired|cannot be used)/);
    });
  });

  describe('Management API', () => {
    it('makes password change and email verification tickets, and sends the verification email', async () => {
      const user = await createUser(test.gatehouse.stores, 'ticketed@example.com', 'ticket password 1');
      await test.gatehouse.stores.durable.users.update(user.user_id, { set: { email_verified: false } });
      const change = await api('post', '/tickets/password-change', { user_id: user.user_id, result_url: 'https://app.example.com/done', mark_email_as_verified: true }).expect(201);
      expect(Object.keys(change.body)).toEqual(['ticket']);
      const form = await request(test.app).get(pathOf(change.body.ticket));
      const done = await request(test.app).post(pathOf(change.body.ticket)).type('form').send({ ...formOf(form.text).fields, password: 'ticket password 2' });
      expect(done.text).toContain('href="https://app.example.com/done"');
      expect((await test.gatehouse.stores.durable.users.get(user.user_id))?.email_verified).toBe(true);

      const byEmail = await api('post', '/tickets/password-change', { connection_id: (await test.gatehouse.stores.durable.connections.find({ name: 'Username-Password-Authentication' }))[0]!.id, email: 'Ticketed@example.com' }).expect(201);
      expect(byEmail.body.ticket).toMatch(/\/u\/reset-password\?ticket=/);
      expectApiError(await api('post', '/tickets/password-change', { email: 'ticketed@example.com' }), 400, 'invalid_body', /user_id, or connection_id and email/);
      expectApiError(await api('post', '/tickets/password-change', { user_id: 'auth0|nobody' }), 404, 'inexistent_user');

      const verification = await api('post', '/tickets/email-verification', { user_id: user.user_id, client_id: app.client_id }).expect(201);
      expect(verification.body.ticket).toMatch(/^http:\/\/gatehouse\.test\/u\/email-verification\?ticket=/);

      const job = await api('post', '/jobs/verification-email', { user_id: user.user_id }).expect(201);
      expect(job.body).toMatchObject({ type: 'verification_email', status: 'completed' });
      expect((await smtp.nextMailTo('ticketed@example.com')).subject).toBe('Verify your email address');
    });

    it('answers 503 when the SMTP relay does not answer', async () => {
      const broken = await startGatehouse({ config: { mail: { smtp_url: 'smtp://127.0.0.1:9', from: null, templates_dir: templatesDir } } });
      try {
        const user = await createUser(broken.gatehouse.stores, 'unlucky@example.com', 'unlucky password');
        const caller = await managementCaller(broken);
        expectApiError(await caller('post', '/jobs/verification-email', { user_id: user.user_id }), 503, 'temporarily_unavailable', /SMTP relay/);
        // The page of a reset request says so too, and the person can try again.
        const browser = new Browser(broken.app);
        const { app: partner } = await thirdPartyApp(broken.gatehouse.stores);
        const notes = await createApi(broken.gatehouse.stores);
        await createGrant(broken.gatehouse.stores, { default_for: 'third_party_clients', audience: notes.identifier, scope: ['read:notes'] });
        const login = pageOf(await browser.open(authorizeWith(partner, { audience: notes.identifier, scope: 'read:notes' }).path));
        const forgot = pageOf(await browser.open(linkTo(login.text, 'Forgot password\\?')));
        const failed = pageOf(await browser.submit(forgot, { email: 'unlucky@example.com' }));
        expect(failed.status).toBe(503);
        expect(failed.text).toContain('We could not send the email');
      } finally {
        await broken.close();
      }
    });
  });

  describe('email templates', () => {
    it('never show a strict third-party application\'s callback domain, and can be replaced from the templates folder', async () => {
      const tenant = { friendly_name: 'Acme' };
      const firstParty = { name: 'Acme Web', callback_domain: 'https://web.acme.example' };
      const rendered = renderEmail('welcome_email', 'x@example.com', { user: { email: 'x@example.com' }, application: firstParty, tenant }, templatesDir);
      expect(rendered.html).toContain('href="https://web.acme.example"');

      // Signed up through a strict third-party application (open-redirect protection): no callback in the welcome email.
      const browser = new Browser(test.app);
      const signup = pageOf(await browser.open(linkTo((await loginPage(browser)).text, 'Sign up')));
      await browser.submit(signup, { email: 'guarded@example.com', password: 'a long enough password' });
      const link = linkIn(await smtp.nextMailTo('guarded@example.com'), '/u/email-verification');
      const landing = await request(test.app).get(pathOf(link));
      await request(test.app).post(pathOf(link)).type('form').send(formOf(landing.text).fields);
      const welcome = await smtp.nextMailTo('guarded@example.com');
      expect(welcome.html).not.toContain(new URL(CALLBACK).host);
      expect(welcome.text).not.toContain(new URL(CALLBACK).host);

      writeFileSync(path.join(templatesDir, 'reset_email.eta'), '<title>Your Acme reset</title><p>Go to <%= it.url %></p>');
      writeFileSync(path.join(templatesDir, 'reset_email.txt.eta'), 'Go to <%= it.url %>');
      await createUser(test.gatehouse.stores, 'custom@example.com', 'custom password 1');
      const other = new Browser(test.app);
      const forgot = pageOf(await other.open(linkTo((await loginPage(other)).text, 'Forgot password\\?')));
      await other.submit(forgot, { email: 'custom@example.com' });
      const custom = await smtp.nextMailTo('custom@example.com');
      expect(custom.subject).toBe('Your Acme reset');
      expect(custom.text).toMatch(/^Go to http:\/\/gatehouse\.test\/u\/reset-password\?ticket=\S+$/);
    });

    it('without SMTP_URL, writes each message to the outbox (owner-only) and logs where, never the link', async () => {
      const outbox = mkdtempSync(path.join(tmpdir(), 'gatehouse-outbox-'));
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
      const mailer = createMailer({ smtpUrl: null, from: 'no-reply@localhost', outboxDir: path.join(outbox, 'outbox') }, logger);
      const message = renderEmail('reset_email', 'dev@example.com', { url: 'http://localhost:3000/u/reset-password?ticket=SECRET-LINK', lifetime: '5 day(s)', user: { email: 'dev@example.com' }, application: { name: '', callback_domain: '' }, tenant: { friendly_name: 'Dev' } }, '/nonexistent');
      await mailer.send(message);
      const [file] = readdirSync(path.join(outbox, 'outbox'));
      const written = path.join(outbox, 'outbox', file!);
      expect(statSync(written).mode & 0o777).toBe(0o600);
      expect(readFileSync(written, 'utf8')).toContain('SECRET-LINK');
      expect(lines.join('')).toContain(written);
      expect(lines.join('')).not.toContain('SECRET-LINK');
    });
  });

  it('keeps sign-up and reset requests under the per-address limit', async () => {
    const limited = await startGatehouse({ config: { login: { max_failures_per_account: 10, max_failures_per_address: 2, window_minutes: 15 }, mail: { smtp_url: smtp.url, from: null, templates_dir: templatesDir } } });
    try {
      const { app: partner } = await thirdPartyApp(limited.gatehouse.stores);
      const notes = await createApi(limited.gatehouse.stores);
      await createGrant(limited.gatehouse.stores, { default_for: 'third_party_clients', audience: notes.identifier, scope: ['read:notes'] });
      const browser = new Browser(limited.app);
      const login = pageOf(await browser.open(authorizeWith(partner, { audience: notes.identifier, scope: 'read:notes' }).path));
      const forgot = pageOf(await browser.open(linkTo(login.text, 'Forgot password\\?')));
      for (const email of ['a@example.com', 'b@example.com']) expect(pageOf(await browser.submit(forgot, { email })).status).toBe(200);
      expect(pageOf(await browser.submit(forgot, { email: 'c@example.com' })).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
  it('records sign-ups, verification and password changes in the tenant log (ss, fs, svr, sv, fv, scpr, scp, fcp)', async () => {
    await test.gatehouse.audit.flush();
    const types = async (q: string) => ((await api('get', `/logs?q=${encodeURIComponent(q)}&per_page=100`).expect(200)).body as { type: string; user_name?: string; description: string }[]);
    expect(await types('type:ss AND user_name:newbie@example.com')).toEqual([expect.objectContaining({ type: 'ss' })]);
    expect((await types('type:fs')).map((event) => event.description)).toEqual(expect.arrayContaining([
      'The password is too weak for the connection\'s policy', 'The user already exists',
    ]));
    expect(await types('type:svr AND user_name:newbie@example.com')).not.toHaveLength(0);
    expect(await types('type:sv AND user_name:newbie@example.com')).toHaveLength(1);
    expect(await types('type:fv')).not.toHaveLength(0); // the verification link used twice
    expect(await types('type:scpr AND user_name:forgetful@example.com')).not.toHaveLength(0);
    expect(await types('type:scp AND user_name:forgetful@example.com')).toHaveLength(1);
    expect(await types('type:fcp')).not.toHaveLength(0); // an unknown or expired link
  });
});
