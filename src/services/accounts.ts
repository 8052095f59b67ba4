import { randomBytes } from 'node:crypto';
import type { Adapter } from 'oidc-provider';
import { signupOpen } from '../domain/connection-rules.ts';
import { describeLifetime, emailApplication, LINK_LIFETIME_SECONDS, type EmailTemplate } from '../domain/email.ts';
import { invalidBody, notFound } from '../domain/errors.ts';
import { newHexId } from '../domain/ids.ts';
import { ticketUrl, type TicketKind } from '../domain/links.ts';
import type { Application, Connection, User } from '../domain/model.ts';
import { passwordCheck } from '../domain/password-policy.ts';
import { isUpstream } from '../domain/upstream.ts';
import { draftUser, normalizeEmail } from '../domain/user-rules.ts';
import type { Stores } from '../store/index.ts';
import { now } from './entities.ts';
import { renderEmail, type Mailer } from './mail.ts';
import { hashPassword } from './passwords.ts';
import { recordEvent } from './audit.ts';
import { accountKey, type LoginLockout } from './sign-in.ts';
import { readTenantSettings } from './tenant.ts';
import { revokeOidcGrants } from './grants.ts';
import { recordRevocations } from './revocations.ts';
import { findUser } from './users.ts';

/**
 * Self-service accounts in database connections: sign-up, email verification, password reset, and the single-use
 * links (tickets) behind them, sent by email or made by the Management API. Each use case is one function here, so
 * that the audit log can record it in one place.
 */

/** A single-use link's record. Its secret is the link itself: the store keeps only its digest (src/store/artifacts.ts). */
export interface Ticket {
  kind: TicketKind;
  user_id: string;
  /** The address the link was sent for: verifying it verifies this address only, not one the account has since. */
  email: string;
  /** The application the person came from (the email's `application` variables, where to go next). */
  client_id?: string;
  /** Where the person is sent once done (Management API tickets' `result_url`). */
  result_url?: string;
  /** Password change tickets: mark the address verified too (a reset by email proves the mailbox). */
  mark_email_as_verified?: boolean;
  /** Seconds since the epoch. */
  expires_at: number;
}

export interface TicketRequest {
  user: User;
  client_id?: string;
  result_url?: string;
  ttl_sec?: number;
  mark_email_as_verified?: boolean;
}

export type SignUpResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'signup_closed' | 'exists' }
  | { ok: false; reason: 'weak_password'; problems: string[] };

export type TicketUse<T> = { ok: true; ticket: Ticket; user: User; result: T } | { ok: false; reason: 'invalid' | 'expired' };

/** The Management API's ticket requests (Auth0's field names). */
export interface ManagementTicketInput {
  user_id?: string;
  connection_id?: string;
  email?: string;
  client_id?: string;
  result_url?: string;
  ttl_sec?: number;
  mark_email_as_verified?: boolean;
}

const ticketOptions = (input: ManagementTicketInput): Omit<TicketRequest, 'user'> => ({
  ...(input.client_id ? { client_id: input.client_id } : {}),
  ...(input.result_url ? { result_url: input.result_url } : {}),
  ...(input.ttl_sec ? { ttl_sec: input.ttl_sec } : {}),
  ...(input.mark_email_as_verified !== undefined ? { mark_email_as_verified: input.mark_email_as_verified } : {}),
});

export interface AccountDeps {
  stores: Stores;
  issuer: string;
  mailer: Mailer;
  templatesDir: string;
  lockout: LoginLockout;
}

export function accountService(deps: AccountDeps) {
  const { stores, issuer, mailer } = deps;
  const { durable } = stores;
  const tickets: Adapter = stores.oidcAdapter('AccountTicket');

  const applicationOf = async (clientId: string | undefined) => (clientId ? durable.applications.get(clientId) : undefined);

  async function send(template: EmailTemplate, user: User, app: Application | undefined, link?: { url: string; ttl: number }): Promise<void> {
    const tenant = await readTenantSettings(durable);
    const data = {
      ...(link ? { url: link.url, lifetime: describeLifetime(link.ttl) } : {}),
      user: { email: user.email, ...(user.name ? { name: user.name } : {}) },
      application: emailApplication(app),
      tenant: { friendly_name: tenant.friendly_name, support_email: tenant.support_email, support_url: tenant.support_url },
    };
    await mailer.send(renderEmail(template, user.email, data, deps.templatesDir));
  }

  /** A new single-use link; only its digest is stored, sealed with what it may do. */
  async function createTicket(kind: TicketKind, request: TicketRequest): Promise<{ url: string; ttl: number }> {
    const ttl = request.ttl_sec || LINK_LIFETIME_SECONDS;
    const secret = randomBytes(32).toString('base64url');
    const ticket: Ticket = {
      kind, user_id: request.user.user_id, email: request.user.email, expires_at: Math.floor(Date.now() / 1000) + ttl,
      ...(request.client_id ? { client_id: request.client_id } : {}),
      ...(request.result_url ? { result_url: request.result_url } : {}),
      ...(request.mark_email_as_verified !== undefined ? { mark_email_as_verified: request.mark_email_as_verified } : {}),
    };
    await tickets.upsert(secret, { ...ticket }, ttl);
    return { url: ticketUrl(issuer, kind, secret), ttl };
  }

  /** The ticket behind a link, if it is of this kind, unused and unexpired (reading does not use it). */
  async function readTicket(kind: TicketKind, secret: string): Promise<{ ok: true; ticket: Ticket; user: User } | { ok: false; reason: 'invalid' | 'expired' }> {
    const found = secret ? ((await tickets.find(secret)) as (Ticket & { consumed?: number }) | undefined) : undefined;
    if (!found || found.kind !== kind || found.consumed) return { ok: false, reason: 'invalid' };
    if (found.expires_at <= Math.floor(Date.now() / 1000)) return { ok: false, reason: 'expired' };
    const user = await durable.users.get(found.user_id);
    return user ? { ok: true, ticket: found, user } : { ok: false, reason: 'invalid' };
  }

  /** Uses a ticket once: of two requests with the same link, one wins. */
  async function useTicket(kind: TicketKind, secret: string) {
    const read = await readTicket(kind, secret);
    if (!read.ok) return read;
    try {
      await tickets.consume(secret);
    } catch {
      return { ok: false as const, reason: 'invalid' as const };
    }
    return read;
  }

  async function userFor(input: ManagementTicketInput): Promise<User> {
    if (input.user_id) return findUser(durable, input.user_id);
    const connection = input.connection_id ? await durable.connections.get(input.connection_id) : undefined;
    if (!connection) throw notFound('inexistent_connection', `The connection ${input.connection_id ?? ''} does not exist`);
    const [user] = await durable.users.find({ email: normalizeEmail(input.email ?? ''), connection: connection.name }, { limit: 1 });
    if (!user) throw notFound('inexistent_user', `No user with the email ${input.email ?? ''} in the connection ${connection.name}`);
    return user;
  }

  async function checkClient(clientId: string | undefined): Promise<void> {
    if (clientId && !(await durable.applications.get(clientId))) throw invalidBody(`client_id ${clientId} is not an existing client`);
  }

  const service = {
    issuer,
    createTicket,
    readTicket,

    /** Management API: a password change link for a database user (by id, or by connection and email). */
    async passwordChangeTicket(input: ManagementTicketInput): Promise<{ ticket: string }> {
      if (!input.user_id && !(input.connection_id && input.email)) throw invalidBody('Either user_id, or connection_id and email, are required');
      await checkClient(input.client_id);
      const user = await userFor(input);
      const [connection] = await durable.connections.find({ name: user.connection }, { limit: 1 });
      if (!connection || isUpstream(connection)) throw invalidBody(`The user ${user.user_id} signs in through ${user.connection}: it has no password here`);
      return { ticket: (await createTicket('password_change', { user, ...ticketOptions(input) })).url };
    },

    /** Management API: an email verification link. */
    async emailVerificationTicket(input: ManagementTicketInput): Promise<{ ticket: string }> {
      await checkClient(input.client_id);
      const user = await userFor(input);
      return { ticket: (await createTicket('email_verification', { user, ...ticketOptions(input) })).url };
    },

    /** Management API: sends the verification email now (Auth0's job, completed before the answer). */
    async verificationEmailJob(input: { user_id: string; client_id?: string }): Promise<{ id: string; type: 'verification_email'; status: 'completed'; created_at: string }> {
      await checkClient(input.client_id);
      const user = await findUser(durable, input.user_id);
      await service.sendVerificationEmail(user, input.client_id);
      return { id: `job_${newHexId()}`, type: 'verification_email', status: 'completed', created_at: now() };
    },

    async sendVerificationEmail(user: User, clientId?: string): Promise<void> {
      const link = await createTicket('email_verification', { user, ...(clientId ? { client_id: clientId } : {}) });
      await send('verify_email', user, await applicationOf(clientId), link);
      recordEvent('svr', { client_id: clientId, user_id: user.user_id, user_name: user.email, connection: user.connection });
    },

    /**
     * A new account in a database connection whose sign-up is open, with a password its policy accepts; a
     * verification email follows.
     */
    async signUp(connection: Connection, input: { email: string; password: string; name?: string }, app: Application): Promise<SignUpResult> {
      const email = normalizeEmail(input.email);
      /** A refused sign-up, in the tenant log (`fs`) with why. */
      const refused = (description: string, result: SignUpResult): SignUpResult => {
        recordEvent('fs', { client_id: app.client_id, user_name: email, connection: connection.name, description });
        return result;
      };
      if (!signupOpen(connection)) return refused('Sign-up is closed in this connection', { ok: false, reason: 'signup_closed' });
      const problems = passwordCheck(connection, input.password);
      if (problems.length) return refused('The password is too weak for the connection\'s policy', { ok: false, reason: 'weak_password', problems });
      if ((await durable.users.count({ email, connection: connection.name })) > 0) return refused('The user already exists', { ok: false, reason: 'exists' });
      const at = now();
      const user = draftUser({ connection: connection.name, email, password: input.password, ...(input.name ? { name: input.name } : {}) }, `auth0|${newHexId()}`, await hashPassword(input.password), at);
      const inserted = await durable.users.insertIfAbsent({ ...user, logins_count: 1, last_login: at });
      if (!inserted) return refused('The user already exists', { ok: false, reason: 'exists' });
      recordEvent('ss', { client_id: app.client_id, user_id: user.user_id, user_name: email, connection: connection.name });
      await service.sendVerificationEmail(user, app.client_id);
      return { ok: true, user };
    },

    /** The link to choose a new password, sent when the account exists in this connection (nothing is said either way). */
    async requestPasswordReset(connection: Connection, email: string, clientId?: string): Promise<void> {
      const [user] = await durable.users.find({ email: normalizeEmail(email), connection: connection.name }, { limit: 1 });
      if (!user || connection.strategy !== 'auth0') return;
      const link = await createTicket('password_change', { user, mark_email_as_verified: true, ...(clientId ? { client_id: clientId } : {}) });
      await send('reset_email', user, await applicationOf(clientId), link);
      recordEvent('scpr', { client_id: clientId, user_id: user.user_id, user_name: user.email, connection: user.connection });
    },

    /** Marks the address the link was sent to as verified, once; a welcome email follows. */
    async verifyEmail(secret: string): Promise<TicketUse<'verified' | 'already_verified'>> {
      const used = await useTicket('email_verification', secret);
      if (!used.ok) {
        recordEvent('fv', { description: `The verification link is ${used.reason}` });
        return used;
      }
      const { ticket, user } = used;
      if (user.email_verified && user.email === ticket.email) return { ...used, result: 'already_verified' };
      const verified = await durable.users.update(user.user_id, { set: { email_verified: true, updated_at: now() } }, { email: ticket.email });
      if (!verified) return { ok: false, reason: 'invalid' }; // the account has another address since
      recordEvent('sv', { client_id: ticket.client_id, user_id: verified.user_id, user_name: verified.email, connection: verified.connection });
      await send('welcome_email', verified, await applicationOf(ticket.client_id));
      return { ok: true, ticket, user: verified, result: 'verified' };
    },

    /**
     * A new password through a link: checked against the connection's policy, then the link is used, the password
     * replaced, the sign-in block lifted, and every session and refresh token from before ends (README).
     */
    async resetPassword(secret: string, password: string): Promise<TicketUse<'changed'> | { ok: false; reason: 'weak_password'; problems: string[] }> {
      const read = await readTicket('password_change', secret);
      if (!read.ok) {
        recordEvent('fcp', { description: `The password change link is ${read.reason}` });
        return read;
      }
      const [connection] = await durable.connections.find({ name: read.user.connection }, { limit: 1 });
      if (!connection) return { ok: false, reason: 'invalid' };
      const problems = passwordCheck(connection, password);
      if (problems.length) {
        recordEvent('fcp', { user_id: read.user.user_id, user_name: read.user.email, connection: connection.name, description: 'The new password is too weak for the connection\'s policy' });
        return { ok: false, reason: 'weak_password', problems };
      }
      const used = await useTicket('password_change', secret);
      if (!used.ok) return used;
      const { ticket, user } = used;
      // Its access tokens end too, at resource servers that follow revocations.
      await recordRevocations(durable, [{ kind: 'user', userId: user.user_id, gone: false }]);
      const at = now();
      const changed = await durable.users.update(user.user_id, {
        set: { password_hash: await hashPassword(password), last_password_reset: at, updated_at: at, ...(ticket.mark_email_as_verified && user.email === ticket.email ? { email_verified: true } : {}) },
      });
      if (!changed) return { ok: false, reason: 'invalid' };
      await Promise.all([endSessions(changed), deps.lockout.account.reset(accountKey(changed.email))]);
      recordEvent('scp', { client_id: ticket.client_id, user_id: changed.user_id, user_name: changed.email, connection: changed.connection });
      return { ok: true, ticket, user: changed, result: 'changed' };
    },
  };

  /**
   * Sessions and refresh tokens issued before `last_password_reset` no longer count (src/oidc: the login check and
   * `findAccount`); the protocol grants behind the user's stored consents are revoked now as well.
   */
  async function endSessions(user: User): Promise<void> {
    const consents = await durable.userGrants.find({ user_id: user.user_id });
    await revokeOidcGrants(stores, consents.flatMap((consent) => consent.oidc_grant_ids));
  }

  return service;
}

export type AccountService = ReturnType<typeof accountService>;
