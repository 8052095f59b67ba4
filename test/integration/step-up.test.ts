import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { publicJwks } from '../../src/oidc/keys.ts';
import { requireAccessToken } from '../../src/http/resource-server.ts';
import type { Application } from '../../src/domain/model.ts';
import { authorizeQuery, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, isConsentPage, pageOf, signIn } from '../support/flow.ts';
import { ISSUER, startGatehouse, type TestGatehouse } from '../support/harness.ts';

const email = 'stepup@example.com';
const password = 'correct horse battery';
const LOOPBACK = 'http://127.0.0.1/callback';

describe('step-up that ends', () => {
  let test: TestGatehouse;
  let api: Awaited<ReturnType<typeof createApi>>;
  beforeAll(async () => {
    test = await startGatehouse();
    api = await createApi(test.gatehouse.stores);
    await createUser(test.gatehouse.stores, email, password);
  });
  afterAll(() => test.close());

  async function appWith(scopes: string[], fields: Parameters<typeof thirdPartyApp>[1] = {}): Promise<Application> {
    const { app } = await thirdPartyApp(test.gatehouse.stores, { token_endpoint_auth_method: 'none', ...fields });
    await createGrant(test.gatehouse.stores, { client_id: app.client_id, audience: api.identifier, scope: scopes });
    return app;
  }

  async function signedInWithConsent(app: Application, scope: string, redirectUri = app.callbacks[0]) {
    const browser = new Browser(test.app);
    let outcome = await signIn(browser, await browser.open(authorizeQuery(app, { audience: api.identifier, scope, redirect_uri: redirectUri }).path), email, password);
    if (isConsentPage(outcome)) outcome = await browser.submit(pageOf(outcome), { action: 'accept' });
    expect(callbackOf(outcome).searchParams.get('code')).toEqual(expect.any(String));
    return browser;
  }

  it('names, in a 403 challenge, the scopes the token has and those the request needs', async () => {
    const app = await appWith(['read:notes', 'write:notes']);
    const browser = new Browser(test.app);
    const { path, verifier } = authorizeQuery(app, { audience: api.identifier, scope: 'read:notes' });
    let outcome = await signIn(browser, await browser.open(path), email, password);
    outcome = await browser.submit(pageOf(outcome), { action: 'accept' });
    const token = await request(test.app).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code', code: callbackOf(outcome).searchParams.get('code'), redirect_uri: app.callbacks[0], code_verifier: verifier, client_id: app.client_id,
    });
    expect(decodeJwt(token.body.access_token).scope).toBe('read:notes');
    const resource = express().get('/notes', requireAccessToken({ issuer: ISSUER, audience: api.identifier, scopes: ['write:notes'], jwks: publicJwks(test.gatehouse.keys) }), (_req, res) => void res.send('ok'));
    const refused = await request(resource).get('/notes').set('Authorization', `Bearer ${token.body.access_token}`);
    expect(refused.status).toBe(403);
    expect(refused.headers['www-authenticate']).toContain('scope="read:notes write:notes"');
  });

  it('leaves out, on a first request, scopes the application may never get (RFC 6749 §3.3)', async () => {
    const app = await appWith(['read:notes']);
    const browser = new Browser(test.app);
    const consent = pageOf(await signIn(browser, await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes delete:notes' }).path), email, password));
    expect(consent.text).toContain('Read your notes');
    expect(consent.text).not.toContain('Delete your notes');
  });

  it('refuses with invalid_scope, naming them, a request that can gain nothing but scopes it may never get (the step-up loop ends)', async () => {
    const app = await appWith(['read:notes']);
    const browser = await signedInWithConsent(app, 'read:notes');
    const stepUp = pageOf(await browser.open(authorizeQuery(app, { audience: api.identifier, scope: 'read:notes delete:notes nonexistent:scope' }).path));
    expect(stepUp.status).toBe(400);
    expect(stepUp.text).toContain('invalid_scope');
    expect(stepUp.text).toContain('delete:notes nonexistent:scope cannot be granted to this application');
  });

  it('sends errors to a registered loopback callback (a native client on the person\'s computer), and never to a web one', async () => {
    const native = await appWith(['read:notes'], { app_type: 'native', callbacks: [LOOPBACK] });
    const browser = await signedInWithConsent(native, 'read:notes', 'http://127.0.0.1:45678/callback');
    const refused = callbackOf(await browser.open(authorizeQuery(native, { audience: api.identifier, scope: 'read:notes delete:notes', redirect_uri: 'http://127.0.0.1:45678/callback' }).path));
    expect(refused.origin).toBe('http://127.0.0.1:45678');
    expect(refused.searchParams.get('error')).toBe('invalid_scope');
    expect(refused.searchParams.get('error_description')).toContain('delete:notes');
    expect(refused.searchParams.get('state')).toBe('st4te');

    const web = await appWith(['read:notes']);
    const page = pageOf(await new Browser(test.app).open(authorizeQuery(web, { audience: api.identifier, scope: 'delete:notes' }).path));
    expect(page.status).toBe(400);
    expect(page.headers.location).toBeUndefined();
    // An unregistered loopback URI is refused like any other, on Gatehouse's page.
    const unregistered = pageOf(await new Browser(test.app).open(authorizeQuery(native, { audience: api.identifier, scope: 'delete:notes', redirect_uri: 'http://127.0.0.1:45678/elsewhere' }).path));
    expect(unregistered.status).toBe(400);
    expect(unregistered.text).toContain('Unsafe sign-in link');
  });
});
