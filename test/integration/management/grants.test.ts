import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Application } from '../../../src/domain/model.ts';
import { listResponse, userGrantResponse } from '../../../src/http/management/schemas.ts';
import { authorizeQuery } from '../../support/fixtures.ts';
import { codeFlowTokens } from '../../support/flow.ts';
import { expectApiError, expectConforms, managementTestbed } from '../../support/management.ts';

const AUDIENCE = 'https://notes.example.com/';
const PASSWORD = 'correct horse battery';

describe('Management API: grants (user consents)', () => {
  const testbed = managementTestbed();
  const { api } = testbed;
  let userId: string;
  let email: string;
  beforeAll(async () => {
    await api('post', '/resource-servers', { identifier: AUDIENCE, allow_offline_access: true, scopes: [{ value: 'read:notes' }] }).expect(201);
    email = 'consenting@example.com';
    userId = (await api('post', '/users', { connection: 'Username-Password-Authentication', email, password: PASSWORD }).expect(201)).body.user_id;
  });

  /** A third-party application set up through the Management API, and a refresh token a user consented to. */
  async function consentedApplication() {
    const { body: app } = await api('post', '/clients', { name: 'Partner SPA', is_first_party: false, app_type: 'spa', callbacks: ['https://spa.example.com/callback'] }).expect(201);
    await api('post', '/client-grants', { client_id: app.client_id, audience: AUDIENCE, scope: ['read:notes'], subject_type: 'user' }).expect(201);
    const tokens = await codeFlowTokens(testbed.test.app, app as Application, {
      email, password: PASSWORD, query: authorizeQuery(app as Application, { audience: AUDIENCE, scope: 'read:notes offline_access' }),
    });
    expect(tokens.status).toBe(200);
    return { app, refreshToken: tokens.body.refresh_token as string };
  }

  const refresh = (clientId: string, refreshToken: string) =>
    request(testbed.test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });

  it('lists the consents users gave, in Auth0\'s shape, filtered', async () => {
    const { app } = await consentedApplication();
    const res = await api('get', `/grants?user_id=${encodeURIComponent(userId)}&client_id=${app.client_id}&include_totals=true`).expect(200);
    expectConforms(res.body, listResponse('grants', userGrantResponse));
    expect(res.body).toMatchObject({ total: 1, grants: [{ user_id: userId, clientID: app.client_id, audience: AUDIENCE }] });
    expect(res.body.grants[0]).not.toHaveProperty('oidc_grant_ids');
    expect((await api('get', `/grants?audience=${encodeURIComponent('https://other.example.com/')}`).expect(200)).body).toEqual([]);
  });

  it('revokes one consent and every token issued under it', async () => {
    const { app, refreshToken } = await consentedApplication();
    const [grant] = (await api('get', `/grants?client_id=${app.client_id}`).expect(200)).body;
    await api('delete', `/grants/${grant.id}`).expect(204);
    expect((await refresh(app.client_id, refreshToken)).body.error).toBe('invalid_grant');
    expectApiError(await api('delete', `/grants/${grant.id}`), 404, 'inexistent_grant');
  });

  it('revokes every consent of a user', async () => {
    const first = await consentedApplication();
    const second = await consentedApplication();
    await api('delete', `/grants?user_id=${encodeURIComponent(userId)}`).expect(204);
    expect((await api('get', `/grants?user_id=${encodeURIComponent(userId)}`).expect(200)).body).toEqual([]);
    expect((await refresh(first.app.client_id, first.refreshToken)).body.error).toBe('invalid_grant');
    expect((await refresh(second.app.client_id, second.refreshToken)).body.error).toBe('invalid_grant');
    expectApiError(await api('delete', '/grants'), 400, 'invalid_query_string', /Missing required property: user_id/);
  });

  it('revokes the consents given to a deleted application, with their tokens', async () => {
    const { app, refreshToken } = await consentedApplication();
    const storedToken = () => testbed.test.gatehouse.stores.oidcAdapter('RefreshToken').find(refreshToken);
    expect(await storedToken()).toBeDefined();
    await api('delete', `/clients/${app.client_id}`).expect(204);
    expect(await storedToken()).toBeUndefined();
    expect((await api('get', `/grants?client_id=${app.client_id}`).expect(200)).body).toEqual([]);
    expect(await testbed.test.gatehouse.stores.durable.clientGrants.count({ client_id: app.client_id })).toBe(0);
  });
});
