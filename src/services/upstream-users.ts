import type { Connection, User } from '../domain/model.ts';
import { identitiesOf, upstreamIdentity, upstreamUserId, type UpstreamProfile } from '../domain/upstream.ts';
import { DuplicateKeyError, type DurableStore } from '../store/ports.ts';
import { now } from './entities.ts';

/** Why a person who signed in at their provider still cannot sign in here. */
export type UpstreamSignInRefusal = 'no_email' | 'blocked' | 'email_taken';

export type UpstreamSignIn = { ok: true; user: User; created: boolean; linked: boolean } | { ok: false; reason: UpstreamSignInRefusal };

/**
 * The account of a person who signed in at an upstream provider: created at their first sign-in (without a password),
 * their profile refreshed from the provider at every sign-in. Accounts of different connections are never merged,
 * unless the connection enables `link_by_verified_email` and the provider says the address is verified: then the one
 * existing account with that verified address gets this identity too (README: the risk this takes).
 */
export async function signInUpstreamUser(store: DurableStore, connection: Connection, profile: UpstreamProfile): Promise<UpstreamSignIn> {
  if (!profile.email) return { ok: false, reason: 'no_email' };
  const at = now();
  const fromProvider = { email: profile.email, email_verified: profile.email_verified, ...(profile.name ? { name: profile.name } : {}) };
  const userId = upstreamUserId(connection, profile.sub);

  const existing = await store.users.get(userId);
  if (existing) {
    if (existing.blocked) return { ok: false, reason: 'blocked' };
    const change = { set: { ...fromProvider, last_login: at, updated_at: at }, inc: { logins_count: 1 } };
    // An address the provider changed to one another account of this connection holds keeps the old one.
    const signedIn = await store.users.update(userId, change, { blocked: false }).catch((err: unknown) => {
      if (!(err instanceof DuplicateKeyError)) throw err;
      return store.users.update(userId, { ...change, set: { last_login: at, updated_at: at } }, { blocked: false });
    });
    return signedIn ? { ok: true, user: signedIn, created: false, linked: false } : { ok: false, reason: 'blocked' };
  }

  if (connection.options?.link_by_verified_email && profile.email_verified) {
    const linked = await linkByVerifiedEmail(store, connection, profile, at);
    if (linked) return linked;
  }

  const user: User = {
    user_id: userId,
    ...fromProvider,
    connection: connection.name,
    identities: [upstreamIdentity(connection, profile.sub)],
    blocked: false,
    logins_count: 1,
    last_login: at,
    created_at: at,
    updated_at: at,
    password_hash: '',
  };
  if (await store.users.insertIfAbsent(user)) return { ok: true, user, created: true, linked: false };
  // Another account of this connection has the address (a provider re-issued it to someone else): never merged silently.
  const raced = await store.users.get(userId);
  return raced ? signInUpstreamUser(store, connection, profile) : { ok: false, reason: 'email_taken' };
}

/** The one verified, unblocked account with this address, given this identity (or already holding it); else nothing. */
async function linkByVerifiedEmail(store: DurableStore, connection: Connection, profile: UpstreamProfile, at: string): Promise<UpstreamSignIn | undefined> {
  const candidates = (await store.users.find({ email: profile.email })).filter((user) => user.email_verified && !user.blocked);
  if (candidates.length !== 1) return undefined; // none, or too many to choose from: a separate account
  const [account] = candidates as [User];
  const identities = identitiesOf(account);
  const held = identities.find((identity) => identity.connection === connection.name);
  if (held && held.user_id !== profile.sub) return undefined; // the account is linked to another person of this connection
  const change = held
    ? { set: { last_login: at, updated_at: at }, inc: { logins_count: 1 } }
    : { set: { identities: [...identities, upstreamIdentity(connection, profile.sub)], last_login: at, updated_at: at }, inc: { logins_count: 1 } };
  const signedIn = await store.users.update(account.user_id, change, { blocked: false, updated_at: account.updated_at });
  return signedIn ? { ok: true, user: signedIn, created: false, linked: !held } : undefined;
}
