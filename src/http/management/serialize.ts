import type { Application, Connection, ResourceServer, User, UserGrant } from '../../domain/model.ts';
import { identitiesOf } from '../../domain/upstream.ts';

/** What the Management API returns: stored entities minus the fields no API ever returns (hashes, internal ids). */

export function publicApplication(app: Application, secret?: string): Omit<Application, 'client_secret_hash'> & { client_secret?: string } {
  const { client_secret_hash: _hash, ...rest } = app;
  return secret === undefined ? rest : { ...rest, client_secret: secret };
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
