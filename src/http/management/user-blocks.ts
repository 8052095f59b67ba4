import type { LoginLockout } from '../../services/sign-in.ts';
import { unblockIdentifier, unblockUser, userBlocksByIdentifier, userBlocksOfUser } from '../../services/user-blocks.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, noContentAfter, reply, type Operation } from './operation.ts';
import { userBlocksByIdentifierQuery, userBlocksQuery, userBlocksResponse, userUnblockByIdentifierQuery } from './schemas.ts';

const tag = 'User blocks';

/** Auth0's user blocks: see and lift the brute-force block that failed sign-ins put on an account. */
export function userBlockOperations(stores: Stores, lockout: LoginLockout): Operation[] {
  const { durable } = stores;
  return [
    defineOperation<{ identifier: string }>({
      method: 'get', path: '/user-blocks', scope: 'read:users', tag, summary: 'Get the brute-force blocks of an identifier (email)',
      query: userBlocksByIdentifierQuery, response: { status: 200, description: 'The blocks', schema: userBlocksResponse }, errors: [],
      handle: async ({ query }) => reply(await userBlocksByIdentifier(durable, lockout, query.identifier)),
    }),
    defineOperation<{ identifier: string }>({
      method: 'delete', path: '/user-blocks', scope: 'update:users', tag,
      summary: 'Lift the brute-force blocks of an identifier (email); a user blocked by an administrator stays blocked',
      query: userUnblockByIdentifierQuery, response: { status: 204, description: 'Unblocked' }, errors: [],
      handle: ({ query }) => noContentAfter(unblockIdentifier(lockout, query.identifier)),
    }),
    defineOperation({
      method: 'get', path: '/user-blocks/:id', scope: 'read:users', tag, summary: 'Get the brute-force blocks of a user',
      query: userBlocksQuery, response: { status: 200, description: 'The blocks', schema: userBlocksResponse }, errors: [404],
      handle: async ({ params }) => reply(await userBlocksOfUser(durable, lockout, params.id)),
    }),
    defineOperation({
      method: 'delete', path: '/user-blocks/:id', scope: 'update:users', tag,
      summary: 'Lift the brute-force blocks of a user; a user blocked by an administrator stays blocked',
      response: { status: 204, description: 'Unblocked' }, errors: [404],
      handle: ({ params }) => noContentAfter(unblockUser(durable, lockout, params.id)),
    }),
  ];
}
