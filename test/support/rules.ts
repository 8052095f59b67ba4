import { RuleError } from '../../src/domain/errors.ts';

/** The rule a call breaks, as `kind: errorCode: message`, or 'ok'; any other error is a bug and is rethrown. */
export function outcome(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (err instanceof RuleError) return `${err.kind}: ${err.errorCode}: ${err.message}`;
    throw err;
  }
}
