import type { UserCreate, UserPatch } from '../../domain/user-rules.ts';
import { createUser, deleteUser, findUser, findUsersByEmail, listUsers, updateUser } from '../../services/users.ts';
import type { Stores } from '../../store/index.ts';
import { ApiError } from '../errors.ts';
import { defineOperation, listReply, noContentAfter, reply, type ListQuery, type Operation } from './operation.ts';
import { listResponse, userCreateBody, userListQuery, userPatchBody, userResponse, usersByEmailQuery } from './schemas.ts';
import { publicUser } from './serialize.ts';

const tag = 'Users';

/**
 * The part of Auth0's user search (Lucene syntax) that Gatehouse answers: `email:"jane@example.com"` or
 * `email:jane@example.com`. Anything else is refused rather than silently ignored.
 */
export function emailFromSearch(q: string): string {
  const match = /^\s*email:(?:"([^"]+)"|([^\s"]+))\s*$/.exec(q);
  const email = match?.[1] ?? match?.[2];
  if (!email) throw new ApiError(400, 'invalid_query_string', 'Query validation error: q supports only an email search, such as email:"jane@example.com"');
  return email;
}

export function userOperations(stores: Stores): Operation[] {
  const { durable } = stores;
  return [
    defineOperation<Record<string, never>, UserCreate>({
      method: 'post', path: '/users', scope: 'create:users', tag, summary: 'Create a user in a database connection',
      body: userCreateBody, response: { status: 201, description: 'The user', schema: userResponse }, errors: [409],
      handle: async ({ body }) => reply(publicUser(await createUser(durable, body)), 201),
    }),
    defineOperation<ListQuery & { q?: string; search_engine?: 'v3' }>({
      method: 'get', path: '/users', scope: 'read:users', tag, summary: 'List users, or find them by email',
      query: userListQuery, response: { status: 200, description: 'Users', schema: listResponse('users', userResponse) }, errors: [],
      handle: async ({ query }) => {
        const { q, search_engine: _engine, ...page } = query;
        return listReply('users', await listUsers(durable, q === undefined ? undefined : emailFromSearch(q), page), publicUser);
      },
    }),
    defineOperation<{ email: string }>({
      method: 'get', path: '/users-by-email', scope: 'read:users', tag, summary: 'Find users by email',
      query: usersByEmailQuery, response: { status: 200, description: 'Users with this email', schema: { type: 'array', items: userResponse } }, errors: [],
      handle: async ({ query }) => reply((await findUsersByEmail(durable, query.email)).map(publicUser)),
    }),
    defineOperation({
      method: 'get', path: '/users/:id', scope: 'read:users', tag, summary: 'Get a user',
      response: { status: 200, description: 'The user', schema: userResponse }, errors: [404],
      handle: async ({ params }) => reply(publicUser(await findUser(durable, params.id))),
    }),
    defineOperation<Record<string, never>, UserPatch>({
      method: 'patch', path: '/users/:id', scope: 'update:users', tag, summary: 'Update a user',
      body: userPatchBody, response: { status: 200, description: 'The updated user', schema: userResponse }, errors: [404, 409],
      handle: async ({ params, body }) => reply(publicUser(await updateUser(durable, params.id, body))),
    }),
    defineOperation({
      method: 'delete', path: '/users/:id', scope: 'delete:users', tag, summary: 'Delete a user and their consents (with their tokens)',
      response: { status: 204, description: 'Deleted' }, errors: [404],
      handle: ({ params }) => noContentAfter(deleteUser(stores, params.id)),
    }),
  ];
}
