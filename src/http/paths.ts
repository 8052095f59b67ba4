/**
 * A request's path below the issuer in the form Express matches routes: case-insensitive, one slash at a time, no
 * trailing slash. `/OAUTH//Token/` is the token endpoint.
 */
export const normalPath = (path: string): string => path.toLowerCase().replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');

/** Whether a normal path is one of `prefixes` (a prefix ending in `/` also names the path without it) or below one. */
export const startsWithAny = (path: string, prefixes: readonly string[]): boolean =>
  prefixes.some((prefix) => path === prefix.replace(/\/$/, '') || path.startsWith(prefix));

/** The endpoints applications call: answered in JSON (RFC 6749 / 7591 errors), never a page a person sees. */
const APPLICATION_ENDPOINTS = ['/oauth/', '/userinfo', '/.well-known/', '/oidc/register'];

export const isApplicationEndpoint = (path: string): boolean => startsWithAny(normalPath(path), APPLICATION_ENDPOINTS);
