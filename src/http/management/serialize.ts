import type { Application, ResourceServer, User, UserGrant } from '../../domain/model.ts';

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

/** Auth0 clients read the user's identity provider from `identities`. */
export function publicUser(user: User) {
  const { password_hash: _hash, ...rest } = user;
  const [, id = user.user_id] = user.user_id.split('|');
  return { ...rest, identities: [{ connection: user.connection, user_id: id, provider: 'auth0', isSocial: false }] };
}

export function publicUserGrant(grant: UserGrant): Omit<UserGrant, 'oidc_grant_ids'> {
  const { oidc_grant_ids: _ids, ...rest } = grant;
  return rest;
}
