import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { SYSTEM_API_ID } from '../../../src/domain/system-api.ts';
import { MANAGEMENT_ACCESS_MEMO_MS } from '../../../src/services/access.ts';
import { clientCredentialsToken, ISSUER, startGatehouse } from '../../support/harness.ts';
import { expectApiError, managementTestbed } from '../../support/management.ts';

const AUDIENCE = `${ISSUER}/api/v2/`;
const SYSTEM_API = encodeURIComponent(AUDIENCE);
/** Past the bound the guard documents for what it remembers about a client. */
const pastTheMemo = () => new Promise((resolve) => setTimeout(resolve, MANAGEMENT_ACCESS_MEMO_MS + 100));

describe('Management API tokens', () => {
  const testbed = managementTestbed();
  const { api } = testbed;

  /** A machine-to-machine application of the administrator's with a Management API grant, and a token for it. */
  async function managementClient(scope: string[]) {
    const { body: client } = await api('post', '/clients', { name: 'Ops robot', app_type: 'non_interactive' }).expect(201);
    const { body: grant } = await api('post', '/client-grants', { client_id: client.client_id, audience: AUDIENCE, scope }).expect(201);
    const token = await clientCredentialsToken(testbed.test.app, client.client_id, client.client_secret, AUDIENCE);
    expect(token.status).toBe(200);
    const call = (path: string) => request(testbed.test.app).get(`/api/v2${path}`).set('Authorization', `Bearer ${token.body.access_token}`);
    return { client, grant, call };
  }

  it('stop working once their client grant is deleted', async () => {
    const { grant, call } = await managementClient(['read:clients']);
    await call('/clients').expect(200);
    await api('delete', `/client-grants/${grant.id}`).expect(204);
    await pastTheMemo();
    expectApiError(await call('/clients'), 401, 'invalid_token', /client grant/);
  });

  it('stop working once their application is deleted', async () => {
    const { client, call } = await managementClient(['read:clients']);
    await call('/clients').expect(200);
    await api('delete', `/clients/${client.client_id}`).expect(204);
    await pastTheMemo();
    expectApiError(await call('/clients'), 401, 'invalid_token', new RegExp(client.client_id));
  });

  it('keep only the scopes their client grant still allows', async () => {
    const { grant, call } = await managementClient(['read:clients', 'read:users']);
    await call('/clients').expect(200);
    await api('patch', `/client-grants/${grant.id}`, { scope: ['read:users'] }).expect(200);
    await pastTheMemo();
    expectApiError(await call('/clients'), 403, 'insufficient_scope', 'read:clients');
    await call('/users').expect(200);
  });

  it('live as long as the system API\'s token_lifetime, which is the one thing an administrator may change on it', async () => {
    const before = decodeJwt((await clientCredentialsToken(testbed.test.app, testbed.test.gatehouse.adminCredentials.client_id, testbed.test.gatehouse.adminCredentials.client_secret as string, AUDIENCE)).body.access_token);
    expect(Number(before.exp) - Number(before.iat)).toBe(86400);

    const res = await api('patch', `/resource-servers/${SYSTEM_API}`, { token_lifetime: 600, token_lifetime_for_web: 600 }).expect(200);
    expect(res.body).toMatchObject({ is_system: true, token_lifetime: 600, token_lifetime_for_web: 600 });
    const token = await clientCredentialsToken(testbed.test.app, testbed.test.gatehouse.adminCredentials.client_id, testbed.test.gatehouse.adminCredentials.client_secret as string, AUDIENCE);
    expect(token.body.expires_in).toBe(600);
    const claims = decodeJwt(token.body.access_token);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(600);

    expectApiError(await api('patch', `/resource-servers/${SYSTEM_API}`, { token_lifetime: 60 }), 400, 'invalid_body', /token_lifetime_for_web/);
    expectApiError(await api('patch', `/resource-servers/${SYSTEM_API}`, { token_lifetime: 300, name: 'Mine' }), 400, 'operation_not_supported', /system API/);
    expectApiError(await api('patch', `/resource-servers/${SYSTEM_API}`, { allow_offline_access: true }), 400, 'operation_not_supported', /system API/);

    // A start under another issuer re-points the system API, and keeps the administrator's lifetime.
    const moved = await startGatehouse({ stores: testbed.test.gatehouse.stores, config: { issuer: 'http://moved.test' } });
    await moved.close();
    expect(await testbed.test.gatehouse.stores.durable.resourceServers.get(SYSTEM_API_ID)).toMatchObject({ identifier: 'http://moved.test/api/v2/', token_lifetime: 600, token_lifetime_for_web: 600 });
  });
});
