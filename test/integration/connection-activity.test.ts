import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import type { Application, User } from '../../src/domain/model.ts';
import { clientActivityResponse, listResponse, userGrantResponse } from '../../src/http/management/schemas.ts';
import { authorizeQuery, createApi, createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { codeFlowTokens, createUser } from '../support/flow.ts';
import { startGatehouse, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, expectConforms, managementCaller, type ManagementCaller } from '../support/management.ts';

const PASSWORD = 'activity password 1';
const DAY = 86_400_000;

describe('connection activity', () => {
  let test: TestGatehouse;
  let api: ManagementCaller;
  let partner: Application;
  let partnerSecret: string;
  let user: User;
  let audience: string;
  let refreshToken: string;
  /** Writes to the activity collection. */
  const activityWrites = () => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
  let spies: { mock: { calls: unknown[] } }[] = [];

  beforeAll(async () => {
    test = await startGatehouse({ config: { activity: { flush_interval_ms: 3_600_000 } } });
    const collection = test.gatehouse.stores.durable.connectionActivity;
    spies = [jest.spyOn(collection, 'insert'), jest.spyOn(collection, 'insertIfAbsent'), jest.spyOn(collection, 'update')];
    const notes = await createApi(test.gatehouse.stores);
    audience = notes.identifier;
    ({ app: partner, secret: partnerSecret } = await thirdPartyApp(test.gatehouse.stores, { name: 'Partner Notes', token_endpoint_auth_method: 'client_secret_post' }));
    await createGrant(test.gatehouse.stores, { client_id: partner.client_id, audience, scope: ['read:notes'] });
    user = await createUser(test.gatehouse.stores, 'grace@example.com', PASSWORD);
    api = await managementCaller(test);
  });
  afterAll(async () => {
    await test.close();
  });

  it('counts tokens per user, application and API in memory, and writes them in aggregate (no write per token)', async () => {
    const tokens = await codeFlowTokens(test.app, partner, {
      email: user.email, password: PASSWORD, secret: partnerSecret, query: authorizeQuery(partner, { audience, scope: 'read:notes offline_access' }),
    });
    expect(tokens.status).toBe(200);
    refreshToken = tokens.body.refresh_token;
    for (let i = 0; i < 4; i += 1) {
      const refreshed = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: partner.client_id, client_secret: partnerSecret });
      expect(refreshed.status).toBe(200);
      refreshToken = refreshed.body.refresh_token;
    }
    expect(activityWrites()).toBe(0);
    await test.gatehouse.activity.flush();
    expect(activityWrites()).toBe(1);
    const [record] = await test.gatehouse.stores.durable.connectionActivity.find({ user_id: user.user_id });
    expect(record).toMatchObject({ client_id: partner.client_id, audience, tokens_issued: 5 });
    expect(record!.first_used_at <= record!.last_used_at).toBe(true);

    const again = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: partner.client_id, client_secret: partnerSecret });
    refreshToken = again.body.refresh_token;
    await test.gatehouse.activity.flush();
    expect(await test.gatehouse.stores.durable.connectionActivity.get(record!.id)).toMatchObject({ tokens_issued: 6, first_used_at: record!.first_used_at });
  });

  it('is returned beside each grant by the Management API', async () => {
    const res = await api('get', `/grants?user_id=${encodeURIComponent(user.user_id)}&include_totals=true`).expect(200);
    expectConforms(res.body, listResponse('grants', userGrantResponse));
    expect(res.body.grants).toEqual([expect.objectContaining({
      clientID: partner.client_id, audience, activity: { first_used_at: expect.any(String), last_used_at: expect.any(String), tokens_issued: 6 },
    })]);
  });

  it('lists the applications unused for N days', async () => {
    const { stores } = test.gatehouse;
    const old = new Date(Date.now() - 90 * DAY).toISOString();
    const { app: forgotten } = await thirdPartyApp(stores, { name: 'Forgotten', created_at: old, last_used_at: new Date(Date.now() - 60 * DAY).toISOString() });
    const { app: never } = await thirdPartyApp(stores, { name: 'Never used', created_at: old });
    const { app: fresh } = await thirdPartyApp(stores, { name: 'Just made' });
    await stores.durable.applications.update(partner.client_id, { set: { created_at: old } });

    const unused = await api('get', '/client-activity?unused_for_days=30&include_totals=true').expect(200);
    expectConforms(unused.body, listResponse('clients', clientActivityResponse));
    const names = unused.body.clients.map((c: { name: string }) => c.name).sort();
    expect(names).toEqual(['Forgotten', 'Never used']);
    expect(unused.body.clients.find((c: { client_id: string }) => c.client_id === forgotten.client_id)).toMatchObject({ last_used_at: expect.any(String), connections: 0 });
    expect(unused.body.clients.find((c: { client_id: string }) => c.client_id === never.client_id)).not.toHaveProperty('last_used_at');

    const all = await api('get', '/client-activity?per_page=100').expect(200);
    const used = all.body.find((c: { client_id: string }) => c.client_id === partner.client_id);
    expect(used).toMatchObject({ name: 'Partner Notes', connections: 1, last_used_at: expect.any(String) });
    expect(all.body.map((c: { client_id: string }) => c.client_id)).toContain(fresh.client_id);
    expect(all.body.map((c: { name: string }) => c.name)).not.toContain('Gatehouse Admin');
  });

  it('revokes every connection of one application in one call, with the tokens issued under them', async () => {
    const other = await createUser(test.gatehouse.stores, 'hopper@example.com', PASSWORD);
    const second = await codeFlowTokens(test.app, partner, { email: other.email, password: PASSWORD, secret: partnerSecret, query: authorizeQuery(partner, { audience, scope: 'read:notes offline_access' }) });
    expect(second.status).toBe(200);
    expect((await api('get', `/grants?client_id=${partner.client_id}`).expect(200)).body).toHaveLength(2);

    await api('delete', `/grants?client_id=${partner.client_id}`).expect(204);
    expect((await api('get', `/grants?client_id=${partner.client_id}`).expect(200)).body).toEqual([]);
    for (const token of [refreshToken, second.body.refresh_token]) {
      const refused = await request(test.app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: token, client_id: partner.client_id, client_secret: partnerSecret });
      expect(refused.body.error).toBe('invalid_grant');
    }
    expect(await test.gatehouse.stores.durable.applications.get(partner.client_id)).toBeDefined();
    await test.gatehouse.audit.flush();
    expect(await test.gatehouse.stores.durable.logs.count({ type: 'consent_revoked', client_id: partner.client_id })).toBe(2);
  });

  it('asks for exactly one of user_id and client_id when revoking in bulk', async () => {
    expectApiError(await api('delete', '/grants'), 400, 'invalid_query_string', /Missing required property: user_id.*or client_id/);
    expectApiError(await api('delete', `/grants?user_id=x&client_id=y`), 400, 'invalid_query_string', /not both/);
  });

  it('is deleted with its application', async () => {
    await api('delete', `/clients/${partner.client_id}`).expect(204);
    expect(await test.gatehouse.stores.durable.connectionActivity.count({ client_id: partner.client_id })).toBe(0);
  });
});
