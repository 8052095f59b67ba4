import type { SchemaObject } from 'ajv';
import { MANAGEMENT_API_SCOPES, managementAudience } from '../../domain/system-api.ts';
import type { Operation } from './operation.ts';
import { errorResponse } from './schemas.ts';
import { issuerUrl } from '../../domain/issuer.ts';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request body or query string, or a rule refused the request',
  401: 'Missing, invalid or expired token',
  403: 'The token lacks the scope this operation requires',
  429: 'The calling application passed its rate limit (see Retry-After and X-RateLimit-*)',
  404: 'Not found',
  409: 'Conflicts with an existing entity',
  503: 'A service Gatehouse depends on (the SMTP relay) did not answer; try again later',
};

const errorRef = (status: number) => ({ description: ERROR_DESCRIPTIONS[status], content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

function parametersOf(operation: Operation) {
  const path = [...operation.path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  const query = Object.entries((operation.query?.properties ?? {}) as Record<string, SchemaObject>).map(([name, schema]) => ({
    name,
    in: 'query',
    required: ((operation.query?.required ?? []) as string[]).includes(name),
    schema,
    ...(schema.type === 'array' ? { style: 'form', explode: true } : {}),
  }));
  return [...path, ...query];
}

function describe(operation: Operation) {
  const { response } = operation;
  return {
    tags: [operation.tag],
    summary: operation.summary,
    operationId: `${operation.method}${operation.path.replace(/[/:-](\w)/g, (_match, c: string) => c.toUpperCase())}`,
    parameters: parametersOf(operation),
    ...(operation.body ? { requestBody: { required: true, content: { 'application/json': { schema: operation.body } } } } : {}),
    responses: {
      [response.status]: {
        description: response.description,
        ...(response.schema ? { content: { 'application/json': { schema: response.schema } } } : {}),
      },
      ...Object.fromEntries([400, 401, 403, 429, ...operation.errors].map((status) => [status, errorRef(status)])),
    },
    security: [operation.scope].flat().map((scope) => ({ managementApi: [scope] })),
  };
}

/** The OpenAPI 3.1 description of the Management API, generated from the operations and the schemas they validate with. */
export function openApiDocument(operations: readonly Operation[], issuer: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const path = `/api/v2${operation.path.replace(/:(\w+)/g, '{$1}')}`;
    (paths[path] ??= {})[operation.method] = describe(operation);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse Management API',
      version: '2',
      description: `Auth0-compatible Management API. Call it with an access token for the audience ${managementAudience(issuer)}; each operation needs one scope (or one of those it lists).`,
    },
    servers: [{ url: issuer }],
    paths,
    components: {
      schemas: { Error: errorResponse },
      securitySchemes: {
        managementApi: {
          type: 'oauth2',
          description: `Client credentials for the audience ${managementAudience(issuer)}; operators get theirs, bounded by their role, through the console (/console).`,
          flows: { clientCredentials: { tokenUrl: issuerUrl(issuer, 'oauth/token'), scopes: Object.fromEntries(MANAGEMENT_API_SCOPES.map((scope) => [scope, scope])) } },
        },
      },
    },
  };
}
