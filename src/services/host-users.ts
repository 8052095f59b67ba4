import { draftConnection } from '../domain/connection-rules.ts';
import type { User } from '../domain/model.ts';
import { newId } from '../domain/ids.ts';
import { normalizeEmail } from '../domain/user-rules.ts';
import type { DurableStore } from '../store/ports.ts';

/** A user as the host application knows it, when Gatehouse runs inside it (middleware mode). */
export interface HostUser {
  /** Stable id in the host application. */
  id: string;
  email?: string;
  name?: string;
  emailVerified?: boolean;
}

/** The default connection of host users. */
export const HOST_CONNECTION = 'host-users';

/** The connection that host users belong to; domain-level by default so that third-party applications can use it. */
export async function ensureHostConnection(store: DurableStore, name: string, isDomainConnection: boolean): Promise<void> {
  if ((await store.connections.count({ name })) > 0) return;
  await store.connections.insertIfAbsent(draftConnection({ name, strategy: 'auth0', is_domain_connection: isDomainConnection }, newId('con_'), new Date().toISOString()));
}

/**
 * Keeps a user record for each host user who signs in through Gatehouse, so that consents, connected apps and
 * tokens have a subject. It has no password: only the host can authenticate it.
 */
export async function linkHostUser(store: DurableStore, connection: string, host: HostUser): Promise<User> {
  const userId = `${connection}|${host.id}`;
  const now = new Date().toISOString();
  const profile = { email: normalizeEmail(host.email ?? ''), email_verified: host.emailVerified ?? false, ...(host.name ? { name: host.name } : {}) };
  const user: User = { user_id: userId, ...profile, connection, blocked: false, logins_count: 1, last_login: now, created_at: now, updated_at: now, password_hash: '' };
  if (await store.users.insertIfAbsent(user)) return user;
  // The host's profile wins; what Gatehouse keeps itself (blocked, logins) is never overwritten by a stale copy.
  const linked = await store.users.update(userId, { set: { ...profile, last_login: now, updated_at: now }, inc: { logins_count: 1 } });
  if (!linked) throw new Error(`the host user ${userId} vanished while signing in`);
  return linked;
}
