import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManagementClient } from 'auth0';
import { decodeJwt } from 'jose';
import { startLiveGatehouse, type LiveGatehouse } from '../../support/browser.ts';

/**
 * Auth0's own Management API SDK (the `auth0` package), unchanged, against Gatehouse on loopback. The SDK always talks
 * to https://<domain>/api/v2; its `fetch` option sends those requests to Gatehouse's plain-http test port instead.
 */
describe('the auth0 SDK (ManagementClient)', () => {
  let live: LiveGatehouse;
  let management: ManagementClient;
  const domain = 'tenant.gatehouse.test';

  const clientCredentials = async (client_id: string, client_secret: string, audience: string) => {
    const res = await fetch(`${live.origin}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret, audience }),
    });
    expect(res.status).toBe(200);
    return (await res.json() as { access_token: string }).access_token;
  };

  beforeAll(async () => {
    live = await startLiveGatehouse();
    const admin = live.gatehouse.adminCredentials;
    const token = await clientCredentials(admin.client_id, admin.client_secret as string, `${live.origin}/api/v2/`);
    const toGatehouse: typeof fetch = (input, init) => fetch(String(input instanceof Request ? input.url : input).replace(`https://${domain}`, live.origin), init);
    management = new ManagementClient({ domain, token, fetch: toGatehouse });
  });
  afterAll(async () => {
    await live.close();
  });

  it('manages applications, APIs with a token dialect, and client grants, and pages client grants by checkpoint', async () => {
    const app = await management.clients.create({ name: 'SDK job', app_type: 'non_interactive' });
    expect(app.client_id).toEqual(expect.any(String));
    const api = await management.resourceServers.create({
      identifier: 'https://sdk.example.com/', name: 'SDK API', scopes: [{ value: 'read:items' }, { value: 'write:items' }], token_dialect: 'access_token_authz',
    });
    expect(api).toMatchObject({ identifier: 'https://sdk.example.com/', token_dialect: 'access_token_authz' });
    const grant = await management.clientGrants.create({ client_id: app.client_id as string, audience: api.identifier as string, scope: ['read:items', 'write:items'], subject_type: 'client' });

    // access_token_authz: Auth0's profile (azp, gty) with the granted scopes as permissions.
    const token = decodeJwt(await clientCredentials(app.client_id as string, app.client_secret as string, 'https://sdk.example.com/'));
    expect(token).toMatchObject({ aud: 'https://sdk.example.com/', azp: app.client_id, client_id: app.client_id, gty: 'client-credentials', scope: 'read:items write:items', permissions: ['read:items', 'write:items'] });

    await management.resourceServers.update(api.id as string, { token_dialect: 'rfc9068_profile' });
    const rfc9068 = decodeJwt(await clientCredentials(app.client_id as string, app.client_secret as string, 'https://sdk.example.com/'));
    expect(rfc9068).toMatchObject({ client_id: app.client_id, scope: 'read:items write:items' });
    expect(rfc9068).not.toHaveProperty('azp');
    expect(rfc9068).not.toHaveProperty('gty');
    expect(rfc9068).not.toHaveProperty('permissions');

    // Checkpoint pagination: the SDK sends take (and from, page after page) and follows `next`.
    for (let i = 0; i < 4; i += 1) {
      const more = await management.clients.create({ name: `SDK job ${i}`, app_type: 'non_interactive' });
      await management.clientGrants.create({ client_id: more.client_id as string, audience: api.identifier as string, scope: ['read:items'], subject_type: 'client' });
    }
    const seen: string[] = [];
    let page = await management.clientGrants.list({ audience: api.identifier as string, take: 2 });
    for (;;) {
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((g) => g.id as string));
      if (!page.hasNextPage()) break;
      page = await page.getNextPage();
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect(seen).toContain(grant.id);
    const all: string[] = [];
    for await (const item of await management.clientGrants.list()) all.push(item.id as string);
    expect(all.length).toBeGreaterThanOrEqual(5);

    const listed = await management.clients.list({ app_type: 'non_interactive' });
    expect(listed.data.map((c) => c.name)).toContain('SDK job');
    await management.clientGrants.delete(grant.id as string);
    await management.clients.delete(app.client_id as string);
  });

  it('lists connections (checkpoint pagination) and manages users and tenant settings', async () => {
    const connections = await management.connections.list();
    expect(connections.data.map((c) => c.name)).toContain('Username-Password-Authentication');
    const created = await management.connections.create({ name: 'partners', strategy: 'auth0' });
    const first = await management.connections.list({ take: 1 });
    expect(first.data).toHaveLength(1);
    expect(first.hasNextPage()).toBe(true);
    const names: string[] = [];
    for await (const connection of first) names.push(connection.name as string);
    expect(names).toEqual(expect.arrayContaining(['Username-Password-Authentication', 'partners']));

    const user = await management.users.create({ connection: 'partners', email: 'sdk@example.com', password: 'a long enough password 1' });
    expect(user).toMatchObject({ email: 'sdk@example.com' });
    expect((await management.users.list()).data.map((u) => u.email)).toContain('sdk@example.com');
    expect((await management.userGrants.list({ user_id: user.user_id as string })).data).toEqual([]);

    await management.tenants.settings.update({ friendly_name: 'SDK tenant' });
    expect(await management.tenants.settings.get()).toMatchObject({ friendly_name: 'SDK tenant' });
    await management.connections.delete(created.id as string);
  });

  it('gets an Auth0-shaped error for fields outside Auth0\'s schema', async () => {
    await expect(management.resourceServers.create({ identifier: 'https://bad.example.com/', unknown_field: true } as never))
      .rejects.toMatchObject({ statusCode: 400, body: { errorCode: 'invalid_body', message: expect.stringContaining('unknown_field') } });
  });
});
