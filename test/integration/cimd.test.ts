import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

type KeyLike = Parameters<SignJWT['sign']>[0];
import request from 'supertest';
import { startDocumentHost, type DocumentHost } from '../support/document-host.ts';
import { createApi, createGrant } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, isConsentPage, pageOf, signIn } from '../support/flow.ts';
import { ISSUER, pkcePair, startGatehouse, testConfig, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, expectConforms, managementCaller, type ManagementCaller } from '../support/management.ts';
import { cimdPreviewResponse, cimdRegisterResponse, clientResponse } from '../../src/http/management/schemas.ts';

const email = 'agent-user@example.com';
const password = 'correct horse battery';


/** A Claude Code-shaped document: a public native client with port-less loopback redirects. */
const nativeDocument = (url: string, extra: Record<string, unknown> = {}) => ({
  client_id: url, client_name: 'Terminal Agent', redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback'],
  grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', ...extra,
});

describe('Client ID Metadata Documents', () => {
  let test: TestGatehouse;
  let host: DocumentHost;
  let api: Awaited<ReturnType<typeof createApi>>;
  let management: ManagementCaller;
  const stores = () => test.gatehouse.stores;
  const uniquePath = (name: string) => `/${name}-${randomBytes(4).toString('hex')}/client.json`;

  beforeAll(async () => {
    host = await startDocumentHost();
    // Many applications are created here in a second: the tenant-wide rate of new applications is not what is tested.
    test = await startGatehouse({ config: { cimd: { allowed_private_hosts: ['localhost'], known_agents: [] }, registration: { ...testConfig().registration, rate_limit_per_second: 1000 } } });
    api = await createApi(stores(), { identifier: 'https://mcp.example.com/mcp' });
    await createGrant(stores(), { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:notes', 'write:notes'] });
    await createUser(stores(), email, password);
    management = await managementCaller(test);
  });
  afterAll(async () => {
    await test.close();
    await host.close();
  });

  function authorizePath(clientId: string, redirectUri = 'http://localhost:43210/callback', extra: Record<string, string> = {}) {
    const { verifier, challenge } = pkcePair();
    const query = new URLSearchParams({
      client_id: clientId, response_type: 'code', redirect_uri: redirectUri, state: 'st', code_challenge: challenge, code_challenge_method: 'S256',
      scope: 'read:notes offline_access', resource: api.identifier, ...extra,
    });
    return { path: `/authorize?${query}`, verifier, redirectUri };
  }

  async function authorize(clientId: string, redirectUri?: string) {
    const browser = new Browser(test.app);
    const { path, verifier, redirectUri: callback } = authorizePath(clientId, redirectUri);
    let outcome = await browser.open(path);
    if ('page' in outcome && outcome.page.text.includes('name="password"')) outcome = await signIn(browser, outcome, email, password);
    const consent = isConsentPage(outcome) ? pageOf(outcome) : undefined;
    if (consent) outcome = await browser.submit(consent, { action: 'accept' });
    return { code: callbackOf(outcome).searchParams.get('code') as string, verifier, redirectUri: callback, consent, browser };
  }

  it('is off by default: not advertised, and a URL client id is an unknown application', async () => {
    const discovery = await request(test.app).get('/.well-known/oauth-authorization-server').expect(200);
    expect(discovery.body.client_id_metadata_document_supported).toBeUndefined();
    const url = host.serve(uniquePath('off'), nativeDocument(`${host.origin}/unused`));
    const page = pageOf(await new Browser(test.app).open(authorizePath(url).path));
    expect(page.status).toBe(400);
    expect(page.text).toContain('Unknown application');
    expect(host.hits(new URL(url).pathname)).toBe(0); // nothing fetched while off
  });

  describe('when the tenant supports them', () => {
    beforeAll(async () => {
      const res = await management('patch', '/tenants/settings', { client_id_metadata_document_supported: true });
      expect(res.status).toBe(200);
      expect(res.body.client_id_metadata_document_supported).toBe(true);
    });

    it('is advertised in discovery (both documents)', async () => {
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
        expect((await request(test.app).get(path)).body.client_id_metadata_document_supported).toBe(true);
      }
    });

    it('runs an authorization with the URL as client_id: a strict tpc_ application, tokens carrying the URL, the host shown on consent', async () => {
      const path = uniquePath('native');
      const url = `${host.origin}${path}`;
      host.serve(path, nativeDocument(url, { logo_uri: 'https://cdn.example.com/logo.png', unknown_member: true }), { 'cache-control': 'max-age=60' });
      const { code, verifier, redirectUri, consent } = await authorize(url);
      expect(consent?.text).toContain('Terminal Agent');
      expect(consent?.text).toContain(`Described by <strong>${new URL(url).host}</strong>`);
      expect(consent?.text).toContain('localhost:43210, an application on this computer');
      const token = await request(test.app).post('/oauth/token').type('form').send({
        grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: url, resource: api.identifier,
      });
      expect(token.status).toBe(200);
      expect(decodeJwt(token.body.access_token)).toMatchObject({ client_id: url, aud: api.identifier, scope: 'read:notes' });

      const [app] = await stores().durable.applications.find({ external_client_id: url });
      expect(app).toMatchObject({
        client_id: expect.stringMatching(/^tpc_[A-Za-z0-9]{32}$/), is_first_party: false, third_party_security_mode: 'strict', app_type: 'native',
        external_metadata_type: 'cimd', external_metadata_created_by: 'client', registration_type: 'dynamic', trust: 'trusted', name: 'Terminal Agent',
      });
      // HTTP caching is honoured within bounds: max-age 60 becomes the 5-minute minimum.
      const lifetime = (Date.parse(app!.external_metadata_expires_at!) - Date.now()) / 1000;
      expect(lifetime).toBeGreaterThan(280);
      expect(lifetime).toBeLessThanOrEqual(300);
      const consents = await stores().durable.userGrants.find({ clientID: app!.client_id });
      expect(consents.map((c) => c.audience)).toEqual([api.identifier]);

      // The Management API shows it like any other application, under its tpc_ id.
      const shown = await management('get', `/clients/${app!.client_id}`);
      expect(shown.body).toMatchObject({ external_client_id: url, external_metadata_type: 'cimd', external_metadata_created_by: 'client', trust: 'trusted' });
      expectConforms(shown.body, clientResponse);
      // The URL is its client id; its tpc_ id is not one in protocol requests.
      const byId = pageOf(await new Browser(test.app).open(authorizePath(app!.client_id).path));
      expect(byId.text).toContain('Unknown application');
      // Fetched once: the second authorization, within the cache lifetime, uses what is kept.
      await authorize(url);
      expect(host.hits(path)).toBe(1);
    });

    it('fetches a document again once its lifetime ends (at most a day), and keeps what an administrator changed', async () => {
      const path = uniquePath('refresh');
      const url = `${host.origin}${path}`;
      host.serve(path, nativeDocument(url), { 'cache-control': 'max-age=31536000' });
      await authorize(url);
      const [app] = await stores().durable.applications.find({ external_client_id: url });
      expect(Date.parse(app!.external_metadata_expires_at!) - Date.now()).toBeLessThanOrEqual(86_400_000);
      expect((await management('patch', `/clients/${app!.client_id}`, { description: 'Checked by IT' })).status).toBe(200);
      expectApiError(await management('patch', `/clients/${app!.client_id}`, { name: 'Renamed' }), 400, 'invalid_body', /comes from its metadata document/);

      host.serve(path, nativeDocument(url, { client_name: 'Terminal Agent 2' }));
      await stores().durable.applications.update(app!.client_id, { set: { external_metadata_expires_at: new Date(Date.now() - 1000).toISOString() } });
      await authorize(url);
      expect(host.hits(path)).toBe(2);
      expect(await stores().durable.applications.get(app!.client_id)).toMatchObject({ name: 'Terminal Agent 2', description: 'Checked by IT' });
    });

    it('records each fetch, good or bad, and the application it creates in the tenant log', async () => {
      const path = uniquePath('logged');
      const url = `${host.origin}${path}`;
      host.handle(path, (_req, res) => void res.writeHead(503).end());
      pageOf(await new Browser(test.app).open(authorizePath(url).path));
      host.serve(path, nativeDocument(url));
      const { code, verifier, redirectUri } = await authorize(url);
      await request(test.app).post('/oauth/token').type('form')
        .send({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: url }).expect(200);
      const app = await stores().durable.applications.find({ external_client_id: url });
      await test.gatehouse.audit.flush();
      const search = async (q: string) => (await management('get', `/logs?q=${encodeURIComponent(q)}`).expect(200)).body as { type: string; details: Record<string, unknown> }[];
      const fetches = await search('type:cimd_fetch_failed');
      expect(fetches.filter((event) => event.details.external_client_id === url)).toHaveLength(1);
      expect((await search('type:cimd_fetch_succeeded')).filter((event) => event.details.external_client_id === url).length).toBeGreaterThanOrEqual(1);
      expect(await search(`type:cimd_client_registered AND client_id:${app[0]?.client_id}`)).toEqual([
        expect.objectContaining({ details: { external_client_id: url, created_by: 'client', trust: 'trusted' } }),
      ]);
      // Token events name it by its stored id too (its tokens carry the URL), so that one filter finds all of its events.
      expect(await search(`type:seacft AND client_id:${app[0]?.client_id}`)).toEqual([
        expect.objectContaining({ details: expect.objectContaining({ external_client_id: url, application_kind: 'cimd' }) }),
      ]);
    });

    it.each([
      ['a redirect', (url: string, path: string) => host.handle(path, (_req, res) => void res.writeHead(302, { location: `${host.origin}/elsewhere.json` }).end()), 'redirects are not followed'],
      ['a 404', (_url: string, path: string) => host.handle(path, (_req, res) => void res.writeHead(404).end()), 'answered 404'],
      ['a document over 5 KB', (url: string, path: string) => host.serve(path, nativeDocument(url, { padding: 'x'.repeat(6000) })), 'larger than 5120 bytes'],
      ['an answer that is not JSON', (_url: string, path: string) => host.serve(path, '<html>hello</html>'), 'not JSON'],
    ])('stops the authorization with a page on %s, and caches nothing', async (_label, publish, problem) => {
      const path = uniquePath('broken');
      const url = `${host.origin}${path}`;
      publish(url, path);
      const page = pageOf(await new Browser(test.app).open(authorizePath(url).path));
      expect(page.status).toBe(400);
      expect(page.text).toContain('This application could not be checked');
      expect(page.text).toContain(new URL(url).host);
      expect(page.text).toContain(problem);
      expect(await stores().durable.applications.count({ external_client_id: url })).toBe(0);
      // Never cached: once the document is right, the next authorization works.
      host.serve(path, nativeDocument(url));
      expect((await authorize(url)).code).toEqual(expect.any(String));
      expect(host.hits(path)).toBe(2);
    });

    it.each([
      ['a client_id that is not its URL', (url: string) => nativeDocument(`${url}x`), 'is not the URL the document was fetched from'],
      ['no client_name', (url: string) => ({ ...nativeDocument(url), client_name: undefined }), 'client_name is required'],
      ['no redirect_uris', (url: string) => ({ ...nativeDocument(url), redirect_uris: undefined }), 'redirect_uris is required'],
      ['a shared secret', (url: string) => nativeDocument(url, { token_endpoint_auth_method: 'client_secret_basic' }), 'never shares a secret'],
      ['inline keys', (url: string) => nativeDocument(url, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } }), 'inline jwks are not accepted'],
      ['a client_secret', (url: string) => nativeDocument(url, { client_secret: 'x' }), 'client_secret and client_secret_expires_at are not allowed'],
      ['a jwks_uri on another origin', (url: string) => nativeDocument(url, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://keys.example.com/jwks.json' }), 'same origin'],
    ])('refuses a document with %s, naming the rule', async (_label, make, problem) => {
      const path = uniquePath('invalid');
      const url = `${host.origin}${path}`;
      host.serve(path, make(url));
      const page = pageOf(await new Browser(test.app).open(authorizePath(url).path));
      expect(page.status).toBe(400);
      expect(page.text).toContain('cannot be used');
      expect(page.text).toContain(problem);
    });

    it.each([
      ['http', 'http://localhost/client.json', 'must be an https:// URL'],
      ['no path', 'https://agents.example.com/', 'must have a path beyond /'],
      ['dot segments', 'https://agents.example.com/a/%2E%2E/client.json', 'must not contain . or .. path segments'],
      ['a query', 'https://agents.example.com/client.json?v=1', 'must not contain a query'],
      ['credentials', 'https://user@agents.example.com/client.json', 'must not contain user credentials'],
      ['a loopback host not exempted', 'https://127.0.0.1/client.json', 'must not name a loopback host'],
      ['over 120 bytes', `https://agents.example.com/${'a'.repeat(100)}`, 'at most 120 bytes'],
    ])('refuses a client id URL with %s before fetching anything', async (_label, url, problem) => {
      const page = pageOf(await new Browser(test.app).open(authorizePath(url).path));
      expect(page.status).toBe(400);
      expect(page.text).toContain(problem);
    });

    it('previews and registers documents through the Management API in Auth0\'s shapes (201 created, 200 updated)', async () => {
      const path = uniquePath('admin');
      const url = `${host.origin}${path}`;
      host.serve(path, { ...nativeDocument(url), client_name: 'Team Agent', application_type: 'web', redirect_uris: ['https://team.example.com/cb'], extra_field: 1 });
      const preview = await management('post', '/clients/cimd/preview', { external_client_id: url });
      expect(preview.status).toBe(200);
      expect(preview.body).toMatchObject({
        mapped_fields: { external_client_id: url, name: 'Team Agent', app_type: 'regular_web', callbacks: ['https://team.example.com/cb'], token_endpoint_auth_method: 'none' },
        validation: { valid: true, violations: [], warnings: [expect.stringContaining('extra_field')] },
      });
      expect(preview.body.client_id).toBeUndefined();
      expectConforms(preview.body, cimdPreviewResponse);
      expect(await stores().durable.applications.count({ external_client_id: url })).toBe(0);

      const created = await management('post', '/clients/cimd/register', { external_client_id: url });
      expect(created.status).toBe(201);
      expectConforms(created.body, cimdRegisterResponse);
      const app = await stores().durable.applications.get(created.body.client_id);
      expect(app).toMatchObject({ external_client_id: url, external_metadata_created_by: 'admin', registration_type: 'management_api', trust: 'trusted' });
      expect(app?.external_metadata_expires_at).toBeUndefined(); // imported: fetched again only when the administrator asks

      host.serve(path, { ...nativeDocument(url), client_name: 'Team Agent v2', redirect_uris: ['https://team.example.com/cb'] });
      const updated = await management('post', '/clients/cimd/register', { external_client_id: url });
      expect(updated.status).toBe(200);
      expect(updated.body.client_id).toBe(created.body.client_id);
      expect((await stores().durable.applications.get(created.body.client_id))?.name).toBe('Team Agent v2');
      expect((await management('post', '/clients/cimd/preview', { external_client_id: url })).body.client_id).toBe(created.body.client_id);

      const onlyCreate = await managementCaller(test, 'create:clients');
      expectApiError(await onlyCreate('post', '/clients/cimd/register', { external_client_id: url }), 403, 'insufficient_scope', 'update:clients');
    });

    it('answers preview of an unreachable document with 200 and errors, and refuses bad URLs and unusable documents', async () => {
      const missing = await management('post', '/clients/cimd/preview', { external_client_id: `${host.origin}/nothing-here.json` });
      expect(missing.status).toBe(200);
      expect(missing.body.errors).toEqual([expect.stringContaining('answered 404')]);
      expect(missing.body.validation).toBeUndefined();
      expectApiError(await management('post', '/clients/cimd/preview', { external_client_id: 'http://agents.example.com/c.json' }), 400, 'invalid_body', /https/);
      expectApiError(await management('post', '/clients/cimd/register', { external_client_id: `${host.origin}/nothing-here.json` }), 400, 'invalid_body', /could not be fetched/);
    });

    it('counts new client-created applications against the cap of self-registered ones, and says so on a page', async () => {
      const capped = await startGatehouse({ config: { cimd: { allowed_private_hosts: ['localhost'], known_agents: [] }, registration: { ...testConfig().registration, max_applications: 0 } } });
      try {
        await capped.gatehouse.stores.durable.settings.update('tenant', { set: { client_id_metadata_document_supported: true } });
        const url = host.serve(uniquePath('capped'), nativeDocument(`${host.origin}${uniquePath('unused')}`));
        host.serve(new URL(url).pathname, nativeDocument(url));
        const page = pageOf(await new Browser(capped.app).open(authorizePath(url).path));
        expect(page.status).toBe(400);
        expect(page.text).toContain('This service is not accepting this application right now');
        expect(page.text).toContain('keeps at most 0 self-registered applications');
        expect(await capped.gatehouse.stores.durable.applications.count({ external_client_id: url })).toBe(0);
      } finally {
        await capped.close();
      }
    });

    describe('a ChatGPT-shaped document (RP Metadata Choices, private_key_jwt)', () => {
      let keys: { privateKey: KeyLike; publicJwk: JWK };
      let url: string;
      let jwksPath: string;
      beforeAll(async () => {
        const pair = await generateKeyPair('RS256', { extractable: true });
        keys = { privateKey: pair.privateKey, publicJwk: { ...await exportJWK(pair.publicKey), kid: 'key-1', alg: 'RS256', use: 'sig' } };
        const path = uniquePath('chatgpt');
        url = `${host.origin}${path}`;
        jwksPath = `${path.replace('client.json', '')}jwks.json`;
        host.serve(jwksPath, { keys: [keys.publicJwk] });
        host.serve(path, {
          client_id: url, client_uri: 'https://chat.example.com/', redirect_uris: ['https://chat.example.com/connector/oauth/abc'],
          token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
          grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'Chat Assistant',
          token_endpoint_auth_signing_alg: 'RS256', jwks_uri: `${host.origin}${jwksPath}`,
        });
      });

      const assertion = (kid: string, key: KeyLike) => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(url).setSubject(url).setAudience(ISSUER).setIssuedAt().setExpirationTime('2m').setJti(randomBytes(8).toString('hex')).sign(key);

      const exchange = async (code: string, verifier: string, clientAssertion?: string) => request(test.app).post('/oauth/token').type('form').send({
        grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://chat.example.com/connector/oauth/abc', client_id: url,
        resource: api.identifier,
        ...(clientAssertion ? { client_assertion: clientAssertion, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' } : {}),
      });

      it('authenticates at the token endpoint with a client assertion signed by a key from its jwks_uri', async () => {
        const { code, verifier } = await authorize(url, 'https://chat.example.com/connector/oauth/abc');
        expect((await exchange(code, verifier)).body.error).toBe('invalid_client'); // no assertion: refused
        const again = await authorize(url, 'https://chat.example.com/connector/oauth/abc');
        const token = await exchange(again.code, again.verifier, await assertion('key-1', keys.privateKey));
        expect(token.status).toBe(200);
        expect(decodeJwt(token.body.access_token)).toMatchObject({ client_id: url });
        const [app] = await stores().durable.applications.find({ external_client_id: url });
        expect(app).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${host.origin}${jwksPath}`, token_endpoint_auth_signing_alg: 'RS256' });
        const shown = await management('get', `/clients/${app!.client_id}`);
        expect(shown.body.client_authentication_methods).toEqual({ private_key_jwt: { credentials: [{ credential_type: 'public_key', kid: 'key-1', alg: 'RS256' }] } });
        expect(shown.body.jwks).toBeUndefined();
      });

      it('accepts a rotated key under a new kid, and refuses new material under a known kid (the first key stays)', async () => {
        const [app] = await stores().durable.applications.find({ external_client_id: url });
        const impostor = await generateKeyPair('RS256', { extractable: true });
        const next = await generateKeyPair('RS256', { extractable: true });
        host.serve(jwksPath, { keys: [{ ...await exportJWK(impostor.publicKey), kid: 'key-1', alg: 'RS256' }, { ...await exportJWK(next.publicKey), kid: 'key-2', alg: 'RS256' }] });
        const register = await management('post', '/clients/cimd/register', { external_client_id: url });
        expect(register.status).toBe(200);
        expect(register.body.validation.warnings).toEqual([expect.stringContaining('key key-1 was published with new key material under the same kid: refused')]);
        const stored = await stores().durable.applications.get(app!.client_id);
        expect(stored?.jwks?.keys.map((k) => k.kid)).toEqual(['key-1', 'key-2']);
        expect(stored?.jwks?.keys[0]?.n).toBe(keys.publicJwk.n);

        const withNew = await authorize(url, 'https://chat.example.com/connector/oauth/abc');
        expect((await exchange(withNew.code, withNew.verifier, await assertion('key-2', next.privateKey))).status).toBe(200);
        const withImpostor = await authorize(url, 'https://chat.example.com/connector/oauth/abc');
        expect((await exchange(withImpostor.code, withImpostor.verifier, await assertion('key-1', impostor.privateKey))).body.error).toBe('invalid_client');
        const withFirst = await authorize(url, 'https://chat.example.com/connector/oauth/abc');
        expect((await exchange(withFirst.code, withFirst.verifier, await assertion('key-1', keys.privateKey))).status).toBe(200);
      });

      it('refuses a key set holding private key material', async () => {
        const path = uniquePath('leaky');
        const leakyUrl = `${host.origin}${path}`;
        const pair = await generateKeyPair('ES256', { extractable: true });
        const jwks = host.serve(`${path}.jwks`, { keys: [{ ...await exportJWK(pair.privateKey), kid: 'k' }] });
        host.serve(path, { ...nativeDocument(leakyUrl), redirect_uris: ['https://chat.example.com/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwks });
        const preview = await management('post', '/clients/cimd/preview', { external_client_id: leakyUrl });
        expect(preview.body.validation).toMatchObject({ valid: false, violations: [expect.stringContaining('private or symmetric key material')] });
      });
    });
  });
});
