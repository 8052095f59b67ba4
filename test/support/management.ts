import { afterAll, beforeAll, expect } from '@jest/globals';
import type { SchemaObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { MANAGEMENT_API_SCOPES, type ManagementScope } from '../../src/domain/system-api.ts';
import { adminToken, startGatehouse, type TestGatehouse } from './harness.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A Management API caller holding a token with every scope (or only those given). */
export interface ManagementCaller {
  (method: Method, path: string, body?: unknown): request.Test;
  token: string;
}

export async function managementCaller(test: TestGatehouse, scope?: string): Promise<ManagementCaller> {
  const token = await adminToken(test, scope);
  const call = ((method: Method, path: string, body?: unknown) => {
    const req = request(test.app)[method](`/api/v2${path}`).set('Authorization', `Bearer ${token}`);
    return body === undefined ? req : req.send(body as object);
  }) as ManagementCaller;
  call.token = token;
  return call;
}

/** A Gatehouse for one test file (started before its tests, closed after) and a caller of its Management API. */
export function managementTestbed(options: Parameters<typeof startGatehouse>[0] = {}) {
  let test: TestGatehouse;
  let caller: ManagementCaller;
  beforeAll(async () => {
    test = await startGatehouse(options);
    caller = await managementCaller(test);
  });
  afterAll(async () => {
    await test.close();
  });
  return {
    api: (...args: Parameters<ManagementCaller>) => caller(...args),
    get test() {
      return test;
    },
  };
}

/** Some scope other than the one an operation needs, so that the guard's 403 (not its 401) answers. */
export const otherScope = (needed: ManagementScope | readonly ManagementScope[]) => MANAGEMENT_API_SCOPES.find((scope) => ![needed].flat().includes(scope)) as string;

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
addFormats.default(ajv);

/** Checks a response body against the schema the OpenAPI document advertises (which refuses unknown fields). */
export function expectConforms(body: unknown, schema: SchemaObject): void {
  const validate = ajv.compile(schema);
  const valid = validate(body);
  expect(valid ? [] : validate.errors).toEqual([]);
}

/** Auth0's error body, with the status and error code expected and a message containing `text`. */
export function expectApiError(res: request.Response, statusCode: number, errorCode: string, text?: string | RegExp): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status: statusCode, body: { statusCode, errorCode } });
  expect(Object.keys(res.body).sort()).toEqual(['error', 'errorCode', 'message', 'statusCode']);
  if (text !== undefined) expect(res.body.message).toMatch(text);
}
