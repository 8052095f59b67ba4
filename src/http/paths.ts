/** Anything normalPath would change: an upper-case letter, a doubled slash, a trailing slash. */
const NOT_NORMAL = /[A-Z]|\/\/|.\/$/;

/**
 * A request's path below the issuer in the form Express matches routes: case-insensitive, one slash at a time, no
 * trailing slash. `/OAUTH//Token/` is the token endpoint. (Asked several times per request: a normal path is returned
 * as it is.)
 */
export const normalPath = (path: string): string =>
  (NOT_NORMAL.test(path) ? path.toLowerCase().replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1') : path);

/**
 * Whether a normal path is one of `prefixes` (a prefix ending in `/` also names the path without it) or below one;
 * the prefixes are prepared once.
 */
export function pathPrefixes(prefixes: readonly string[]): (path: string) => boolean {
  const exact = new Set(prefixes.map((prefix) => prefix.replace(/\/$/, '')));
  return (path) => exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix));
}

/** The endpoints applications call: answered in JSON (RFC 6749 / 7591 errors), never a page a person sees. */
const isApplicationPath = pathPrefixes(['/oauth/', '/userinfo', '/.well-known/', '/oidc/register']);

export const isApplicationEndpoint = (path: string): boolean => isApplicationPath(normalPath(path));
