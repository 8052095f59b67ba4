import { draftConnection } from '../domain/connection-rules.ts';
import type { User } from '../domain/model.ts';
import { newId } from '../domain/ids.ts';
import { normalizeEmail } from '../domain/user-rules.ts';
import { DuplicateKeyError, type DurableStore } from '../store/ports.ts';

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
  const connection = draftConnection({ name, strategy: 'auth0', is_domain_connection: isDomainConnection }, newId('con_'), new Date().toISOString());
  await store.connections.insert(connection).catch((err) => {
    if (!(err instanceof DuplicateKeyError)) throw err;
  });
}

/**
 * Keeps a user record for each host user who signs in through Gatehouse, so that consents, connected apps and
 * tokens have a subject. It has no password: only the host can authenticate it.
 */
export async function linkHostUser(store: DurableStore, connection: string, host: HostUser): Promise<User> {
  const userId = `${connection}|${host.id}`;
  const now = new Date().toISOString();
  const existing = await store.users.get(userId);
  const user: User = {
    user_id: userId, email: normalizeEmail(host.email ?? ''), email_verified: host.emailVerified ?? false, connection, blocked: existing?.blocked ?? false,
    logins_count: (existing?.logins_count ?? 0) + 1, last_login: now, created_at: existing?.created_at ?? now, updated_at: now, password_hash: '',
    ...(host.name ? { name: host.name } : {}),
  };
  if (existing) await store.users.replace(user);
  else await store.users.insert(user);
  return user;
}
