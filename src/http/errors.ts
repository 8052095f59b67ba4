import type { ErrorRequestHandler, Response } from 'express';
import { RuleError, type RuleErrorKind } from '../domain/errors.ts';
import { StoreUnavailableError } from '../store/index.ts';
import { authChallenge } from './www-authenticate.ts';

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** An error with Auth0's Management API body: `{statusCode, error, message, errorCode}`. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly errorCode: string;
  constructor(statusCode: number, errorCode: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.errorCode = errorCode;
  }
}

export function sendApiError(res: Response, statusCode: number, errorCode: string, message: string): void {
  res.locals.apiError = { errorCode, message }; // for the `fapi` event of a failed write (src/http/management/index.ts)
  res.status(statusCode).json({ statusCode, error: REASONS[statusCode] ?? 'Error', message, errorCode });
}

/**
 * The store outage behind an error: the error itself, or the cause of oidc-provider's `temporarily_unavailable`
 * (src/oidc/provider.ts). Every edge answers it with 503 and Retry-After in its own format.
 */
export function storeOutage(err: unknown): StoreUnavailableError | undefined {
  for (let cause = err; cause instanceof Error; cause = cause.cause) if (cause instanceof StoreUnavailableError) return cause;
  return undefined;
}

/** A client error raised by Express or body-parser (malformed, oversized or undecodable body…): its 4xx status. */
export const clientErrorStatus = (err: unknown): number | undefined => {
  const status = (err as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
};

/**
 * Why Express's body parsers refused a body, in words for the caller: a charset other than UTF-8 or a Content-Encoding
 * they cannot undo is a 415, a body that does not match its Content-Encoding a 400. Undefined for anything else.
 */
export function unreadableBody(err: unknown): { status: number; description: string } | undefined {
  const status = clientErrorStatus(err);
  if (!status) return undefined;
  const { type, charset, encoding } = err as { type?: string; charset?: string; encoding?: string };
  switch (type) {
    case 'charset.unsupported': return { status, description: `the charset "${charset}" is not supported: send the body in UTF-8` };
    case 'encoding.unsupported': return { status, description: `the Content-Encoding "${encoding}" is not supported: send the body unencoded, or with gzip, deflate or br` };
    case 'entity.too.large': return { status, description: 'the body is too large' };
    case 'entity.parse.failed': return { status, description: 'the body does not parse as its Content-Type says' };
    default: return { status, description: 'the body could not be read: check that it matches its Content-Type and Content-Encoding' };
  }
}

/** The RFC 6750 §3.1 error code behind each of the guard's refusals; a request without a token gets none. */
const BEARER_ERRORS = { missing_token: undefined, invalid_token: 'invalid_token', token_expired: 'invalid_token', insufficient_scope: 'insufficient_scope' } as const;

/**
 * A refusal by the Management API's guard: Auth0's body, and the RFC 6750 challenge that says what was wrong with the
 * token (`scope` names the scope needed).
 */
export function sendBearerError(res: Response, statusCode: 401 | 403, errorCode: keyof typeof BEARER_ERRORS, message: string, scope?: string): void {
  const error = BEARER_ERRORS[errorCode];
  res.set('WWW-Authenticate', authChallenge('Bearer', { error, error_description: error && message, scope }));
  sendApiError(res, statusCode, errorCode, message);
}

/** Auth0 answers an operation it does not perform (changing a system API, for one) with a 400, like a bad payload. */
const RULE_STATUS: Record<RuleErrorKind, number> = { invalid: 400, not_found: 404, conflict: 409, not_supported: 400 };

/**
 * Last handler of Auth0-shaped routers: known errors and broken rules keep their status, body-parser errors become
 * 4xx, the rest 500.
 */
export const apiErrorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (err instanceof ApiError) return sendApiError(res, err.statusCode, err.errorCode, err.message);
  if (err instanceof RuleError) return sendApiError(res, RULE_STATUS[err.kind], err.errorCode, err.message);
  const outage = storeOutage(err);
  if (outage) {
    res.set('Retry-After', String(outage.retryAfterSeconds));
    return sendApiError(res, 503, 'temporarily_unavailable', 'A store this request needs is unavailable; try again shortly');
  }
  const status = clientErrorStatus(err);
  if (status) {
    const message = err.type === 'entity.parse.failed' ? 'Invalid request payload JSON format' : String(err.message ?? 'Bad request');
    return sendApiError(res, status, err.type === 'entity.too.large' ? 'payload_too_large' : 'invalid_body', message);
  }
  req.log?.error({ err }, 'unhandled error');
  return sendApiError(res, 500, 'internal_error', 'Internal error');
};
