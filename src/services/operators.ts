import { randomBytes } from 'node:crypto';
import { invalidBody, RuleError } from '../domain/errors.ts';
import { hashSecret, newHexId, newTimeOrderedId, timeOrderedIdAt } from '../domain/ids.ts';
import { issuerUrl } from '../domain/issuer.ts';
import type { Actor, OperatorInvitation, OperatorRole, User } from '../domain/model.ts';
import {
  checkOperatorRemovable, draftInvitation, invitationExpired, INVITATION_LIFETIME_HOURS, newOperatorProblems, OPERATOR_CONNECTION, type InvitationCreate,
} from '../domain/operators.ts';
import { draftUser, normalizeEmail } from '../domain/user-rules.ts';
import type { DurableStore, Stores } from '../store/index.ts';
import { missing, now, writeUnique } from './entities.ts';
import { hashPassword } from './passwords.ts';
import { deleteUserRecords } from './users.ts';

/** Where an invitation's holder becomes an operator (the console's page); the secret rides in the query string, which no log keeps. */
export const invitationUrl = (issuer: string, token: string) => `${issuerUrl(issuer, 'console/join')}?${new URLSearchParams({ invitation: token })}`;

/** Who invited the first operator when Gatehouse printed a first-start link. */
export const FIRST_START = 'gatehouse';

const noSuchOperator = (userId: string) => missing('inexistent_operator', `The operator ${userId} does not exist`);
const noSuchInvitation = (id: string) => missing('inexistent_invitation', `The invitation ${id} does not exist`);

const isOperator = (user: User | undefined): user is User => user?.connection === OPERATOR_CONNECTION && user.operator_role !== undefined;

export const listOperators = async (store: DurableStore) => (await store.users.find({ connection: OPERATOR_CONNECTION })).filter(isOperator);

export async function findOperator(store: DurableStore, userId: string): Promise<User> {
  const user = await store.users.get(userId);
  if (!isOperator(user)) throw noSuchOperator(userId)();
  return user;
}

const findOperatorByEmail = async (store: DurableStore, email: string) =>
  (await store.users.find({ connection: OPERATOR_CONNECTION, email: normalizeEmail(email) }, { limit: 1 }))[0];

/** Expired invitations go when the list is read: their ids sort by creation, so one ranged delete removes them. */
async function forgetExpiredInvitations(store: DurableStore): Promise<void> {
  await store.operatorInvitations.deleteBefore(timeOrderedIdAt(Date.now() - INVITATION_LIFETIME_HOURS * 3600_000));
}

export async function listInvitations(store: DurableStore): Promise<OperatorInvitation[]> {
  await forgetExpiredInvitations(store);
  return store.operatorInvitations.find({}, { order: 'desc' });
}

/** An invitation and its link, which holds the only copy of its secret: it is returned this once. */
export async function inviteOperator(store: DurableStore, issuer: string, input: InvitationCreate | { role: 'admin'; email?: undefined }, invitedBy: string) {
  if (input.email !== undefined && (await findOperatorByEmail(store, input.email))) throw invalidBody(`${normalizeEmail(input.email)} is an operator already`);
  const token = randomBytes(32).toString('base64url');
  const invitation = draftInvitation(input, { id: newTimeOrderedId(), tokenHash: hashSecret(token) }, invitedBy, new Date());
  await store.operatorInvitations.insert(invitation);
  return { invitation, url: invitationUrl(issuer, token) };
}

export async function revokeInvitation(store: DurableStore, id: string): Promise<void> {
  if (!(await store.operatorInvitations.delete(id))) throw noSuchInvitation(id)();
}

/** The live invitation a link's secret stands for, or undefined (unknown, used, revoked or expired). */
export async function invitationFor(store: DurableStore, token: string): Promise<OperatorInvitation | undefined> {
  const [invitation] = await store.operatorInvitations.find({ token_hash: hashSecret(token) }, { limit: 1 });
  return invitation && !invitationExpired(invitation, new Date()) ? invitation : undefined;
}

export interface InvitationAcceptance {
  /** Used only when the invitation names no email (the first-start link). */
  email: string;
  name?: string;
  password: string;
}

/** Becoming an operator: the invitation is used up first (one holder wins a race), then the account is made. */
export async function acceptInvitation(store: DurableStore, token: string, input: InvitationAcceptance): Promise<User> {
  const invitation = await invitationFor(store, token);
  if (!invitation) throw new RuleError('invalid', 'invalid_invitation', 'This invitation is unknown, was used already, or has expired');
  const email = invitation.email ?? input.email;
  const problems = newOperatorProblems({ ...input, email });
  const [field] = Object.keys(problems) as (keyof typeof problems)[];
  if (field) throw invalidBody(`${field}: ${problems[field]}`);
  if (await findOperatorByEmail(store, email)) throw invalidBody(`${normalizeEmail(email)} is an operator already`);
  const passwordHash = await hashPassword(input.password);
  if (!(await store.operatorInvitations.delete(invitation.id))) throw new RuleError('invalid', 'invalid_invitation', 'This invitation was used already');
  const user: User = {
    ...draftUser({ connection: OPERATOR_CONNECTION, email, password: input.password, email_verified: invitation.email !== undefined, ...(input.name ? { name: input.name } : {}) }, `auth0|${newHexId()}`, passwordHash, now()),
    operator_role: invitation.role,
  };
  await writeUnique(() => store.users.insert(user), `${user.email} is an operator already`);
  return user;
}

const otherAdmins = async (store: DurableStore, userId: string) =>
  (await listOperators(store)).filter((operator) => operator.operator_role === 'admin' && operator.user_id !== userId).length;

export async function changeOperatorRole(store: DurableStore, userId: string, role: OperatorRole, actor: Actor): Promise<User> {
  const operator = await findOperator(store, userId);
  if (operator.operator_role === role) return operator;
  checkOperatorRemovable(operator, actor.type === 'user' ? actor.id : undefined, await otherAdmins(store, userId));
  const updated = await store.users.update(userId, { set: { operator_role: role, updated_at: now() } }, { operator_role: operator.operator_role });
  if (!updated) throw noSuchOperator(userId)();
  return updated;
}

/** An operator goes with their consents and tokens, as any user does; the console refuses their token within a second. */
export async function removeOperator(stores: Stores, userId: string, actor: Actor): Promise<void> {
  const operator = await findOperator(stores.durable, userId);
  checkOperatorRemovable(operator, actor.type === 'user' ? actor.id : undefined, await otherAdmins(stores.durable, userId));
  await deleteUserRecords(stores, [userId]);
}

export interface OperatorBootstrap {
  /** Whether operators existed before this start. */
  hasOperators: boolean;
  /** The first operator's email, when it was made from GATEHOUSE_ADMIN_EMAIL just now. */
  created?: string;
  /** A first-start link to print (development, when no operator exists and none is configured). */
  signUpUrl?: string;
}

/**
 * The first operator: from GATEHOUSE_ADMIN_EMAIL / GATEHOUSE_ADMIN_PASSWORD when no operator exists yet; otherwise,
 * outside production, a single-use sign-up link (earlier first-start links stop working).
 */
export async function bootstrapOperators(
  store: DurableStore, issuer: string, settings: { email: string | null; password: string | null; allowSignUpLink: boolean },
): Promise<OperatorBootstrap> {
  if ((await listOperators(store)).length) return { hasOperators: true };
  if (settings.email && settings.password) {
    const user: User = {
      ...draftUser({ connection: OPERATOR_CONNECTION, email: settings.email, password: settings.password, email_verified: true }, `auth0|${newHexId()}`, await hashPassword(settings.password), now()),
      operator_role: 'admin',
    };
    await store.users.insertIfAbsent(user);
    return { hasOperators: false, created: user.email };
  }
  if (!settings.allowSignUpLink) return { hasOperators: false };
  await store.operatorInvitations.deleteMany({ invited_by: FIRST_START });
  const { url } = await inviteOperator(store, issuer, { role: 'admin' }, FIRST_START);
  return { hasOperators: false, signUpUrl: url };
}
