import { Ajv2020, type ErrorObject, type Options, type SchemaObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ApiError } from '../errors.ts';

/** All errors are collected so that the most telling one can be reported (bodies are small: BODY_LIMIT). */
const newAjv = (options: Options) => {
  const ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true, ...options });
  addFormats.default(ajv);
  return ajv;
};

/** Bodies are taken as sent; query strings arrive as text (and repeated parameters as arrays), so they are coerced. */
const bodies = newAjv({});
const queries = newAjv({ coerceTypes: 'array', useDefaults: true });

const jsonType = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value);
const preview = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
};

/** Auth0's wording: `'<what is wrong>' on property <dotted.path>`, naming the property at fault. */
export function describeValidationError(error: ErrorObject): string {
  const path = error.instancePath.split('/').slice(1).map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~')).join('.');
  const inside = (name: string) => [path, name].filter(Boolean).join('.');
  const key = error.propertyName === undefined ? '' : ` (key ${preview(error.propertyName)})`;
  const on = path ? ` on property ${path}${key}` : key;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': return `'Additional properties not allowed: ${inside(String(params.additionalProperty))}'`;
    case 'required': return `'Missing required property: ${inside(String(params.missingProperty))}'`;
    case 'type': return `'Expected type ${String(params.type)} but found type ${jsonType(error.data)}'${on}`;
    case 'enum': return `'No enum match for: ${preview(error.data)}'${on} (allowed: ${(params.allowedValues as unknown[]).join(', ')})`;
    case 'const': return `'No enum match for: ${preview(error.data)}'${on} (allowed: ${String(params.allowedValue)})`;
    default: return `'${error.message ?? 'Invalid value'}'${on}`;
  }
}

/** Compiles a schema once (ajv keeps what it compiled, per schema object) into a function that validates or throws. */
function validator<T>(ajv: Ajv2020, schema: SchemaObject, errorCode: string, prefix: string): (data: unknown) => T {
  const validate = ajv.compile(schema);
  return (data) => {
    if (validate(data)) return data as T;
    const errors = validate.errors ?? [];
    // A property that does not exist at all says more than a missing one (ajv checks `required` first).
    const telling = errors.find((error) => error.keyword === 'additionalProperties') ?? errors[0];
    throw new ApiError(400, errorCode, `${prefix}: ${telling ? describeValidationError(telling) : 'invalid'}`);
  };
}

export const bodyValidator = <T>(schema: SchemaObject) => validator<T>(bodies, schema, 'invalid_body', 'Payload validation error');

/** Validates a copy of the parsed query string, with defaults filled in (page, per_page, include_totals). */
export function queryValidator<T>(schema: SchemaObject): (query: Record<string, unknown>) => T {
  const validate = validator<Record<string, unknown>>(queries, schema, 'invalid_query_string', 'Query validation error');
  return (query) => {
    const data = validate({ ...query });
    // ajv coerces "1e400" to Infinity, then skips its range checks (they only apply to finite numbers).
    const infinite = Object.keys(data).find((name) => typeof data[name] === 'number' && !Number.isFinite(data[name]));
    if (infinite) throw new ApiError(400, 'invalid_query_string', `Query validation error: 'Expected a finite number' on property ${infinite}`);
    return data as T;
  };
}
