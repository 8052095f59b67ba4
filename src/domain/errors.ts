/**
 * A request that breaks a rule. The kind says how (the HTTP layer maps it to a status code); the error code and
 * message are what an Auth0 Management API client reads.
 */
export type RuleErrorKind = 'invalid' | 'not_found' | 'conflict' | 'not_supported';

export class RuleError extends Error {
  readonly kind: RuleErrorKind;
  readonly errorCode: string;
  constructor(kind: RuleErrorKind, errorCode: string, message: string) {
    super(message);
    this.kind = kind;
    this.errorCode = errorCode;
  }
}

export const invalidBody = (message: string) => new RuleError('invalid', 'invalid_body', message);

export const invalidQuery = (message: string) => new RuleError('invalid', 'invalid_query_string', `Query validation error: ${message}`);

export const notFound = (errorCode: string, message: string) => new RuleError('not_found', errorCode, message);

export const conflict = (message: string, errorCode = 'conflict') => new RuleError('conflict', errorCode, message);

/** Operations that are well-formed and authorized but that Gatehouse never performs, such as changing a system API. */
export const notSupported = (message: string) => new RuleError('not_supported', 'operation_not_supported', message);

