import type { Redis } from 'ioredis';
import { connectionUsableBy } from '../domain/connections.ts';
import type { Application, Connection, User } from '../domain/model.ts';
import { normalizeEmail } from '../domain/user-rules.ts';
import type { DurableStore } from '../store/ports.ts';
import { verifyPassword } from './passwords.ts';
import { createFailureCounter } from './rate-limits.ts';

export interface SignInLimits {
  max_failures_per_account: number;
  max_failures_per_address: number;
  window_minutes: number;
}

export type SignInResult =
  | { ok: true; user: User }
  /** One answer for a wrong email, a wrong password, a blocked user or a connection the app may not use: no enumeration. */
  | { ok: false; reason: 'wrong_credentials' }
  | { ok: false; reason: 'too_many_attempts'; retryAfterSeconds: number };

export interface PasswordSignIn {
  app: Pick<Application, 'client_id' | 'is_first_party'>;
  email: string;
  password: string;
  /** The connection asked for (login form, `realm`); any usable one otherwise. */
  connection?: string;
  address: string;
}

/**
 * The connections an application may sign users in with, domain-level first, then by name: the order the login page
 * offers them in, and the order a sign-in without a chosen connection tries them in.
 */
export async function usableConnections(store: DurableStore, app: Pick<Application, 'client_id' | 'is_first_party'>): Promise<Connection[]> {
  return (await store.connections.find())
    .filter((connection) => connectionUsableBy(app, connection))
    .sort((a, b) => Number(b.is_domain_connection) - Number(a.is_domain_connection) || a.name.localeCompare(b.name));
}

/**
 * Email-and-password sign-in against database connections, for the login page and the password grant alike.
 * Failures are counted per account (whether or not it exists, so the limit says nothing about existence) and per
 * client address; counters live in Redis when configured, so the limits hold across processes.
 */
export function passwordSignIn(store: DurableStore, redis: Redis | undefined, limits: SignInLimits) {
  const window = limits.window_minutes * 60;
  const perAccount = createFailureCounter(redis, 'login-account', limits.max_failures_per_account, window);
  const perAddress = createFailureCounter(redis, 'login-ip', limits.max_failures_per_address, window);

  return async function signIn(attempt: PasswordSignIn): Promise<SignInResult> {
    const email = normalizeEmail(attempt.email);
    const accountKey = `${attempt.connection ?? '*'}:${email}`;
    const wait = Math.max(await perAccount.blockedFor(accountKey), await perAddress.blockedFor(attempt.address));
    if (wait) return { ok: false, reason: 'too_many_attempts', retryAfterSeconds: wait };

    const connections = (await usableConnections(store, attempt.app)).filter((c) => !attempt.connection || c.name === attempt.connection);
    let user: User | undefined;
    for (const connection of connections) {
      [user] = await store.users.find({ email, connection: connection.name }, { limit: 1 });
      if (user) break;
    }
    const passwordOk = await verifyPassword(attempt.password, user?.password_hash || undefined);
    if (!user || !passwordOk || user.blocked) {
      await Promise.all([perAccount.recordFailure(accountKey), perAddress.recordFailure(attempt.address)]);
      return { ok: false, reason: 'wrong_credentials' };
    }
    await perAccount.reset(accountKey);
    const signedIn = { ...user, logins_count: user.logins_count + 1, last_login: new Date().toISOString() };
    await store.users.replace(signedIn);
    return { ok: true, user: signedIn };
  };
}

export type SignIn = ReturnType<typeof passwordSignIn>;
