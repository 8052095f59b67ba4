import { invalidBody, notSupported } from './errors.ts';
import type { Application, Connection, OperatorInvitation, OperatorRole, User } from './model.ts';
import { MANAGEMENT_API_SCOPES, type ManagementScope } from './system-api.ts';
import { normalizeEmail, PASSWORD_LENGTH } from './user-rules.ts';

/**
 * Operators: the people who run the tenant through the console. Each is a user of one reserved connection, with a
 * role that bounds the Management API scopes of the tokens the console gets for them.
 */

export const OPERATOR_ROLES = ['admin', 'viewer'] as const satisfies readonly OperatorRole[];

/** The reserved connection: never domain-level, never enabled for another application, never deleted. */
export const OPERATOR_CONNECTION = 'gatehouse-operators';
export const OPERATOR_CONNECTION_ID = 'con_gatehouse_operators';

/** The console: Gatehouse's own first-party application, the only one that signs operators in. */
export const CONSOLE_APPLICATION_ID = 'gatehouse_console';

/** How long an invitation (or the first-start sign-up link) can be used. */
export const INVITATION_LIFETIME_HOURS = 72;

/** `admin`: every Management API scope; `viewer`: the `read:` scopes. */
export function roleScopes(role: OperatorRole): ManagementScope[] {
  return role === 'admin' ? [...MANAGEMENT_API_SCOPES] : MANAGEMENT_API_SCOPES.filter((scope) => scope.startsWith('read:'));
}

export const isOperatorConnection = (connection: Partial<Pick<Connection, 'id'>>) => connection.id === OPERATOR_CONNECTION_ID;

export const isConsole = (app: Pick<Application, 'client_id'>) => app.client_id === CONSOLE_APPLICATION_ID;

/** A user is an operator while they are an unblocked user of the reserved connection with a role. */
export type OperatorFacts = Pick<User, 'connection' | 'blocked' | 'operator_role'>;

/** The Management API scopes a user may use: their role's, and none for anyone who is not an operator. */
export function operatorScopes(user: OperatorFacts | undefined): ManagementScope[] {
  if (!user || user.blocked || user.connection !== OPERATOR_CONNECTION || !user.operator_role) return [];
  return roleScopes(user.operator_role);
}

/** The reserved connection is Gatehouse's: refused changes say where operators are managed instead. */
export function checkConnectionChangeable(connection: Pick<Connection, 'id' | 'name'>): void {
  if (isOperatorConnection(connection)) {
    throw notSupported(`The connection ${connection.name} is reserved for Gatehouse's operators: it cannot be changed or deleted (manage operators at /api/v2/operators)`);
  }
}

/** Operators are users, but they are invited, changed and removed through /api/v2/operators only. */
export function checkNotOperatorAccount(connection: string): void {
  if (connection === OPERATOR_CONNECTION) {
    throw invalidBody(`Users of the ${OPERATOR_CONNECTION} connection are operators: invite, change and remove them through /api/v2/operators`);
  }
}

export interface InvitationCreate {
  email: string;
  role: OperatorRole;
}

/** An invitation stores only the digest of its link's secret; the link is shown once, to whoever invited. */
export function draftInvitation(input: InvitationCreate | { role: 'admin'; email?: undefined }, ids: { id: string; tokenHash: string }, invitedBy: string, now: Date): OperatorInvitation {
  return {
    id: ids.id,
    token_hash: ids.tokenHash,
    ...(input.email === undefined ? {} : { email: normalizeEmail(input.email) }),
    role: input.role,
    invited_by: invitedBy,
    expires_at: new Date(now.getTime() + INVITATION_LIFETIME_HOURS * 3600_000).toISOString(),
    created_at: now.toISOString(),
  };
}

/** Why an invitation cannot be used (expired), or undefined when it can. */
export const invitationExpired = (invitation: Pick<OperatorInvitation, 'expires_at'>, now: Date) => invitation.expires_at <= now.toISOString();

/**
 * The tenant must keep an admin: the last one can be neither removed nor made a viewer, and nobody removes themselves
 * (another admin does), so that nobody locks everyone out by mistake.
 */
export function checkOperatorRemovable(target: Pick<User, 'user_id' | 'operator_role'>, actorUserId: string | undefined, remainingAdmins: number): void {
  if (target.user_id === actorUserId) throw invalidBody('You cannot remove yourself or change your own role: ask another admin');
  if (target.operator_role === 'admin' && remainingAdmins === 0) throw invalidBody('This is the last admin: make another operator admin first');
}

/** What a person must give to become an operator, checked field by field (the page shows each problem beside its field). */
export function newOperatorProblems(input: { email: string; name?: string; password: string }): Partial<Record<'email' | 'name' | 'password', string>> {
  const problems: Partial<Record<'email' | 'name' | 'password', string>> = {};
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.email.trim()) || input.email.length > 254) problems.email = 'Enter an email address, such as jo@example.com.';
  if ((input.name ?? '').length > 300) problems.name = 'At most 300 characters.';
  if (input.password.length < PASSWORD_LENGTH.min || input.password.length > PASSWORD_LENGTH.max) {
    problems.password = `Use ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters.`;
  }
  return problems;
}
