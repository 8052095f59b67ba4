/**
 * Every URL Gatehouse builds under its issuer. The issuer may end with `/` (Auth0's style, `https://tenant.example.com/`,
 * which Auth0's SDKs expect in the `iss` claim) or not; these are the one place that joins it to a path.
 */

/** A URL under the issuer: `issuerUrl('https://id.example.com/', 'oauth/token')` is `https://id.example.com/oauth/token`. */
export const issuerUrl = (issuer: string, path: string): string => `${issuer.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;

/** The issuer's path without a trailing slash (`''` at the root): where Gatehouse's own routes sit on the host. */
export const issuerBasePath = (issuer: string): string => new URL(issuer).pathname.replace(/\/+$/, '');
