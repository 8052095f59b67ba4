import { describe, expect, it } from '@jest/globals';
import { secretMatches } from '../../../src/domain/ids.ts';
import { clientResponse, listResponse } from '../../../src/http/management/schemas.ts';
import { clientCredentialsToken } from '../../support/harness.ts';
import { expectApiError, expectConforms, managementTestbed } from '../../support/management.ts';

describe('Management API: clients', () => {
  const testbed = managementTestbed();
  const { api } = testbed;

  it('creates a strict third-party application with Auth0 defaults and returns its secret once', async () => {
    const res = await api('post', '/clients', {
      name: 'Partner Application', is_first_party: false, app_type: 'regular_web',
      callbacks: ['https://partner.example.com/callback'], token_endpoint_auth_method: 'client_secret_post',
    }).expect(201);
    expectConforms(res.body, clientResponse);
    expect(res.body).toMatchObject({
      is_first_party: false, third_party_security_mode: 'strict', redirection_policy: 'open_redirect_protection',
      grant_types: ['authorization_code', 'refresh_token'], jwt_configuration: { alg: 'RS256' },
      refresh_token: { expiration_type: 'expiring', infinite_token_lifetime: false, infinite_idle_token_lifetime: false },
    });
    expect(res.body.client_id).toMatch(/^tpc_[A-Za-z0-9]{32}$/);
    expect(res.body.client_secret.length).toBeGreaterThanOrEqual(64);
    expect(res.body).not.toHaveProperty('client_secret_hash');
    const stored = await testbed.test.gatehouse.stores.durable.applications.get(res.body.client_id);
    expect(secretMatches(res.body.client_secret, stored?.client_secret_hash as string)).toBe(true);

    const read = await api('get', `/clients/${res.body.client_id}`).expect(200);
    expect(read.body).not.toHaveProperty('client_secret');
    expect(read.body).not.toHaveProperty('client_secret_hash');
  });

  it('creates public applications without a secret, rotating their refresh tokens', async () => {
    const res = await api('post', '/clients', { name: 'MCP client', is_first_party: false, app_type: 'native', callbacks: ['http://127.0.0.1:33418/callback'] }).expect(201);
    expect(res.body).toMatchObject({ token_endpoint_auth_method: 'none', refresh_token: { rotation_type: 'rotating' } });
    expect(res.body).not.toHaveProperty('client_secret');
    expect((await testbed.test.gatehouse.stores.durable.applications.get(res.body.client_id))?.client_secret_hash).toBeUndefined();
  });

  it('gives first-party machine-to-machine applications client credentials, and a secret that works', async () => {
    const res = await api('post', '/clients', { name: 'Backend job', app_type: 'non_interactive' }).expect(201);
    expect(res.body).toMatchObject({ is_first_party: true, grant_types: ['client_credentials'] });
    expect(res.body.client_id).not.toMatch(/^tpc_/);
    expect(res.body).not.toHaveProperty('third_party_security_mode');
    await api('post', '/client-grants', { client_id: res.body.client_id, audience: 'https://api.example.com/', scope: ['read:messages'] }).expect(201);
    const token = await clientCredentialsToken(testbed.test.app, res.body.client_id, res.body.client_secret, 'https://api.example.com/');
    expect(token.status).toBe(200);
  });

  it('refuses properties outside the strict curated list, naming them', async () => {
    for (const extra of [{ allowed_logout_urls: ['https://partner.example.com/'] }, { cross_origin_authentication: false }]) {
      const res = await api('post', '/clients', { name: 'Partner', is_first_party: false, ...extra }).expect(400);
      expectApiError(res, 400, 'invalid_body', Object.keys(extra)[0] as string);
    }
    const firstParty = await api('post', '/clients', { name: 'Own app', allowed_logout_urls: ['https://own.example.com/'], cross_origin_authentication: true }).expect(201);
    expect(firstParty.body).toMatchObject({ allowed_logout_urls: ['https://own.example.com/'], cross_origin_authentication: true });
  });

  it('refuses unknown properties, wrong types and malformed JSON with Auth0 400s', async () => {
    expectApiError(await api('post', '/clients', { name: 'X', client_id: 'chosen' }), 400, 'invalid_body', /Additional properties not allowed: client_id/);
    expectApiError(await api('post', '/clients', { name: 42 }), 400, 'invalid_body', /Expected type string but found type integer' on property name/);
    expectApiError(await api('post', '/clients', {}), 400, 'invalid_body', /Missing required property: name/);
    expectApiError(await api('post', '/clients', { name: 'X', jwt_configuration: { alg: 'HS256' } }), 400, 'invalid_body', /No enum match for: "HS256"' on property jwt_configuration.alg/);
    const malformed = await api('post', '/clients').set('Content-Type', 'application/json').send('{"name": ');
    expectApiError(malformed, 400, 'invalid_body', 'Invalid request payload JSON format');
    const huge = await api('post', '/clients', { name: 'X', description: 'x'.repeat(100_000) });
    expectApiError(huge, 413, 'payload_too_large');
  });

  it('refuses permissive applications on a tenant that does not allow them', async () => {
    const res = await api('post', '/clients', { name: 'Legacy', is_first_party: false, third_party_security_mode: 'permissive' });
    expectApiError(res, 400, 'invalid_body', /permissive/);
  });

  it('keeps is_first_party and third_party_security_mode for life, accepting the same value again', async () => {
    const { body: created } = await api('post', '/clients', { name: 'Partner', is_first_party: false, callbacks: ['https://p.example.com/cb'] }).expect(201);
    const path = `/clients/${created.client_id}`;
    await api('patch', path, { is_first_party: false, third_party_security_mode: 'strict', name: 'Partner 2' }).expect(200);
    expectApiError(await api('patch', path, { is_first_party: true }), 400, 'invalid_body', /is_first_party cannot be changed/);
    expectApiError(await api('patch', path, { third_party_security_mode: 'permissive' }), 400, 'invalid_body', /third_party_security_mode cannot be changed/);
    expectApiError(await api('patch', path, { callbacks: ['https://*.example.com/cb'] }), 400, 'invalid_body', /wildcards/);
    expectApiError(await api('patch', path, {}), 400, 'invalid_body', /fewer than 1 properties/);
    const after = await api('get', path).expect(200);
    expect(after.body).toMatchObject({ name: 'Partner 2', callbacks: ['https://p.example.com/cb'] });
  });

  it('merges jwt_configuration and refresh_token in a PATCH, and re-checks the result', async () => {
    const { body: created } = await api('post', '/clients', { name: 'SPA', is_first_party: false, app_type: 'spa', callbacks: ['https://spa.example.com/'] }).expect(201);
    const path = `/clients/${created.client_id}`;
    const res = await api('patch', path, { refresh_token: { leeway: 30 }, jwt_configuration: { lifetime_in_seconds: 600 } }).expect(200);
    expect(res.body.refresh_token).toEqual({ ...created.refresh_token, leeway: 30 });
    expect(res.body.jwt_configuration).toEqual({ alg: 'RS256', lifetime_in_seconds: 600 });
    expectApiError(await api('patch', path, { refresh_token: { infinite_token_lifetime: true } }), 400, 'invalid_body', /infinite/);
    expectApiError(await api('patch', path, { grant_types: ['client_credentials'] }), 400, 'invalid_body', /confidential/);
  });

  it('rotates a secret: the new one works, the old one stops', async () => {
    const { body: created } = await api('post', '/clients', { name: 'Rotating', app_type: 'non_interactive' }).expect(201);
    await api('post', '/client-grants', { client_id: created.client_id, audience: 'https://api.example.com/', scope: [] }).expect(201);
    const rotated = await api('post', `/clients/${created.client_id}/rotate-secret`).expect(200);
    expectConforms(rotated.body, clientResponse);
    expect(rotated.body.client_secret).not.toBe(created.client_secret);
    const old = await clientCredentialsToken(testbed.test.app, created.client_id, created.client_secret, 'https://api.example.com/');
    expect(old.status).toBe(401);
    const fresh = await clientCredentialsToken(testbed.test.app, created.client_id, rotated.body.client_secret, 'https://api.example.com/');
    expect(fresh.status).toBe(200);
  });

  it('refuses to rotate the secret of a public application', async () => {
    const { body: created } = await api('post', '/clients', { name: 'Native', app_type: 'native', callbacks: ['com.example.app:/cb'] }).expect(201);
    expectApiError(await api('post', `/clients/${created.client_id}/rotate-secret`), 400, 'invalid_body', /no secret/);
  });

  it('lists with filters, pages and totals', async () => {
    const all = await api('get', '/clients?per_page=100').expect(200);
    expectConforms(all.body, listResponse('clients', clientResponse));
    expect(Array.isArray(all.body)).toBe(true);
    const thirdParty = await api('get', '/clients?is_first_party=false&include_totals=true&per_page=2&page=0').expect(200);
    expect(thirdParty.body).toMatchObject({ start: 0, limit: 2, length: 2 });
    expect(thirdParty.body.total).toBe(all.body.filter((c: { is_first_party: boolean }) => !c.is_first_party).length);
    expect(thirdParty.body.clients.every((c: { is_first_party: boolean }) => !c.is_first_party)).toBe(true);
    const machines = await api('get', '/clients?app_type=non_interactive').expect(200);
    expect(machines.body.map((c: { app_type: string }) => c.app_type)).toEqual(machines.body.map(() => 'non_interactive'));
    expectApiError(await api('get', '/clients?per_page=101'), 400, 'invalid_query_string', /per_page/);
    expectApiError(await api('get', '/clients?is_first_party=maybe'), 400, 'invalid_query_string', /is_first_party/);
  });

  it('protects Gatehouse\'s own admin application', async () => {
    const { client_id } = testbed.test.gatehouse.adminCredentials;
    expectApiError(await api('delete', `/clients/${client_id}`), 400, 'operation_not_supported');
    expectApiError(await api('patch', `/clients/${client_id}`, { name: 'Mine now' }), 400, 'operation_not_supported');
    await api('get', `/clients/${client_id}`).expect(200);
  });

  it('answers 404 inexistent_client for an unknown application', async () => {
    expectApiError(await api('get', '/clients/nope'), 404, 'inexistent_client');
  });
});
