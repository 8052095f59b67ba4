import { RuleError } from '../domain/errors.ts';
import { newHexId } from '../domain/ids.ts';
import type { User } from '../domain/model.ts';
import { draftUser, normalizeEmail, patchUser, type UserCreate, type UserPatch } from '../domain/user-rules.ts';
import type { DurableStore, Stores } from '../store/index.ts';
import { findPage, getOrThrow, now, writeUnique, type Page, type PageRequest } from './entities.ts';
import { revokeUserGrant } from './grants.ts';
import { hashPassword } from './passwords.ts';

/** Auth0's answer to a second user with the same email in one connection. */
const USER_EXISTS = ['The user already exists.', 'auth0_idp_error'] as const;

export const findUser = (store: DurableStore, userId: string) =>
  getOrThrow(store.users, userId, 'inexistent_user', `The user ${userId} does not exist`);

export async function createUser(store: DurableStore, input: UserCreate): Promise<User> {
  const [connection] = await store.connections.find({ name: input.connection }, { limit: 1 });
  if (!connection) throw new RuleError('invalid', 'inexistent_connection', `The connection ${input.connection} does not exist`);
  const user = draftUser(input, `auth0|${newHexId()}`, await hashPassword(input.password), now());
  await writeUnique(() => store.users.insert(user), ...USER_EXISTS);
  return user;
}

export function listUsers(store: DurableStore, email: string | undefined, page: PageRequest): Promise<Page<User>> {
  return findPage(store.users, { email: email === undefined ? undefined : normalizeEmail(email) }, page);
}

export const findUsersByEmail = (store: DurableStore, email: string) => store.users.find({ email: normalizeEmail(email) });

export async function updateUser(store: DurableStore, userId: string, patch: UserPatch): Promise<User> {
  const existing = await findUser(store, userId);
  const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
  const user = patchUser(existing, patch, passwordHash, now());
  await writeUnique(() => store.users.replace(user), ...USER_EXISTS);
  return user;
}

export async function deleteUser(stores: Stores, userId: string): Promise<void> {
  await findUser(stores.durable, userId);
  await deleteUserRecords(stores, userId);
}

/** The user and their consents, with every token issued under them. */
export async function deleteUserRecords(stores: Stores, userId: string): Promise<void> {
  await stores.durable.users.delete(userId);
  for (const grant of await stores.durable.userGrants.find({ user_id: userId })) await revokeUserGrant(stores, grant);
}
