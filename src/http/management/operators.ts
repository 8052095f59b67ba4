import type { InvitationCreate } from '../../domain/operators.ts';
import type { OperatorInvitation, OperatorRole, User } from '../../domain/model.ts';
import {
  changeOperatorRole, findOperator, inviteOperator, listInvitations, listOperators, removeOperator, revokeInvitation,
} from '../../services/operators.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, noContentAfter, reply, type Operation } from './operation.ts';
import { invitationCreateBody, invitationResponse, operatorPatchBody, operatorResponse } from './schemas.ts';

const tag = 'Operators';

/** An operator as the console shows them: who, with which role (never their password hash). */
export const publicOperator = (user: User) => ({
  user_id: user.user_id,
  email: user.email,
  ...(user.name === undefined ? {} : { name: user.name }),
  role: user.operator_role,
  blocked: user.blocked,
  logins_count: user.logins_count,
  ...(user.last_login === undefined ? {} : { last_login: user.last_login }),
  created_at: user.created_at,
  updated_at: user.updated_at,
});

const publicInvitation = (invitation: OperatorInvitation, url?: string) => {
  const { token_hash: _hash, ...rest } = invitation;
  return url === undefined ? rest : { ...rest, invitation_url: url };
};

/**
 * Operators: the people who sign in to the console, each a user of the reserved operators' connection with a role.
 * Invitations are single-use links (only their digest is stored); the link is returned once, to whoever invites.
 */
export function operatorOperations(stores: Stores, issuer: string): Operation[] {
  const { durable } = stores;
  return [
    defineOperation({
      method: 'get', path: '/operators', scope: 'read:operators', tag, summary: 'List the operators',
      response: { status: 200, description: 'Operators', schema: { type: 'array', items: operatorResponse } }, errors: [],
      handle: async () => reply((await listOperators(durable)).map(publicOperator)),
    }),
    defineOperation({
      method: 'get', path: '/operators/invitations', scope: 'read:operators', tag, summary: 'List the invitations not used yet',
      response: { status: 200, description: 'Invitations', schema: { type: 'array', items: invitationResponse } }, errors: [],
      handle: async () => reply((await listInvitations(durable)).map((invitation) => publicInvitation(invitation))),
    }),
    defineOperation<Record<string, never>, InvitationCreate>({
      method: 'post', path: '/operators/invitations', scope: 'create:operators', tag,
      summary: 'Invite an operator: returns a single-use link, valid for 72 hours, shown this once',
      body: invitationCreateBody, response: { status: 201, description: 'The invitation and its link', schema: invitationResponse }, errors: [],
      handle: async ({ body, actor }) => {
        const { invitation, url } = await inviteOperator(durable, issuer, body, actor.id);
        return reply(publicInvitation(invitation, url), 201);
      },
    }),
    defineOperation({
      method: 'delete', path: '/operators/invitations/:id', scope: 'delete:operators', tag, summary: 'Revoke an invitation',
      response: { status: 204, description: 'Revoked' }, errors: [404],
      handle: ({ params }) => noContentAfter(revokeInvitation(durable, params.id)),
    }),
    defineOperation({
      method: 'get', path: '/operators/:id', scope: 'read:operators', tag, summary: 'Get an operator',
      response: { status: 200, description: 'The operator', schema: operatorResponse }, errors: [404],
      handle: async ({ params }) => reply(publicOperator(await findOperator(durable, params.id))),
    }),
    defineOperation<Record<string, never>, { role: OperatorRole }>({
      method: 'patch', path: '/operators/:id', scope: 'update:operators', tag,
      summary: 'Change an operator\'s role (never your own, never the last admin\'s)',
      body: operatorPatchBody, response: { status: 200, description: 'The operator', schema: operatorResponse }, errors: [404],
      handle: async ({ params, body, actor }) => reply(publicOperator(await changeOperatorRole(durable, params.id, body.role, actor))),
    }),
    defineOperation({
      method: 'delete', path: '/operators/:id', scope: 'delete:operators', tag,
      summary: 'Remove an operator (never yourself, never the last admin): their console session stops working within a second',
      response: { status: 204, description: 'Removed' }, errors: [404],
      handle: ({ params, actor }) => noContentAfter(removeOperator(stores, params.id, actor)),
    }),
  ];
}
