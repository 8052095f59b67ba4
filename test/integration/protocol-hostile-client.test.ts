import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import request from 'supertest';
import type { Application, ResourceServer } from '../../src/domain/model.ts';
import { clientCredentialsToken, ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { authorizeQuery, CALLBACK, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, createUser, isConsentPage, pageOf, signIn } from '../support/flow.ts';

/**
 * A strict third-party application never obtains a token its grants do not allow, whatever it sends: every token
 * that comes out of the hostile requests below is checked against the client grant.
 */
describe('a hostile strict third-party application', () => {
  let test: TestGatehouse;
  let api: ResourceServer;
  let other: ResourceServer;
  let app: Application;
  let secret: string;
  const GRANTED = ['read:notes'];
  const stores = () => test.gatehouse.stores;
  const issued: string[] = [];

  beforeAll(async () => {
    test = await startGatehouse();
    api = await createApi(stores(), { user: 'allow_all', client: 'require_client_grant' });
    other = await createApi(stores(), { user: 'allow_all' });
    ({ app, secret } = await thirdPartyApp(stores(), { grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] }));
    await createGrant(stores(), { client_id: app.client_id, audience: api.identifier, scope: GRANTED });
    await createGrant(stores(), { client_id: app.client_id, audience: api.identifier, scope: GRANTED, subject_type: 'client' });
    await createUser(stores(), 'dave@example.com', 'dave password 1');
  });
  afterAll(async () => {
    for (const token of issued) {
      const claims = decodeJwt(token);
      expect(claims.aud).toBe(api.identifier);
      for (const scope of String(claims.scope ?? '').split(' ').filter(Boolean)) expect(GRANTED).toContain(scope);
    }
    await test.close();
  });

  const keep = (body: { access_token?: string; refresh_token?: string }) => {
    if (body.access_token) issued.push(body.access_token);
    return body;
  };

  const hostileAuthorizations = (): Record<string, string | false | undefined>[] => [
    { audience: api.identifier, scope: 'read:notes write:notes delete:notes openid profile email offline_access' },
    { resource: api.identifier, scope: 'read:notes write:notes' },
    { audience: other.identifier, scope: 'read:notes' },
    { audience: `${ISSUER}/api/v2/`, scope: 'read:clients create:clients' },
    { audience: api.identifier, scope: 'read:notes', prompt: 'none' },
    { audience: api.identifier, scope: 'read:notes', claims: '{"id_token":{"email":null}}' },
    { audience: api.identifier, scope: 'read:notes', response_type: 'code id_token', nonce: 'n' },
    { audience: api.identifier, scope: 'read:notes', code_challenge_method: 'plain', code_challenge: 'x'.repeat(43) },
  ];

  it('gets nothing beyond its grant through the authorization endpoint', async () => {
    const browser = new Browser(test.app);
    let signedIn = false;
    for (const params of hostileAuthorizations()) {
      const query = authorizeQuery(app, params);
      let outcome = await browser.open(query.path);
      if (!signedIn && 'page' in outcome && outcome.page.text.includes('name="password"')) {
        outcome = await signIn(browser, outcome, 'dave@example.com', 'dave password 1');
        signedIn = true;
      }
      if (isConsentPage(outcome)) {
        const consent = pageOf(outcome);
        expect(consent.text).not.toMatch(/write:notes|delete:notes|read:clients/);
        outcome = await browser.submit(consent, { action: 'accept' });
      }
      if (!('callback' in outcome)) continue;
      const code = outcome.callback.searchParams.get('code');
      if (!code) continue;
      // At the token endpoint it asks for other APIs and more scopes too.
      for (const extra of [{}, { resource: other.identifier }, { scope: 'read:notes write:notes' }, { resource: `${ISSUER}/api/v2/` }]) {
        const res = await request(test.app).post('/oauth/token').type('form').send({
          grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: query.verifier, client_id: app.client_id, client_secret: secret, ...extra,
        });
        const body = keep(res.body);
        expect(body).not.toHaveProperty('id_token');
        if (body.refresh_token) {
          for (const escalation of [{ scope: 'read:notes write:notes' }, { resource: other.identifier }, { scope: 'delete:notes' }]) {
            const refreshed = await request(test.app).post('/oauth/token').type('form').send({
              grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: app.client_id, client_secret: secret, ...escalation,
            });
            keep(refreshed.body);
          }
        }
      }
    }
    expect(issued.length).toBeGreaterThan(0);
  });

  it('gets nothing beyond its grant through client credentials', async () => {
    for (const [audience, scope] of [[api.identifier, 'read:notes write:notes'], [api.identifier, undefined], [other.identifier, 'read:notes'], [`${ISSUER}/api/v2/`, undefined]] as const) {
      keep((await clientCredentialsToken(test.app, app.client_id, secret, audience, scope)).body);
    }
    const password = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'password', username: 'dave@example.com', password: 'dave password 1', client_id: app.client_id, client_secret: secret, audience: api.identifier });
    expect(password.body.error).toBe('unauthorized_client');
  });
});
