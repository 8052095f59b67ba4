import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { expectApiError, managementTestbed } from '../../support/management.ts';

/**
 * One rule for the URLs of an application: what the Management API accepts, /authorize (oidc-provider's client
 * metadata checks) accepts too, and what /authorize would refuse every time, the Management API refuses up front.
 */
describe('Management API: callback and logout URLs of first-party applications', () => {
  const testbed = managementTestbed();
  const { api } = testbed;

  const appTypes = ['regular_web', 'spa', 'native'] as const;
  const flows = [
    { grant_types: ['authorization_code'], response_type: 'code' },
    { grant_types: ['implicit'], response_type: 'id_token' },
  ];
  const urls = [
    'https://app.example.com/cb', 'http://app.example.com/cb', 'http://localhost:3000/cb', 'http://127.0.0.1:3000/cb', 'https://localhost/cb',
    'https://*.example.com/cb', 'com.example.app:/cb',
  ];
  const cases = appTypes.flatMap((app_type) => flows.flatMap((flow) => urls.map((url) => ({ app_type, ...flow, url }))));

  it.each(cases)('$app_type, $grant_types, $url: accepted by both or refused up front', async ({ app_type, grant_types, response_type, url }) => {
    const created = await api('post', '/clients', { name: 'Own app', app_type, grant_types, callbacks: [url], allowed_logout_urls: [url], token_endpoint_auth_method: 'none' });
    if (created.status !== 201) {
      expectApiError(created, 400, 'invalid_body', /callbacks entry/);
      return;
    }
    const redirect = url.replace('*', 'eu');
    const query = new URLSearchParams({ client_id: created.body.client_id, response_type, redirect_uri: redirect, scope: 'openid', nonce: 'n', state: 's' });
    if (response_type === 'code') {
      query.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
      query.set('code_challenge_method', 'S256');
    }
    const res = await request(testbed.test.app).get(`/authorize?${query}`);
    expect({ status: res.status, location: res.headers.location, page: res.status === 303 ? '' : res.text.slice(0, 300) })
      .toMatchObject({ status: 303, location: expect.stringMatching(/^\/u\/login\?state=/) });
    const logout = await request(testbed.test.app).get(`/oidc/logout?${new URLSearchParams({ client_id: created.body.client_id, post_logout_redirect_uri: url })}`);
    expect(logout.status).toBe(200);
  });

  it('refuse plain http for the implicit flow, saying why', async () => {
    const res = await api('post', '/clients', { name: 'Legacy SPA', app_type: 'spa', grant_types: ['implicit'], callbacks: ['http://app.example.com/cb'] });
    expectApiError(res, 400, 'invalid_body', 'callbacks entry "http://app.example.com/cb" must use https: the implicit flow returns tokens in the URL');
    const existing = await api('post', '/clients', { name: 'Legacy SPA', app_type: 'spa', callbacks: ['http://app.example.com/cb'] }).expect(201);
    expectApiError(await api('patch', `/clients/${existing.body.client_id}`, { grant_types: ['implicit'] }), 400, 'invalid_body', /must use https/);
  });
});
