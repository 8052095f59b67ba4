import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import type { GatehouseConfig } from '../../src/config/schema.ts';
import { startGatehouse, testConfig, type TestGatehouse } from '../support/harness.ts';
import { managementCaller } from '../support/management.ts';

const register = (app: Express, body: Record<string, unknown>) => request(app).post('/oidc/register').set('Content-Type', 'application/json').send(JSON.stringify(body));
const defaults = testConfig().registration;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function openRegistration(registration: Partial<GatehouseConfig['registration']> = {}, selfRegistered: Record<string, unknown> = {}): Promise<TestGatehouse> {
  const test = await startGatehouse({ config: { registration: { ...defaults, ...registration } } });
  const management = await managementCaller(test);
  const res = await management('patch', '/tenants/settings', { flags: { enable_dynamic_client_registration: true }, self_registered_clients: selfRegistered });
  expect(res.status).toBe(200);
  return test;
}

const dynamicApplications = (test: TestGatehouse) => test.gatehouse.stores.durable.applications.count({ registration_type: 'dynamic' });

describe('registration without sprawl', () => {
  describe('idempotent public registration', () => {
    let test: TestGatehouse;
    beforeAll(async () => {
      test = await openRegistration({ rate_limit_per_second: 1000, max_applications: 1 });
    });
    afterAll(() => test.close());

    it('makes one application of 100 identical registrations of a public client (a loopback port may change), counting once against the cap', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 100; i += 1) {
        const res = await register(test.app, {
          client_name: 'Claude Code', redirect_uris: [`http://localhost:${40000 + i}/callback`], token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        });
        expect(res.status).toBe(201);
        expect(res.body.client_secret).toBeUndefined();
        ids.add(res.body.client_id);
      }
      expect(ids.size).toBe(1);
      expect(await dynamicApplications(test)).toBe(1); // the cap (1) is reached, yet every identical registration got its application
      const different = await register(test.app, { client_name: 'Claude Code', redirect_uris: ['http://localhost:1/callback'], token_endpoint_auth_method: 'none', software_id: 'other' });
      expect(different.status).toBe(403); // a different client is a new application: refused by the cap
    });

    it('makes one application of identical registrations sent at the same moment', async () => {
      const concurrent = await startGatehouse({ config: { registration: { ...defaults, rate_limit_per_second: 1000 } } });
      try {
        const management = await managementCaller(concurrent);
        await management('patch', '/tenants/settings', { flags: { enable_dynamic_client_registration: true } });
        const body = { client_name: 'Burst', redirect_uris: ['https://burst.example.com/cb'], token_endpoint_auth_method: 'none' };
        const answers = await Promise.all(Array.from({ length: 10 }, () => register(concurrent.app, body)));
        expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
        expect(new Set(answers.map((a) => a.body.client_id)).size).toBe(1);
        expect(await dynamicApplications(concurrent)).toBe(1);
      } finally {
        await concurrent.close();
      }
    });
  });

  it('gives confidential clients a new application (and secret) each time, and ends idempotency when an administrator changes the application', async () => {
    const test = await openRegistration({ rate_limit_per_second: 1000 });
    try {
      const body = { client_name: 'Server App', redirect_uris: ['https://server.example.com/cb'] };
      const [a, b] = [await register(test.app, body), await register(test.app, body)];
      expect(a.body.client_secret).toEqual(expect.any(String));
      expect(a.body.client_id).not.toBe(b.body.client_id);

      const publicBody = { client_name: 'Public App', redirect_uris: ['https://public.example.com/cb'], token_endpoint_auth_method: 'none' };
      const first = await register(test.app, publicBody);
      const management = await managementCaller(test);
      expect((await management('patch', `/clients/${first.body.client_id}`, { callbacks: ['https://public.example.com/other'] })).status).toBe(200);
      const after = await register(test.app, publicBody);
      expect(after.status).toBe(201);
      expect(after.body.client_id).not.toBe(first.body.client_id);
      expect(after.body.redirect_uris).toEqual(['https://public.example.com/cb']);
    } finally {
      await test.close();
    }
  });

  it('does not refuse one address registering 100 distinct public clients for 100 users of one hosted connector within a minute, under 5 per second (default limits)', async () => {
    const test = await openRegistration();
    try {
      const ids = new Set<string>();
      for (let batch = 0; batch < 20; batch += 1) {
        for (let i = 0; i < 5; i += 1) {
          const user = batch * 5 + i;
          const res = await register(test.app, {
            client_name: 'Hosted Connector', redirect_uris: [`https://connector.example.com/users/${user}/callback`], token_endpoint_auth_method: 'none', software_id: 'hosted-connector',
          });
          expect({ user, status: res.status, error: res.body.error_description }).toEqual({ user, status: 201, error: undefined });
          ids.add(res.body.client_id);
        }
        // The tenant-wide limit is 5 per second (a fixed window from its first request): a pause longer than a window after
        // each batch of 5 keeps every window to one batch, however slow the machine.
        await sleep(1050);
      }
      expect(ids.size).toBe(100);
    } finally {
      await test.close();
    }
  }, 60_000);

  it('keeps budgets per claimed identity: a claimant over its budget is refused, others behind the same address are not', async () => {
    const test = await openRegistration({ rate_limit_per_second: 1000, rate_limit_per_claimed_identity_per_hour: 3 });
    try {
      const client = (n: number, redirectHost: string) => ({ client_name: `Client ${n}`, redirect_uris: [`https://${redirectHost}/cb/${n}`], token_endpoint_auth_method: 'none' });
      for (let n = 0; n < 3; n += 1) expect((await register(test.app, client(n, 'busy.example.com'))).status).toBe(201);
      const over = await register(test.app, client(3, 'busy.example.com'));
      expect(over.status).toBe(429);
      expect(over.body).toEqual({ error: 'too_many_requests', error_description: expect.stringMatching(/^Too many registrations for redirect-host:busy\.example\.com: try again in \d+ s\.$/) });
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      expect((await register(test.app, client(4, 'quiet.example.com'))).status).toBe(201);
      const software = (n: number) => ({ ...client(10 + n, `host${n}.example.com`), software_id: 'spray-tool' });
      for (let n = 0; n < 3; n += 1) expect((await register(test.app, software(n))).status).toBe(201);
      expect((await register(test.app, software(3))).body.error_description).toMatch(/software-id:spray-tool/);
    } finally {
      await test.close();
    }
  });

  it('admits clients over their budget as pending when the tenant chooses so', async () => {
    const test = await openRegistration({ rate_limit_per_second: 1000, rate_limit_per_claimed_identity_per_hour: 1, rate_limit_per_ip_per_minute: 2 }, { over_budget: 'admit_as_pending' });
    try {
      const client = (n: number) => ({ client_name: `Flood ${n}`, redirect_uris: [`https://flood.example.com/cb/${n}`], token_endpoint_auth_method: 'none' });
      const trustOf = async (n: number) => {
        const res = await register(test.app, client(n));
        expect(res.status).toBe(201);
        return (await test.gatehouse.stores.durable.applications.get(res.body.client_id))?.trust;
      };
      expect(await trustOf(0)).toBe('trusted');
      expect(await trustOf(1)).toBe('pending'); // over the identity's budget
      expect(await trustOf(2)).toBe('pending'); // over the address's backstop too
    } finally {
      await test.close();
    }
  });
});
