import { invalidBody, RuleError } from '../domain/errors.ts';
import { isUpstream } from '../domain/upstream.ts';
import { passwordCheck, weakPassword } from '../domain/password-policy.ts';
import { checkNotOperatorAccount } from '../domain/operators.ts';
import { newHexId } from '../domain/ids.ts';
import type { User } from '../domain/model.ts';
import { draftUser, normalizeEmail, patchUser, type UserCreate, type UserPatch } from '../domain/user-rules.ts';
import type { DurableStore, Stores } from '../store/index.ts';
import { recordEvent } from './audit.ts';
import { editEntity, findPage, getOrThrow, missing, now, writeUnique, type Page, type PageRequest } from './entities.ts';
import { revokeOidcGrants } from './grants.ts';
import { hashPassword } from './passwords.ts';
import { recordRevocations } from './revocations.ts';

/** Auth0's answer to a second user with the same email in one connection. */
const USER_EXISTS = ['The user already exists.', 'auth0_idp_error'] as const;

const noSuchUser = (userId: string) => missing('inexistent_user', `The user ${userId} does not exist`);

export const findUser = (store: DurableStore, userId: string) => getOrThrow(store.users, userId, noSuchUser(userId));

export async function createUser(store: DurableStore, input: UserCreate): Promise<User> {
  checkNotOperatorAccount(input.connection);
  const [connection] = await store.connections.find({ name: input.connection }, { limit: 1 });
  if (!connection) throw new RuleError('invalid', 'inexistent_connection', `The connection ${input.connection} does not exist`);
  if (isUpstream(connection)) throw invalidBody(`The connection ${connection.name} is a ${connection.strategy} connection: its users are created when they first sign in there`);
  const problems = passwordCheck(connection, input.password);
  if (problems.length) throw weakPassword(problems);
  const user = draftUser(input, `auth0|${newHexId()}`, await hashPassword(input.password), now());
  await writeUnique(() => store.users.insert(user), ...USER_EXISTS);
  return user;
}

/** A new password must suit the user's connection: a database one, and its password policy. */
async function checkPasswordFor(store: DurableStore, userId: string, password: string): Promise<void> {
  const user = await findUser(store, userId);
  const [connection] = await store.connections.find({ name: user.connection }, { limit: 1 });
  if (!connection) return;
  if (isUpstream(connection)) throw invalidBody(`The user ${userId} signs in through ${connection.name} (${connection.strategy}): it has no password here`);
  const problems = passwordCheck(connection, password);
  if (problems.length) throw weakPassword(problems);
}

export function listUsers(store: DurableStore, email: string | undefined, page: PageRequest): Promise<Page<User>> {
  return findPage(store.users, { email: email === undefined ? undefined : normalizeEmail(email) }, page);
}

export const findUsersByEmail = (store: DurableStore, email: string) => store.users.find({ email: normalizeEmail(email) });

export async function updateUser(store: DurableStore, userId: string, patch: UserPatch): Promise<User> {
  if (patch.password !== undefined) await checkPasswordFor(store, userId, patch.password);
  const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
  const user = await writeUnique(() => editEntity(store.users, userId, noSuchUser(userId), async (existing) => {
    checkNotOperatorAccount(existing.connection);
    const next = patchUser(existing, patch, passwordHash, now());
    // Blocking ends the user's tokens; unblocked later, they sign in again.
    if (next.blocked && !existing.blocked) await recordRevocations(store, [{ kind: 'user', userId, gone: false }]);
    return next;
  }), ...USER_EXISTS);
  if (passwordHash) recordEvent('scp', { user_id: user.user_id, user_name: user.email, connection: user.connection, description: 'Password changed by an administrator' });
  return user;
}

export async function deleteUser(stores: Stores, userId: string): Promise<void> {
  checkNotOperatorAccount((await findUser(stores.durable, userId)).connection);
  await deleteUserRecords(stores, [userId]);
}

/** The user and their consents in one transaction, then every token issued under them (useless without the user). */
export async function deleteUserRecords(stores: Stores, userIds: readonly string[]): Promise<void> {
  const { durable } = stores;
  await recordRevocations(durable, userIds.map((userId) => ({ kind: 'user', userId, gone: true })));
  const consents = (await Promise.all(userIds.map((userId) => durable.userGrants.find({ user_id: userId })))).flat();
  await durable.transaction((tx) => {
    for (const userId of userIds) {
      tx.userGrants.deleteMany({ user_id: userId });
      tx.connectionActivity.deleteMany({ user_id: userId });
      tx.users.delete(userId);
    }
  });
  await revokeOidcGrants(stores, consents.flatMap((consent) => consent.oidc_grant_ids));
}
