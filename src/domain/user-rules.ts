import { invalidBody } from './errors.ts';
import type { User } from './model.ts';
import { applyPatch } from './updates.ts';

/** NIST SP 800-63B: a minimum length and no composition rules; the maximum keeps hashing cheap to refuse. */
export const PASSWORD_LENGTH = { min: 8, max: 128 } as const;

/** Emails are matched case-insensitively, as Auth0 does, by storing them lower-cased. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export interface UserCreate {
  connection: string;
  email: string;
  password: string;
  email_verified?: boolean;
  name?: string;
  blocked?: boolean;
}

export interface UserPatch {
  email?: string;
  email_verified?: boolean;
  name?: string;
  password?: string;
  blocked?: boolean;
  /** Auth0 clients send the user's connection along with email and password changes; it cannot change. */
  connection?: string;
}

export function draftUser(input: UserCreate, userId: string, passwordHash: string, now: string): User {
  return {
    user_id: userId,
    email: normalizeEmail(input.email),
    email_verified: input.email_verified ?? false,
    ...(input.name !== undefined ? { name: input.name } : {}),
    connection: input.connection,
    blocked: input.blocked ?? false,
    logins_count: 0,
    created_at: now,
    updated_at: now,
    password_hash: passwordHash,
  };
}

/** A new email address is unverified unless the request says otherwise. */
export function patchUser(existing: User, patch: UserPatch, passwordHash: string | undefined, now: string): User {
  if (patch.connection !== undefined && patch.connection !== existing.connection) {
    throw invalidBody(`connection cannot be changed: user ${existing.user_id} belongs to ${existing.connection}`);
  }
  const { password: _password, connection: _connection, ...fields } = patch;
  const email = fields.email === undefined ? undefined : normalizeEmail(fields.email);
  const emailChanged = email !== undefined && email !== existing.email;
  return applyPatch(existing, {
    ...fields,
    email,
    email_verified: fields.email_verified ?? (emailChanged ? false : undefined),
    password_hash: passwordHash,
  }, now);
}

/**
 * Whether a session or token chain that began at `issuedAtSeconds` predates the user's last password reset, and so
 * no longer counts (a reset ends every session and refresh token). Compared in whole seconds, as tokens carry them.
 */
export function predatesPasswordReset(user: Pick<User, 'last_password_reset'>, issuedAtSeconds: number | undefined): boolean {
  if (!user.last_password_reset || issuedAtSeconds === undefined) return false;
  return issuedAtSeconds < Math.floor(Date.parse(user.last_password_reset) / 1000);
}
