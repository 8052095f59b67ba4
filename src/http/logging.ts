import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { pino, type DestinationStream, type Logger } from 'pino';

declare module 'node:http' {
  interface IncomingMessage {
    /** The process logger bound to this request's id (src/http/logging.ts), for handlers that have something to say. */
    log: Logger;
  }
}

/** Paths that may carry credentials anywhere in a log line; pino replaces their values. */
const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  '*.client_secret', '*.signing_secret', '*.password', '*.access_token', '*.refresh_token', '*.id_token', '*.code_verifier',
];

/** The process logger: JSON lines on stdout (or `destination`), credentials redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The logger for lines made only of fields picked one by one (strings, numbers, ids), never of objects passed whole:
 * the same destination without the redaction pass, which costs more than writing the rest of the line.
 */
export const pickedFieldsLogger = (logger: Logger): Logger => logger.child({}, { redact: [] });

const REQUEST_ID = /^[\w.-]{1,128}$/;

/** A request's id and the logger `req.log` binds to it when first asked. */
interface RequestLog {
  id: string;
  logger: Logger;
  bound?: Logger;
}
const REQUEST_LOG = Symbol('request log');
type LoggedRequest = IncomingMessage & { [REQUEST_LOG]: RequestLog };

/**
 * `req.log`, one getter shared by every request: a getter made per request would give each request object a shape of
 * its own (V8 turns it into a dictionary), and every later property read on it, in Express, our middleware and
 * oidc-provider, would take the slow path.
 */
function boundLogger(this: LoggedRequest): Logger {
  const state = this[REQUEST_LOG];
  return (state.bound ??= state.logger.child({ reqId: state.id }));
}

/**
 * One log line per request once it is answered (or the client went away), with a request id (the caller's
 * X-Request-Id when it is well-formed, else a new one, echoed back) and the path without its query string. The line
 * holds only the fields picked here, never headers or bodies, so it is written by a child logger without the redaction
 * pass (two thirds of what logging cost the token endpoint); `req.log`, which handlers use for errors and objects they
 * do not pick apart, keeps it, and is only made when a handler logs.
 */
export function requestLogging(logger: Logger): RequestHandler {
  const lines = pickedFieldsLogger(logger);
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', id);
    const started = performance.now();
    (req as unknown as LoggedRequest)[REQUEST_LOG] = { id, logger };
    Object.defineProperty(req, 'log', { configurable: true, get: boundLogger });
    const answered = () => {
      res.off('finish', answered);
      res.off('close', answered);
      const status = res.statusCode;
      // A 503 is a dependency that is away (told once, when it goes): a warning, not one error per request.
      const level = status === 503 ? 'warn' : status >= 500 ? 'error' : 'info';
      lines[level]({
        reqId: id,
        req: { method: req.method, path: req.originalUrl.split('?')[0], remoteAddress: req.socket.remoteAddress },
        res: { statusCode: status },
        responseTime: Math.round(performance.now() - started),
      }, res.writableFinished ? 'request completed' : 'request aborted');
    };
    res.on('finish', answered);
    res.on('close', answered);
    next();
  };
}
