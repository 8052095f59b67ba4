import { tokenGrantStands } from '../domain/access-tokens.ts';
import type { Stores } from '../store/index.ts';
import { decideAccess, findApiByIdentifier } from './access.ts';
import { applicationDirectory, storeLookup, type ApplicationDirectory } from './application-directory.ts';

/** Who and what an access token was issued for, read from its claims. */
export interface IssuedTokenSubject {
  clientId: string;
  /** The API the token is for (its first audience). */
  audience: string;
  /** The user, for user-delegated tokens; none for client credentials. */
  userId?: string | undefined;
  /** The protocol grant the token was issued under (user-delegated tokens). */
  grantId?: string | undefined;
}

/**
 * "Is this token's grant still valid?", asked of the store: the one question behind introspection of JWT access
 * tokens and /userinfo with them (and, later, revocation at resource servers). The rule is `tokenGrantStands`.
 */
export async function tokenGrantIsValid(
  stores: Stores, token: IssuedTokenSubject, directory: ApplicationDirectory = applicationDirectory({ lookup: storeLookup(stores.durable) }),
): Promise<boolean> {
  const { durable } = stores;
  const [application, api, user, grant] = await Promise.all([
    directory.resolve(token.clientId).then((entry) => entry?.application),
    findApiByIdentifier(durable, token.audience),
    token.userId === undefined ? undefined : durable.users.get(token.userId),
    token.userId === undefined || token.grantId === undefined ? undefined : stores.oidcAdapter('Grant').find(token.grantId).then((grant) => grant || undefined),
  ]);
  const apiAccessAllowed = Boolean(application && api && (await decideAccess(durable, application, api, token.userId === undefined ? 'client' : 'user')).allowed);
  return tokenGrantStands(token, { application, apiAccessAllowed, user, grant }, Math.floor(Date.now() / 1000));
}
