import type { ErrorRequestHandler, Response } from 'express';
import { RuleError, type RuleErrorKind } from '../domain/errors.ts';

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

/** Auth0 answers an operation it does not perform (changing a system API, for one) with a 400, like a bad payload. */
const RULE_STATUS: Record<RuleErrorKind, number> = { invalid: 400, not_found: 404, conflict: 409, not_supported: 400 };

/**
 * Last handler of Auth0-shaped routers: known errors and broken rules keep their status, body-parser errors become
 * 4xx, the rest 500.
 */
export const apiErrorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (err instanceof ApiError) return sendApiError(res, err.statusCode, err.errorCode, err.message);
  if (err instanceof RuleError) return sendApiError(res, RULE_STATUS[err.kind], err.errorCode, err.message);
  const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : undefined;
  if (status) {
    const message = err.type === 'entity.parse.failed' ? 'Invalid request payload JSON format' : String(err.message ?? 'Bad request');
    return sendApiError(res, status, err.type === 'entity.too.large' ? 'payload_too_large' : 'invalid_body', message);
  }
  req.log?.error({ err }, 'unhandled error');
  return sendApiError(res, 500, 'internal_error', 'Internal error');
};
