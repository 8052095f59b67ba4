import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { startDocumentHost, type DocumentHost } from '../support/document-host.ts';
import { createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, isConsentPage, pageOf, signIn } from '../support/flow.ts';
import { pkcePair, startGatehouse, testConfig, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, managementCaller, type ManagementCaller } from '../support/management.ts';

const email = 'ladder@example.com';
const password = 'correct horse battery';
const CALLBACK = 'https://agent.example.com/callback';

const register = (app: Express, body: Record<string, unknown>) =>
  request(app).post('/oidc/register').set('Content-Type', 'application/json').send(JSON.stringify({ token_endpoint_auth_method: 'none', ...body }));

describe('the trust ladder of self-registered applications', () => {
  let test: TestGatehouse;
  let host: DocumentHost;
  let management: ManagementCaller;
  let apiIdentifier: string;

  beforeAll(async () => {
    host = await startDocumentHost();
    test = await startGatehouse({
      config: { cimd: { allowed_private_hosts: ['localhost'], known_agents: [] }, registration: { ...testConfig().registration, rate_limit_per_second: 1000 } },
    });
    const api = await createApi(test.gatehouse.stores);
    apiIdentifier = api.identifier;
    await createGrant(test.gatehouse.stores, { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes'] });
    await createUser(test.gatehouse.stores, email, password);
    management = await managementCaller(test);
    const settings = await management('patch', '/tenants/settings', {
      flags: { enable_dynamic_client_registration: true }, client_id_metadata_document_supported: true,
      self_registered_clients: { initial_trust: { dynamic_registration: 'pending' } },
    });
    expect(settings.body.self_registered_clients).toEqual({
      initial_trust: { dynamic_registration: 'pending', client_id_metadata_document: 'trusted' }, trust_rules: [], over_budget: 'refuse',
    });
  });
  afterAll(async () => {
    await test.close();
    await host.close();
  });

  function authorizePath(clientId: string, redirectUri = CALLBACK) {
    const { verifier, challenge } = pkcePair();
    const query = new URLSearchParams({
      client_id: clientId, response_type: 'code', redirect_uri: redirectUri, state: 'st', code_challenge: challenge, code_challenge_method: 'S256',
      scope: 'read:notes offline_access', audience: apiIdentifier,
    });
    return { path: `/authorize?${query}`, verifier };
  }

  async function tokensFor(clientId: string, browser = new Browser(test.app)) {
    const { path, verifier } = authorizePath(clientId);
    let outcome = await browser.open(path);
    if ('page' in outcome && outcome.page.text.includes('name="password"')) outcome = await signIn(browser, outcome, email, password);
    if (isConsentPage(outcome)) outcome = await browser.submit(pageOf(outcome), { action: 'accept' });
    const code = callbackOf(outcome).searchParams.get('code');
    const token = await request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CALLBACK, client_id: clientId,
    });
    expect(token.status).toBe(200);
    return token.body as { access_token: string; refresh_token: string };
  }

  const refresh = (clientId: string, refreshToken: string) =>
    request(test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });

  it('holds a new client pending where the tenant says so: the person gets a plain page, the client nothing, until approved', async () => {
    const registered = await register(test.app, { client_name: 'Pending Agent', redirect_uris: [CALLBACK] }).expect(201);
    const clientId = registered.body.client_id as string;
    expect((await management('get', `/clients/${clientId}`)).body.trust).toBe('pending');
    const pending = await management('get', '/clients?trust=pending');
    expect(pending.body.map((c: { client_id: string }) => c.client_id)).toContain(clientId);

    const page = pageOf(await new Browser(test.app).open(authorizePath(clientId).path));
    expect(page.status).toBe(400);
    expect(page.text).toContain('Pending Agent is waiting for approval');
    expect(page.text).toContain('Nothing was shared with it');
    expect(page.headers.location).toBeUndefined();

    const approved = await management('post', `/clients/${clientId}/trust`, { trust: 'trusted' });
    expect(approved.status).toBe(200);
    expect(approved.body.trust).toBe('trusted');
    const tokens = await tokensFor(clientId);
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('blocks: consents and refresh tokens are revoked at once, and stay revoked if the client is trusted again', async () => {
    const registered = await register(test.app, { client_name: 'Soon Blocked', redirect_uris: [CALLBACK] }).expect(201);
    const clientId = registered.body.client_id as string;
    await management('post', `/clients/${clientId}/trust`, { trust: 'trusted' });
    const tokens = await tokensFor(clientId);
    expect(await test.gatehouse.stores.durable.userGrants.count({ clientID: clientId })).toBe(1);

    expect((await management('post', `/clients/${clientId}/trust`, { trust: 'blocked' })).body.trust).toBe('blocked');
    expect(await test.gatehouse.stores.durable.userGrants.count({ clientID: clientId })).toBe(0);
    const refused = await refresh(clientId, tokens.refresh_token);
    expect(refused.body).toMatchObject({ error: 'unauthorized_client', error_description: expect.stringContaining('has been blocked') });
    const page = pageOf(await new Browser(test.app).open(authorizePath(clientId).path));
    expect(page.text).toContain('Soon Blocked has been blocked');

    await management('post', `/clients/${clientId}/trust`, { trust: 'trusted' });
    expect((await refresh(clientId, tokens.refresh_token)).body.error).toBe('invalid_grant');

    await test.gatehouse.audit.flush();
    const changes = (await management('get', `/logs?q=${encodeURIComponent(`type:trust_level_changed AND client_id:${clientId}`)}&sort=date:1`)).body as { details: unknown }[];
    expect(changes.map((event) => event.details)).toEqual([
      { from: 'pending', to: 'trusted' }, { from: 'trusted', to: 'blocked' }, { from: 'blocked', to: 'trusted' },
    ]);
  });

  it('decides new clients ahead of time by rules: an exact CIMD URL, a URL prefix, a redirect host', async () => {
    const base = `${host.origin}/rules-${randomBytes(3).toString('hex')}`;
    const document = (url: string, redirect = 'https://agents.example.org/cb') => ({ client_id: url, client_name: `Agent ${url.slice(-12)}`, redirect_uris: [redirect], token_endpoint_auth_method: 'none' });
    const exact = host.serve(`${new URL(base).pathname}/blocked/trusted-one.json`, document(`${base}/blocked/trusted-one.json`));
    const prefixed = host.serve(`${new URL(base).pathname}/blocked/other.json`, document(`${base}/blocked/other.json`));
    const plain = host.serve(`${new URL(base).pathname}/plain.json`, document(`${base}/plain.json`));
    const badRule = await management('patch', '/tenants/settings', { self_registered_clients: { trust_rules: [{ cimd_url: exact, redirect_host: 'x.example', trust: 'trusted' }] } });
    expectApiError(badRule, 400, 'invalid_body', 'must have exactly one of cimd_url, cimd_url_prefix and redirect_host');
    const rules = await management('patch', '/tenants/settings', {
      self_registered_clients: {
        initial_trust: { client_id_metadata_document: 'pending' },
        trust_rules: [
          { cimd_url: exact, trust: 'trusted' }, { cimd_url_prefix: `${base}/blocked/`, trust: 'blocked' },
          { redirect_host: 'evil.example', trust: 'blocked' }, { redirect_host: 'partner.example', trust: 'trusted' },
        ],
      },
    });
    expect(rules.status).toBe(200);
    expect(rules.body.self_registered_clients.initial_trust).toEqual({ dynamic_registration: 'pending', client_id_metadata_document: 'pending' });

    const trustOf = async (externalClientId: string) => (await test.gatehouse.stores.durable.applications.find({ external_client_id: externalClientId }))[0]?.trust;
    for (const url of [exact, prefixed, plain]) await new Browser(test.app).open(authorizePath(url, 'https://agents.example.org/cb').path);
    expect([await trustOf(exact), await trustOf(prefixed), await trustOf(plain)]).toEqual(['trusted', 'blocked', 'pending']);

    const trustOfRegistration = async (redirects: string[]) => {
      const res = await register(test.app, { client_name: `By host ${randomBytes(3).toString('hex')}`, redirect_uris: redirects }).expect(201);
      return (await test.gatehouse.stores.durable.applications.get(res.body.client_id))?.trust;
    };
    expect(await trustOfRegistration(['https://partner.example/cb'])).toBe('trusted');
    expect(await trustOfRegistration(['https://partner.example/cb', 'https://evil.example/cb'])).toBe('blocked');
    expect(await trustOfRegistration(['https://partner.example/cb', 'https://unknown.example/cb'])).toBe('pending'); // one foreign callback: not trusted by host
  });

  it('applies to self-registered applications only', async () => {
    const { app } = await thirdPartyApp(test.gatehouse.stores);
    expectApiError(await management('post', `/clients/${app.client_id}/trust`, { trust: 'blocked' }), 400, 'invalid_body', /created by an administrator/);
    expectApiError(await management('post', '/clients/does-not-exist/trust', { trust: 'blocked' }), 404, 'inexistent_client');
  });

  it('revokes every connection of an application in one call, and keeps the application', async () => {
    const registered = await register(test.app, { client_name: 'Many Users', redirect_uris: [CALLBACK] }).expect(201);
    const clientId = registered.body.client_id as string;
    await management('post', `/clients/${clientId}/trust`, { trust: 'trusted' });
    await createUser(test.gatehouse.stores, 'second@example.com', password);
    const first = await tokensFor(clientId);
    const browser = new Browser(test.app);
    const { path } = authorizePath(clientId);
    const login = await browser.open(path);
    const consent = await signIn(browser, login, 'second@example.com', password);
    expect(isConsentPage(consent)).toBe(true);
    await browser.submit(pageOf(consent), { action: 'accept' });
    expect(await test.gatehouse.stores.durable.userGrants.count({ clientID: clientId })).toBe(2);

    const revoked = await management('delete', `/grants?client_id=${encodeURIComponent(clientId)}`);
    expect(revoked.status).toBe(204);
    expect(await test.gatehouse.stores.durable.userGrants.count({ clientID: clientId })).toBe(0);
    expect((await refresh(clientId, first.refresh_token)).body.error).toBe('invalid_grant');
    expect((await management('get', `/clients/${clientId}`)).body.trust).toBe('trusted');
    expectApiError(await management('delete', '/grants?client_id=does-not-exist'), 404, 'inexistent_client');
  });
});
