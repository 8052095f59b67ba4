import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { decodeJwt, importJWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import request from 'supertest';
import type { ResourceServer } from '../../src/domain/model.ts';
import { deleteApplication } from '../../src/services/applications.ts';
import { revokeUserGrant } from '../../src/services/grants.ts';
import { tokenGrantIsValid } from '../../src/services/token-grants.ts';
import { deleteUser } from '../../src/services/users.ts';
import { actionOf, FetchBrowser, hidden } from '../support/fetch-browser.ts';
import { authorizeQuery, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, callbackOf, codeFlowTokens, createUser, signIn } from '../support/flow.ts';
import { insertApplication } from '../support/harness.ts';
import { startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';
import { discover, insecure } from '../support/oauth4webapi.ts';

const PASSWORD = 'erin password 123';
const LOOPBACK = 'http://127.0.0.1:';

describe('JWT access tokens for APIs at Gatehouse\'s own endpoints', () => {
  let gatehouse: LiveGatehouse;
  let api: ResourceServer;
  let as: oauth.AuthorizationServer;
  const stores = () => gatehouse.gatehouse.stores;
  let users = 0;
  const newUser = () => createUser(stores(), `erin${(users += 1)}@example.com`, PASSWORD);

  beforeAll(async () => {
    gatehouse = await startLiveGatehouse();
    api = await createApi(stores());
    as = await discover(gatehouse.origin);
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  /** A first-party application using the password grant: a user's token for the API in one request. */
  async function passwordTokens(scope: string, email?: string) {
    const user = email ? undefined : await newUser();
    const { app, secret } = await insertApplication(stores(), { grant_types: ['password'] });
    const res = await request(gatehouse.app).post('/oauth/token').type('form').send({
      grant_type: 'password', username: email ?? user!.email, password: PASSWORD, audience: api.identifier, scope, client_id: app.client_id, client_secret: secret,
    });
    expect(res.status).toBe(200);
    return { app, secret, user: user!, token: res.body.access_token as string };
  }
  const userinfo = (token: string) => request(gatehouse.app).get('/userinfo').set('Authorization', `Bearer ${token}`);

  describe('/userinfo', () => {
    let rp: ChildProcess;
    let rpOrigin: string;

    beforeAll(async () => {
      // The relying party's callback depends on its port, known once it runs: register it, then set the callback.
      const { app, secret } = await insertApplication(stores(), { callbacks: [], token_endpoint_auth_method: 'client_secret_basic' });
      rp = spawn(process.execPath, ['test/support/oidc-rp.ts', JSON.stringify({
        issuer: gatehouse.origin, clientId: app.client_id, clientSecret: secret, audience: api.identifier, scope: 'openid profile email read:notes',
      })], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [line] = await once(createInterface({ input: rp.stdout! }), 'line') as [string];
      rpOrigin = (JSON.parse(line) as { origin: string }).origin;
      await stores().durable.applications.update(app.client_id, { set: { callbacks: [`${rpOrigin}/callback`] } });
    });
    afterAll(() => {
      rp?.kill();
    });

    it('answers express-openid-connect\'s fetchUserInfo for a first-party application that asked for an audience', async () => {
      const user = await newUser();
      const browser = new FetchBrowser();
      const login = await browser.follow(`${rpOrigin}/login`, LOOPBACK);
      const page = await login.text();
      expect(page).toContain('name="password"');
      const home = await browser.follow(new URL(actionOf(page), gatehouse.origin).toString(), LOOPBACK, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...hidden(page), email: user.email, password: PASSWORD }),
      });
      expect(await home.text()).toBe('home'); // signed in at the relying party, back on its home page
      const profile = await browser.go(`${rpOrigin}/profile`);
      const body = await profile.json() as { userinfo: Record<string, unknown>; accessToken: string };
      expect(profile.status).toBe(200);
      expect(body.userinfo).toMatchObject({ sub: user.user_id, email: user.email, email_verified: true });
      expect(decodeJwt(body.accessToken)).toMatchObject({ aud: api.identifier, scope: 'read:notes', sub: user.user_id });
    });

    it('needs DPoP for a DPoP-bound token (oauth4webapi userInfoRequest)', async () => {
      const user = await newUser();
      const { app, secret } = await insertApplication(stores());
      const client: oauth.Client = { client_id: app.client_id };
      const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
      const { path, verifier } = authorizeQuery(app, { audience: api.identifier, scope: 'openid email read:notes' });
      const browser = new Browser(gatehouse.app);
      const callback = callbackOf(await signIn(browser, await browser.open(path), user.email, PASSWORD));
      const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretPost(secret), oauth.validateAuthResponse(as, client, callback, 'st4te'),
        app.callbacks[0] as string, verifier, { DPoP, ...insecure });
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
      const claims = await oauth.processUserInfoResponse(as, client, user.user_id, await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }));
      expect(claims).toMatchObject({ sub: user.user_id, email: user.email });
      const asBearer = await userinfo(tokens.access_token);
      expect(asBearer.status).toBe(401);
      expect(asBearer.headers['www-authenticate']).toMatch(/^DPoP .*error="invalid_token"/);
    });

    it('refuses third-party applications\' API tokens, even with openid granted', async () => {
      const user = await newUser();
      const { app, secret } = await thirdPartyApp(stores(), { third_party_security_mode: 'permissive', redirection_policy: undefined, client_id: `perm_${Date.now()}` });
      const res = await codeFlowTokens(gatehouse.app, app, { email: user.email, password: PASSWORD, secret, query: authorizeQuery(app, { audience: api.identifier, scope: 'openid email read:notes', nonce: 'n' }) });
      expect(res.body.id_token).toEqual(expect.any(String));
      const refused = await userinfo(res.body.access_token);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_token');
    });

    it('refuses a token whose grant has no openid, and stops once the user is blocked', async () => {
      expect((await userinfo((await passwordTokens('read:notes')).token)).status).toBe(401);
      const { token, user } = await passwordTokens('openid email read:notes');
      const res = await userinfo(token);
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { sub: user.user_id, email: user.email, email_verified: true } });
      await stores().durable.users.update(user.user_id, { set: { blocked: true } });
      expect((await userinfo(token)).status).toBe(401);
    });
  });

  describe('introspection (RFC 7662)', () => {
    const introspect = (token: string, client: { client_id: string; secret?: string }) => request(gatehouse.app).post('/oauth/introspect').type('form')
      .send({ token, client_id: client.client_id, ...(client.secret ? { client_secret: client.secret } : {}) });

    it('answers with the claims of an active JWT access token (oauth4webapi)', async () => {
      const { app, secret, user, token } = await passwordTokens('read:notes');
      const client: oauth.Client = { client_id: app.client_id };
      const response = await oauth.introspectionRequest(as, client, oauth.ClientSecretPost(secret), token, insecure);
      const result = await oauth.processIntrospectionResponse(as, client, response);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(result).toEqual({
        ...decodeJwt(token), active: true, token_type: 'Bearer',
      });
      expect(result).toMatchObject({ sub: user.user_id, client_id: app.client_id, aud: api.identifier, scope: 'read:notes', grant_id: expect.stringMatching(/\S+/) });
    });

    it('reports inactive once the consent is revoked, the user deleted or blocked, or the client grant removed', async () => {
      const consenting = await newUser();
      const { app: partner } = await thirdPartyApp(stores(), { token_endpoint_auth_method: 'none' });
      await createGrant(stores(), { client_id: partner.client_id, audience: api.identifier, scope: ['read:notes'] });
      const partnerToken = (await codeFlowTokens(gatehouse.app, partner, { email: consenting.email, password: PASSWORD, query: authorizeQuery(partner, { audience: api.identifier, scope: 'read:notes' }) })).body.access_token;
      expect((await introspect(partnerToken, partner)).body.active).toBe(true);
      const [consent] = await stores().durable.userGrants.find({ clientID: partner.client_id });
      await revokeUserGrant(stores(), consent!);
      expect((await introspect(partnerToken, partner)).body).toEqual({ active: false });

      const deleted = await passwordTokens('read:notes');
      expect((await introspect(deleted.token, { client_id: deleted.app.client_id, secret: deleted.secret })).body.active).toBe(true);
      await deleteUser(stores(), deleted.user.user_id);
      expect((await introspect(deleted.token, { client_id: deleted.app.client_id, secret: deleted.secret })).body).toEqual({ active: false });

      const blocked = await passwordTokens('read:notes');
      await stores().durable.users.update(blocked.user.user_id, { set: { blocked: true } });
      expect((await introspect(blocked.token, { client_id: blocked.app.client_id, secret: blocked.secret })).body).toEqual({ active: false });

      const { app: machine, secret } = await insertApplication(stores(), { app_type: 'non_interactive', grant_types: ['client_credentials'], callbacks: [] });
      const grant = await createGrant(stores(), { client_id: machine.client_id, audience: api.identifier, subject_type: 'client', scope: ['read:notes'] });
      const machineToken = (await request(gatehouse.app).post('/oauth/token').type('form')
        .send({ grant_type: 'client_credentials', client_id: machine.client_id, client_secret: secret, audience: api.identifier })).body.access_token;
      expect((await introspect(machineToken, { client_id: machine.client_id, secret })).body).toMatchObject({ active: true, sub: machine.client_id });
      await stores().durable.clientGrants.delete(grant.id);
      expect((await introspect(machineToken, { client_id: machine.client_id, secret })).body).toEqual({ active: false });
    });

    it('reports inactive a forged, expired or foreign token', async () => {
      const { app, secret, token } = await passwordTokens('read:notes');
      const caller = { client_id: app.client_id, secret };
      expect((await introspect(`${token.slice(0, -4)}AAAA`, caller)).body).toEqual({ active: false });
      const [key] = gatehouse.gatehouse.keys.signing;
      const sign = (claims: Record<string, unknown>) => importJWK(key!, key!.alg).then((privateKey) => new SignJWT({ ...decodeJwt(token), ...claims })
        .setProtectedHeader({ alg: key!.alg, kid: key!.kid, typ: 'at+jwt' }).sign(privateKey));
      expect((await introspect(await sign({}), caller)).body.active).toBe(true); // the control: our key signs an active copy
      expect((await introspect(await sign({ exp: Math.floor(Date.now() / 1000) - 60 }), caller)).body).toEqual({ active: false });
      expect((await introspect(await sign({ iss: 'https://elsewhere.example.com' }), caller)).body).toEqual({ active: false });
    });
  });

  it('asks one question of the store for every token: does its grant still stand (here: the application deleted)', async () => {
    const { app, token } = await passwordTokens('read:notes');
    const claims = decodeJwt(token);
    const subject = { clientId: app.client_id, audience: api.identifier, userId: String(claims.sub), grantId: String(claims.grant_id) };
    expect(await tokenGrantIsValid(stores(), subject)).toBe(true);
    await deleteApplication(stores(), app.client_id);
    expect(await tokenGrantIsValid(stores(), subject)).toBe(false);
  });
});
