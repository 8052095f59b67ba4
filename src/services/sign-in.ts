import type { Redis } from 'ioredis';
import { connectionUsableBy } from '../domain/connections.ts';
import type { Application, Connection, User } from '../domain/model.ts';
import { isUpstream } from '../domain/upstream.ts';
import { normalizeEmail } from '../domain/user-rules.ts';
import type { DurableStore } from '../store/ports.ts';
import { recordEvent, recordEventOnce } from './audit.ts';
import { verifyPassword } from './passwords.ts';
import { createFailureCounter, type FailureCounter } from './rate-limits.ts';

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
 * Brute-force protection of email-and-password sign-in: failures are counted per account and per client address;
 * counters live in Redis when configured, so the limits hold across processes.
 */
export interface LoginLockout {
  /**
   * One counter per account, keyed by its normalised email (`accountKey`): the login page with or without a
   * connection and the password grant with or without `realm` all count against it, and an unknown email is counted
   * like a known one, so the limit says nothing about existence.
   */
  account: FailureCounter;
  address: FailureCounter;
}

export function createLoginLockout(redis: Redis | undefined, limits: SignInLimits): LoginLockout {
  const window = limits.window_minutes * 60;
  return {
    account: createFailureCounter(redis, 'login-account', limits.max_failures_per_account, window),
    address: createFailureCounter(redis, 'login-ip', limits.max_failures_per_address, window),
  };
}

/** The account a sign-in attempt counts against: the email as typed, normalised, whichever connection it names. */
export const accountKey = (email: string) => normalizeEmail(email);

/** Email-and-password sign-in against database connections, for the login page and the password grant alike. */
export function passwordSignIn(store: DurableStore, lockout: LoginLockout) {
  return async function signIn(attempt: PasswordSignIn): Promise<SignInResult> {
    const email = accountKey(attempt.email);
    // Counted before the password is checked, in one atomic step per counter: parallel guesses cannot pass the limit,
    // and a locked account refuses even the right password, on every path.
    const [accountWait = 0, addressWait = 0] = await Promise.all([lockout.account.countAttempt(email), lockout.address.countAttempt(attempt.address)]);
    const wait = Math.max(accountWait, addressWait);
    const client_id = attempt.app.client_id;
    if (wait) {
      // Logged once per block (each refused attempt is still counted in the metrics).
      if (accountWait) recordEventOnce(`limit_wc:${email}`, accountWait * 1000, 'limit_wc', { client_id, user_name: email, details: { retry_after_seconds: accountWait } });
      else recordEventOnce(`limit_mu:${attempt.address}`, addressWait * 1000, 'limit_mu', { details: { retry_after_seconds: addressWait } });
      return { ok: false, reason: 'too_many_attempts', retryAfterSeconds: wait };
    }

    const connections = (await usableConnections(store, attempt.app)).filter((c) => !isUpstream(c) && (!attempt.connection || c.name === attempt.connection));
    let user: User | undefined;
    for (const connection of connections) {
      [user] = await store.users.find({ email, connection: connection.name }, { limit: 1 });
      if (user) break;
    }
    const passwordOk = await verifyPassword(attempt.password, user?.password_hash || undefined);
    if (!user) recordEvent('fu', { client_id, user_name: email, connection: attempt.connection, description: 'No such user in the connections this application may use' });
    else if (!passwordOk) recordEvent('fp', { client_id, user_id: user.user_id, user_name: user.email, connection: user.connection, description: 'Wrong password' });
    else if (user.blocked) recordEvent('f', { client_id, user_id: user.user_id, user_name: user.email, connection: user.connection, description: 'The user is blocked' });
    if (!user || !passwordOk || user.blocked) return { ok: false, reason: 'wrong_credentials' };
    // Counted only if the account is still as verified: blocked or given a new password meanwhile, the sign-in fails.
    const signedIn = await store.users.update(user.user_id, { inc: { logins_count: 1 }, set: { last_login: new Date().toISOString() } },
      { blocked: false, password_hash: user.password_hash });
    if (!signedIn) {
      recordEvent('f', { client_id, user_id: user.user_id, user_name: user.email, connection: user.connection, description: 'The account was blocked or its password changed during the sign-in' });
      return { ok: false, reason: 'wrong_credentials' };
    }
    await Promise.all([lockout.account.reset(email), lockout.address.forgive(attempt.address)]);
    recordEvent('s', { client_id, user_id: signedIn.user_id, user_name: signedIn.email, connection: signedIn.connection });
    return { ok: true, user: signedIn };
  };
}

export type SignIn = ReturnType<typeof passwordSignIn>;
