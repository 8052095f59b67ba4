import { AsyncLocalStorage } from 'node:async_hooks';
import express, { Router, type Request, type RequestHandler } from 'express';
import { pino } from 'pino';
import type { GatehouseConfig } from '../../config/schema.ts';
import type { KeyMaterial } from '../../domain/model.ts';
import type { SignalAvailability } from '../../domain/network-acl-rules.ts';
import { outboundExemptions } from '../../domain/outbound-addresses.ts';
import { managementAccess } from '../../services/access.ts';
import { storeLookup, type ApplicationDirectory } from '../../services/application-directory.ts';
import { clientMetadataDocuments, type ClientMetadataDocuments } from '../../services/client-metadata-documents.ts';
import { accountService, type AccountService } from '../../services/accounts.ts';
import { recordEvent, recordEventOnce } from '../../services/audit.ts';
import { selfRegistrationBudgets } from '../../services/self-registration.ts';
import { createLoginLockout, type LoginLockout } from '../../services/sign-in.ts';
import { createLimiter } from '../../services/rate-limits.ts';
import type { Stores } from '../../store/index.ts';
import { apiErrorHandler, sendApiError } from '../errors.ts';
import { managementAuthentication, requireScope } from '../guard.ts';
import { NO_STORE } from '../no-store.ts';
import { clientActivityOperations } from './client-activity.ts';
import { clientGrantOperations } from './client-grants.ts';
import { clientOperations } from './clients.ts';
import { connectionOperations } from './connections.ts';
import { grantOperations } from './grants.ts';
import { logStreamOperations } from './log-streams.ts';
import { logOperations } from './logs.ts';
import { networkAclOperations } from './network-acls.ts';
import { openApiDocument } from './openapi.ts';
import { operatorOperations } from './operators.ts';
import type { Operation } from './operation.ts';
import { resourceServerOperations } from './resource-servers.ts';
import { tenantSettingsOperations } from './tenant-settings.ts';
import { userBlockOperations } from './user-blocks.ts';
import { ticketOperations } from './tickets.ts';
import { userOperations } from './users.ts';
import { bodyValidator, queryValidator } from './validation.ts';

/** Auth0 caps Management API bodies well below this; ours are small JSON documents. */
const BODY_LIMIT = '64kb';
const EMPTY_QUERY = { type: 'object', additionalProperties: false } as const;

export interface ManagementDeps {
  issuer: string;
  /** The key material as this process uses it now. */
  keys: () => KeyMaterial;
  stores: Stores;
  directory: ApplicationDirectory;
  documents: ClientMetadataDocuments;
  /** The sign-in lockout that user blocks read and lift. */
  lockout: LoginLockout;
  /** Requests per second one calling application may make (Auth0 limits the Management API per tenant and client). */
  rateLimitPerSecond: number;
  /** Which network ACL signals this deployment can observe (src/http/request-signals.ts). */
  aclSignals: SignalAvailability;
  /** The client's address (src/http/client-address.ts). */
  clientAddress: (req: Request) => string;
  /** Tickets and verification emails (src/services/accounts.ts). */
  accounts: AccountService;
}

/**
 * Per caller (an application, or an operator through the console), shared through Redis when configured; answered
 * like Auth0 (429 and X-RateLimit-*).
 */
function managementRateLimit(stores: Stores, perSecond: number, clientAddress: (req: Request) => string): RequestHandler {
  const limiter = createLimiter(stores.redis, 'mgmt', perSecond, 1);
  return async (req, res, next) => {
    const result = await limiter(req.management ? `${req.management.actor.type}:${req.management.actor.id}` : clientAddress(req));
    res.set({
      'X-RateLimit-Limit': String(result.limit), 'X-RateLimit-Remaining': String(result.remaining),
      'X-RateLimit-Reset': String(Math.floor(Date.now() / 1000) + result.resetSeconds),
    });
    if (result.allowed) return next();
    const caller = req.management?.clientId;
    recordEventOnce(`api_limit:management:${caller}`, result.resetSeconds * 1000, 'api_limit', { client_id: caller, details: { limit: 'management', per_second: perSecond } });
    res.set('Retry-After', String(result.resetSeconds));
    return sendApiError(res, 429, 'too_many_requests', 'Global limit has been reached');
  };
}

export const managementOperations = (
  stores: Stores, lockout: LoginLockout, aclSignals: SignalAvailability, accounts: AccountService, documents: ClientMetadataDocuments,
): Operation[] => [
  ...clientOperations(stores, documents),
  ...resourceServerOperations(stores),
  ...clientGrantOperations(stores),
  ...connectionOperations(stores, accounts.issuer),
  ...userOperations(stores),
  ...ticketOperations(accounts),
  ...userBlockOperations(stores, lockout),
  ...grantOperations(stores),
  ...tenantSettingsOperations(stores),
  ...networkAclOperations(stores, aclSignals),
  ...logOperations(stores, accounts.issuer),
  ...logStreamOperations(stores),
  ...clientActivityOperations(stores),
  ...operatorOperations(stores, accounts.issuer),
];

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every write (POST, PUT, PATCH, DELETE), once answered, is a tenant log event: `sapi`, or `fapi` with the error,
 * naming the application that called and, for an operator's token (the console's), the operator. Neither body is
 * recorded (they may carry secrets and passwords).
 */
const auditWrites: RequestHandler = (req, res, next) => {
  if (READS.has(req.method)) return next();
  const inRequest = AsyncLocalStorage.snapshot(); // 'finish' fires outside the request's context
  res.once('finish', () => inRequest(() => recordEvent(res.statusCode < 400 ? 'sapi' : 'fapi', {
    client_id: req.management?.clientId,
    user_id: req.management?.actor.type === 'user' ? req.management.actor.id : undefined,
    description: res.locals.operation ?? `${req.method} ${req.originalUrl.split('?')[0]}`,
    details: {
      request: { method: req.method, path: req.originalUrl.split('?')[0], query: req.query },
      response: { statusCode: res.statusCode, ...(res.locals.apiError ? res.locals.apiError : {}) },
    },
  })));
  return next();
};

/** Scope first, then the body is parsed and validated: a caller without the scope learns nothing about the payload. */
function route(operation: Operation): RequestHandler[] {
  const validateQuery = queryValidator(operation.query ?? EMPTY_QUERY);
  const validateBody = operation.body ? bodyValidator(operation.body) : undefined;
  const handle: RequestHandler = async (req, res) => {
    const query = validateQuery(req.query as Record<string, unknown>);
    const body = validateBody?.(req.body ?? {});
    const result = await operation.handle({
      params: { id: typeof req.params.id === 'string' ? req.params.id : '' }, query, body, scopes: req.management?.scopes ?? new Set(), actor: req.management!.actor,
    });
    if (result.headers) res.set(result.headers);
    if (result.secret) res.set(NO_STORE);
    if (result.body === undefined) res.status(result.status).end();
    else res.status(result.status).json(result.body);
  };
  const parse = operation.body ? [express.json({ limit: BODY_LIMIT })] : [];
  const describe: RequestHandler = (_req, res, next) => {
    res.locals.operation = operation.summary;
    next();
  };
  return [describe, requireScope(operation.scope), ...parse, handle];
}

/**
 * The Management API at /api/v2: the OpenAPI document is public, everything else needs a Management API token with
 * the operation's scope. Errors have Auth0's shape.
 */
export function managementRouter(deps: ManagementDeps): Router {
  const operations = managementOperations(deps.stores, deps.lockout, deps.aclSignals, deps.accounts, deps.documents);
  const document = openApiDocument(operations, deps.issuer);
  const router = Router();
  router.get('/openapi.json', (_req, res) => void res.json(document));
  router.use(auditWrites);
  router.use(managementAuthentication(deps.issuer, deps.keys, managementAccess(deps.stores.durable, deps.directory)), managementRateLimit(deps.stores, deps.rateLimitPerSecond, deps.clientAddress));
  for (const operation of operations) router[operation.method](operation.path, ...route(operation));
  router.use((req, res) => sendApiError(res, 404, 'not_found', `No Management API endpoint for ${req.method} ${req.baseUrl}${req.path}`));
  router.use(apiErrorHandler);
  return router;
}

/**
 * The operations as the OpenAPI document describes them, built without a running Gatehouse: their services are wired
 * to `stores` but never called (the types generator, scripts/openapi-types.ts, and the generated API checks use it).
 */
export function describedManagementOperations(stores: Stores, config: Pick<GatehouseConfig, 'issuer' | 'login' | 'registration'>): Operation[] {
  const lockout = createLoginLockout(undefined, config.login);
  const accounts = accountService({ stores, issuer: config.issuer, mailer: { send: () => Promise.reject(new Error('never sent')) }, templatesDir: '.', lockout });
  const documents = clientMetadataDocuments({
    store: stores.durable, lookup: storeLookup(stores.durable), budgets: selfRegistrationBudgets(undefined, config.registration),
    exemptions: outboundExemptions([]), logger: pino({ level: 'silent' }),
  });
  return managementOperations(stores, lockout, { missing: () => undefined }, accounts, documents);
}
