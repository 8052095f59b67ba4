import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../../src/http/errors.ts';
import { object } from '../../src/http/management/schemas.ts';
import { emailFromSearch } from '../../src/http/management/users.ts';
import { bodyValidator, queryValidator } from '../../src/http/management/validation.ts';

const schema = object({
  name: { type: 'string', minLength: 1 },
  app_type: { type: 'string', enum: ['spa', 'native'] },
  jwt_configuration: object({ alg: { type: 'string', enum: ['RS256'] } }),
  callbacks: { type: 'array', items: { type: 'string', maxLength: 5 } },
  page: { type: 'integer', minimum: 0, default: 0 },
  ids: { type: 'array', items: { type: 'string' } },
  on: { type: 'boolean', const: true },
  metadata: { type: 'object', propertyNames: { pattern: '^[a-z]+$' } },
}, ['name']);

const validateBody = bodyValidator(schema);
const validateQuery = queryValidator(schema);

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof ApiError) return `${err.statusCode} ${err.errorCode}: ${err.message}`;
    throw err;
  }
  return 'valid';
}

describe('request validation messages (Auth0 wording, naming the property)', () => {
  it.each<[unknown, string]>([
    [{ name: 'x' }, 'valid'],
    [{}, "400 invalid_body: Payload validation error: 'Missing required property: name'"],
    [{ name: 'x', extra: 1 }, "400 invalid_body: Payload validation error: 'Additional properties not allowed: extra'"],
    [{ extra: 1 }, "400 invalid_body: Payload validation error: 'Additional properties not allowed: extra'"],
    [{ name: 'x', jwt_configuration: { scopes: [] } }, "400 invalid_body: Payload validation error: 'Additional properties not allowed: jwt_configuration.scopes'"],
    [{ name: 1 }, "400 invalid_body: Payload validation error: 'Expected type string but found type integer' on property name"],
    [{ name: null }, "400 invalid_body: Payload validation error: 'Expected type string but found type null' on property name"],
    [[], "400 invalid_body: Payload validation error: 'Expected type object but found type array'"],
    [{ name: 'x', app_type: 'web' }, "400 invalid_body: Payload validation error: 'No enum match for: \"web\"' on property app_type (allowed: spa, native)"],
    [{ name: 'x', jwt_configuration: { alg: 'HS256' } }, "400 invalid_body: Payload validation error: 'No enum match for: \"HS256\"' on property jwt_configuration.alg (allowed: RS256)"],
    [{ name: 'x', on: false }, "400 invalid_body: Payload validation error: 'No enum match for: false' on property on (allowed: true)"],
    [{ name: 'x', metadata: { 'a b': 1 } }, "400 invalid_body: Payload validation error: 'must match pattern \"^[a-z]+$\"' on property metadata (key \"a b\")"],
    [{ name: 'x', callbacks: ['toolong'] }, "400 invalid_body: Payload validation error: 'must NOT have more than 5 characters' on property callbacks.0"],
    [{ name: 'x', app_type: 'x'.repeat(500) }, `400 invalid_body: Payload validation error: 'No enum match for: "${'x'.repeat(99)}…' on property app_type (allowed: spa, native)`],
  ])('body %j → %s', (body, expected) => {
    expect(messageOf(() => validateBody(body))).toBe(expected);
  });

  it('coerces query strings, fills defaults and leaves the parsed query untouched', () => {
    const parsed = { name: 'x', ids: 'one' };
    expect(validateQuery(parsed)).toEqual({ name: 'x', ids: ['one'], page: 0 });
    expect(parsed).toEqual({ name: 'x', ids: 'one' });
    expect(validateQuery({ name: 'x', page: '3', on: 'true' })).toEqual({ name: 'x', page: 3, on: true });
    expect(messageOf(() => validateQuery({ name: 'x', page: ['1', '2'] }))).toBe("400 invalid_query_string: Query validation error: 'Expected type integer but found type array' on property page");
    expect(messageOf(() => validateQuery({ name: 'x', page: '1e400' }))).toBe("400 invalid_query_string: Query validation error: 'Expected a finite number' on property page");
    expect(messageOf(() => validateQuery({ name: 'x', fields: 'a' }))).toBe("400 invalid_query_string: Query validation error: 'Additional properties not allowed: fields'");
  });
});

describe('emailFromSearch', () => {
  it.each([
    ['email:"jane@example.com"', 'jane@example.com'],
    ['email:jane@example.com', 'jane@example.com'],
    ['  email:"Jane@Example.com" ', 'Jane@Example.com'],
  ])('%s → %s', (q, email) => {
    expect(emailFromSearch(q)).toBe(email);
  });

  it.each(['name:"jane"', 'email:"a" OR email:"b"', 'jane@example.com', 'email:""'])('refuses %s', (q) => {
    expect(messageOf(() => emailFromSearch(q))).toMatch(/^400 invalid_query_string: Query validation error: q supports only an email search/);
  });
});
