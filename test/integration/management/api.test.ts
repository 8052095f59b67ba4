import { afterAll, describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { describedManagementOperations } from '../../../src/http/management/index.ts';
import type { Operation } from '../../../src/http/management/operation.ts';
import { ISSUER, memoryStores, testConfig } from '../../support/harness.ts';
import { expectApiError, managementCaller, managementTestbed, otherScope } from '../../support/management.ts';

/** The operations are listed before any Gatehouse starts, so that each gets its own tests; their stores stay unused. */
const unusedStores = memoryStores();
const operations = describedManagementOperations(unusedStores, testConfig());
const label = (op: Operation) => `${op.method.toUpperCase()} ${op.path}`;
const concrete = (op: Operation, id = 'does-not-exist') => op.path.replace(':id', id);

/** A valid body for each operation on an existing entity, so that its 404 (not a 400) is what answers. */
const VALID_BODIES: Record<string, unknown> = {
  'PATCH /clients/:id': { name: 'Renamed' },
  'PATCH /resource-servers/:id': { name: 'Renamed' },
  'PATCH /client-grants/:id': { scope: [] },
  'PATCH /connections/:id': { is_domain_connection: true },
  'PATCH /users/:id': { name: 'Renamed' },
  'PUT /network-acls/:id': { description: 'Block', rule: { scope: 'management', action: { block: true }, match: { ipv4_cidrs: ['192.0.2.0/24'] } } },
  'PATCH /network-acls/:id': { active: false },
  'PATCH /log-streams/:id': { name: 'Renamed' },
  'POST /clients/:id/trust': { trust: 'trusted' },
  'PATCH /operators/:id': { role: 'viewer' },
};

describe('Management API: every operation', () => {
  const testbed = managementTestbed();
  const { api } = testbed;
  afterAll(() => unusedStores.close());
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (scope: string) => {
    if (!tokens.has(scope)) tokens.set(scope, managementCaller(testbed.test, scope).then((caller) => caller.token));
    return tokens.get(scope) as Promise<string>;
  };

  it.each(operations.map((op) => [label(op), op] as const))('%s answers 401 without a token and 403 without its scope, with RFC 6750 challenges', async (_label, op) => {
    const anonymous = await request(testbed.test.app)[op.method](`/api/v2${concrete(op)}`);
    expectApiError(anonymous, 401, 'missing_token');
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    const token = await tokenFor(otherScope(op.scope));
    const res = await request(testbed.test.app)[op.method](`/api/v2${concrete(op)}`).set('Authorization', `Bearer ${token}`);
    const anyOf = [op.scope].flat();
    expectApiError(res, 403, 'insufficient_scope', anyOf.join(','));
    expect(res.headers['www-authenticate']).toBe(`Bearer error="insufficient_scope", error_description="Insufficient scope, expected any of: ${anyOf.join(',')}", scope="${anyOf[0]}"`);
  });

  it('answers a bad or expired token with an invalid_token challenge', async () => {
    const forged = await request(testbed.test.app).get('/api/v2/clients').set('Authorization', `Bearer ${(await tokenFor('read:clients')).slice(0, -4)}AAAA`);
    expectApiError(forged, 401, 'invalid_token');
    expect(forged.headers['www-authenticate']).toBe(`Bearer error="invalid_token", error_description="Invalid token: not an access token for ${ISSUER}/api/v2/"`);
  });

  it.each(operations.map((op) => [label(op), op] as const))('%s refuses an unknown query parameter', async (_label, op) => {
    expectApiError(await api(op.method, `${concrete(op)}?unexpected=1`, op.body ? {} : undefined), 400, 'invalid_query_string', /unexpected/);
  });

  const withBody = operations.filter((op) => op.body);
  it.each(withBody.map((op) => [label(op), op] as const))('%s refuses an unknown body property, and a body that is not an object', async (_label, op) => {
    expectApiError(await api(op.method, concrete(op), { unexpected: true }), 400, 'invalid_body', /Additional properties not allowed: unexpected/);
    expectApiError(await api(op.method, concrete(op), [1, 2]), 400, 'invalid_body', /Expected type object but found type array/);
    const text = await api(op.method, concrete(op)).set('Content-Type', 'application/json').send('"text"');
    expectApiError(text, 400, 'invalid_body');
  });

  const onOneEntity = operations.filter((op) => op.path.includes(':id'));
  it.each(onOneEntity.map((op) => [label(op), op] as const))('%s answers 404 for an entity that does not exist', async (_label, op) => {
    expect(op.errors).toContain(404);
    const res = await api(op.method, concrete(op), VALID_BODIES[label(op)]);
    expect(res.status).toBe(404);
    expect(res.body.errorCode).toMatch(/^inexistent_/);
  });

  it('answers unknown Management API paths with an Auth0-shaped 404, after authentication', async () => {
    expectApiError(await api('get', '/rules'), 404, 'not_found');
    expectApiError(await request(testbed.test.app).get('/api/v2/rules'), 401, 'missing_token');
  });

  it('serves an OpenAPI 3.1 document, without a token, that describes every operation with the schemas it validates with', async () => {
    const { body: doc } = await request(testbed.test.app).get('/api/v2/openapi.json').expect(200);
    expect(doc).toMatchObject({ openapi: '3.1.0', servers: [{ url: ISSUER }] });
    expect(doc.components.securitySchemes.managementApi.flows.clientCredentials.tokenUrl).toBe(`${ISSUER}/oauth/token`);
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    addFormats.default(ajv);
    for (const op of operations) {
      const described = doc.paths[`/api/v2${op.path.replace(':id', '{id}')}`]?.[op.method];
      expect(described).toBeDefined();
      expect(described.security).toEqual([op.scope].flat().map((scope) => ({ managementApi: [scope] })));
      expect(described.requestBody?.content['application/json'].schema).toEqual(op.body && JSON.parse(JSON.stringify(op.body)));
      const queryNames = described.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name);
      expect(queryNames).toEqual(Object.keys(op.query?.properties ?? {}));
      for (const schema of [op.body, op.query, op.response.schema]) if (schema) ajv.compile(schema);
    }
    const documented = Object.values(doc.paths).flatMap((methods) => Object.keys(methods as object));
    expect(documented).toHaveLength(operations.length);
  });
});
