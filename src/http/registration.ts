import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { Ajv, type ErrorObject } from 'ajv';
import { RegistrationError, registrationResponse, type RegistrationRequest } from '../domain/registration.ts';
import type { LimitResult } from '../services/rate-limits.ts';
import { recordRefusedRegistration, type Admission, type RegistrationService } from '../services/registration.ts';
import { unreadableBody } from './errors.ts';
import { NO_STORE } from './no-store.ts';

export interface RegistrationOptions {
  registration: RegistrationService;
  /** The client's address (src/http/client-address.ts), which registration limits count by. */
  clientAddress: (req: Request) => string;
}

const string = (maxLength: number) => ({ type: 'string', maxLength });
/** Types and sizes only: the rules (URLs, grant types…) live in src/domain/registration.ts. Unknown members are ignored. */
const requestSchema = {
  type: 'object',
  required: ['redirect_uris'],
  properties: {
    redirect_uris: { type: 'array', minItems: 1, maxItems: 20, items: string(2000) },
    client_name: string(128),
    token_endpoint_auth_method: string(64),
    grant_types: { type: 'array', maxItems: 20, items: string(256) },
    response_types: { type: 'array', maxItems: 10, items: string(64) },
    application_type: { type: 'string', enum: ['web', 'native'] },
    logo_uri: string(2000),
    client_uri: string(2000),
    policy_uri: string(2000),
    tos_uri: string(2000),
    contacts: { type: 'array', maxItems: 10, items: string(320) },
    software_id: string(256),
    software_version: string(64),
    scope: string(2000),
  },
};
export const validateRequest = new Ajv({ allErrors: false }).compile<RegistrationRequest>(requestSchema);

export function describe(error: ErrorObject | undefined): { error: 'invalid_redirect_uri' | 'invalid_client_metadata'; description: string } {
  const field = error?.instancePath.split('/')[1] ?? (error?.params as { missingProperty?: string } | undefined)?.missingProperty ?? 'body';
  const where = error?.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : field;
  const message = error?.keyword === 'required' ? 'is required' : error?.keyword === 'minItems' ? 'must not be empty' : error?.message ?? 'is invalid';
  return { error: field === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata', description: `${where} ${message}` };
}

const oauthError = (res: Response, status: number, error: string, description: string) =>
  void res.status(status).set('Cache-Control', 'no-store').json({ error, error_description: description });

function rateLimitHeaders(res: Response, result: LimitResult): void {
  res.set({ 'RateLimit-Limit': String(result.limit), 'RateLimit-Remaining': String(result.remaining), 'RateLimit-Reset': String(result.resetSeconds) });
  if (!result.allowed) res.set('Retry-After', String(result.resetSeconds));
}

/** Browser-based clients (SPAs, MCP inspectors) register from other origins; registration carries no credentials. */
const openCors: RequestHandler = (req, res, next) => {
  res.set({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'POST, OPTIONS', 'Access-Control-Allow-Headers': 'Content-Type, Authorization', 'Access-Control-Max-Age': '600' });
  if (req.method === 'OPTIONS') return void res.sendStatus(204);
  return next();
};

/** RFC 7591 open registration at /oidc/register; every application it creates is a third-party one. */
export function registrationRouter({ registration, clientAddress }: RegistrationOptions): Router {
  const router = Router();
  router.use(openCors);

  router.post('/', async (req, res, next) => {
    const admission = await registration.admit({ ip: clientAddress(req) });
    if (admission.limit) rateLimitHeaders(res, admission.limit);
    if (admission.refusal) return oauthError(res, admission.refusal.status, admission.refusal.error, admission.refusal.description);
    res.locals.admission = admission;
    return next();
  }, express.json({ limit: '32kb', type: () => true }), async (req, res) => {
    if (!validateRequest(req.body)) {
      const problem = describe(validateRequest.errors?.[0]);
      recordRefusedRegistration('invalid_metadata', problem.description, { error: problem.error });
      return oauthError(res, 400, problem.error, problem.description);
    }
    try {
      const outcome = await registration.register(req.body, { ip: clientAddress(req) }, res.locals.admission as Admission);
      if ('refusal' in outcome) {
        if (outcome.refusal.reason === 'rate_limited') res.set('Retry-After', String(outcome.refusal.limit.resetSeconds));
        return oauthError(res, outcome.refusal.status, outcome.refusal.error, outcome.refusal.description);
      }
      // The same public client registered again gets its application back, as a registration (RFC 7591 §3.2.1).
      return void res.status(201).set(NO_STORE).json(registrationResponse(outcome.application, outcome.secret));
    } catch (err) {
      if (err instanceof RegistrationError) return oauthError(res, 400, err.error, err.message);
      throw err;
    }
  });

  const errors: ErrorRequestHandler = (err, req, res, _next) => {
    if (err?.type === 'entity.parse.failed') return oauthError(res, 400, 'invalid_client_metadata', 'the body must be a JSON object of client metadata');
    if (err?.type === 'entity.too.large') return oauthError(res, 413, 'invalid_client_metadata', 'the client metadata is too large');
    const unreadable = unreadableBody(err);
    if (unreadable) return oauthError(res, unreadable.status, 'invalid_request', unreadable.description);
    req.log?.error({ err }, 'registration failed');
    return oauthError(res, 500, 'server_error', 'the registration could not be completed');
  };
  router.use(errors);
  return router;
}
