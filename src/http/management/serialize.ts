import { clientAuthenticationMethods } from '../../domain/client-id-metadata.ts';
import type { Application, Connection, ResourceServer, User, UserGrant } from '../../domain/model.ts';
import { identitiesOf } from '../../domain/upstream.ts';

/** What the Management API returns: stored entities minus the fields no API ever returns (hashes, internal ids). */

/**
 * An application as Auth0 shows it: no secret hash, and the keys of a `private_key_jwt` application as Auth0's
 * credentials (kid and alg), not the key set itself. The internal bookkeeping (registration fingerprint, when its
 * document is fetched again) stays inside.
 */
export function publicApplication(app: Application, secret?: string) {
  const { client_secret_hash: _hash, jwks, registration_fingerprint: _fingerprint, external_metadata_expires_at: _expiry, ...rest } = app;
  return {
    ...rest,
    ...(jwks ? { client_authentication_methods: clientAuthenticationMethods(jwks.keys, app.token_endpoint_auth_signing_alg) } : {}),
    ...(secret === undefined ? {} : { client_secret: secret }),
  };
}

/** An API in a list: without its signing secret, which only the API's own answers (create, get, update) carry. */
export function listedResourceServer(api: ResourceServer): Omit<ResourceServer, 'signing_secret'> {
  const { signing_secret: _secret, ...rest } = api;
  return rest;
}

/** Auth0 clients read the user's identity providers from `identities`. */
export function publicUser(user: User) {
  const { password_hash: _hash, ...rest } = user;
  return { ...rest, identities: identitiesOf(user) };
}

/** A connection's options without its secrets (a client secret is write-only). */
export function publicConnection(connection: Connection): Omit<Connection, 'secret_options'> {
  const { secret_options: _secrets, ...rest } = connection;
  return rest;
}

export function publicUserGrant(grant: UserGrant): Omit<UserGrant, 'oidc_grant_ids'> {
  const { oidc_grant_ids: _ids, ...rest } = grant;
  return rest;
}
