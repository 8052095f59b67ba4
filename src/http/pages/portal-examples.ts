import { createHash, randomBytes } from 'node:crypto';
import { isConfidential } from '../../domain/applications.ts';
import type { Application } from '../../domain/model.ts';
import type { CatalogueEntry } from '../../services/api-catalogue.ts';
import { issuerUrl } from '../../domain/issuer.ts';

/** A single-quoted shell word: what a developer pastes runs as shown, whatever the URI holds. */
const shellWord = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** Every value but the redirect URI is URL-safe (ids, base64url secrets, codes and tokens), so only it is encoded. */
const curl = (issuer: string, fields: [name: string, value: string][]) =>
  [`curl -s ${shellWord(issuerUrl(issuer, 'oauth/token'))}`, ...fields.map(([name, value]) => `${name === 'redirect_uri' ? '--data-urlencode' : '-d'} ${name}=${value}`)].join(' \\\n  ');

/**
 * A ready first sign-in for a newly registered application: the authorization URL for one API of the catalogue with a
 * PKCE S256 pair made for this example (pasting the URL and then the token request works as is), and the token
 * requests. The secret stays a shell variable: it is shown once on the page, never repeated in commands.
 */
export function firstSignInExample(issuer: string, app: Application, entry: CatalogueEntry) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirectUri = app.callbacks[0] as string;
  const scope = [...entry.scopes.map((s) => s.value), ...(entry.offlineAccess ? ['offline_access'] : [])].join(' ');
  const query = new URLSearchParams({
    response_type: 'code', client_id: app.client_id, redirect_uri: redirectUri, scope, resource: entry.api.identifier,
    state: randomBytes(12).toString('base64url'), code_challenge: challenge, code_challenge_method: 'S256',
  });
  const client: [string, string][] = [['client_id', app.client_id], ...(isConfidential(app) ? [['client_secret', '"$CLIENT_SECRET"'] as [string, string]] : [])];
  return {
    api: entry.api,
    scope,
    verifier,
    challenge,
    authorizeUrl: `${issuerUrl(issuer, 'authorize')}?${query}`,
    tokenRequest: curl(issuer, [['grant_type', 'authorization_code'], ...client, ['code', '"$CODE"'], ['redirect_uri', shellWord(redirectUri)], ['code_verifier', verifier]]),
    refreshRequest: entry.offlineAccess ? curl(issuer, [['grant_type', 'refresh_token'], ...client, ['refresh_token', '"$REFRESH_TOKEN"']]) : undefined,
  };
}
