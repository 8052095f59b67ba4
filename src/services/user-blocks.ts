import type { DurableStore } from '../store/ports.ts';
import { recordEvent } from './audit.ts';
import { accountKey, type LoginLockout } from './sign-in.ts';
import { findUser } from './users.ts';

/** Auth0's user blocks: the brute-force blocks on an identifier. Account lockout names no address (Auth0 omits `ip` too). */
export interface UserBlocks {
  blocked_for: { identifier: string; connection: string }[];
}

/** The users an identifier (an email) names, and whether sign-in is blocked for it on every path. */
export async function userBlocksByIdentifier(store: DurableStore, lockout: LoginLockout, identifier: string): Promise<UserBlocks> {
  const key = accountKey(identifier);
  if (!(await lockout.account.blockedFor(key))) return { blocked_for: [] };
  const users = await store.users.find({ email: key });
  return { blocked_for: users.map((user) => ({ identifier: user.email, connection: user.connection })) };
}

export async function userBlocksOfUser(store: DurableStore, lockout: LoginLockout, userId: string): Promise<UserBlocks> {
  const user = await findUser(store, userId);
  const blocked = await lockout.account.blockedFor(accountKey(user.email));
  return { blocked_for: blocked ? [{ identifier: user.email, connection: user.connection }] : [] };
}

/** Lifts the brute-force block of an identifier; a user blocked by an administrator (`blocked: true`) stays blocked, as in Auth0. */
export async function unblockIdentifier(lockout: LoginLockout, identifier: string): Promise<void> {
  await lockout.account.reset(accountKey(identifier));
  recordEvent('account_unblocked', { user_name: accountKey(identifier) });
}

export async function unblockUser(store: DurableStore, lockout: LoginLockout, userId: string): Promise<void> {
  const user = await findUser(store, userId);
  await unblockIdentifier(lockout, user.email);
}
