import { listUserGrants, revokeAllUserGrants, revokeUserGrantById } from '../../services/user-grants.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, listReply, noContentAfter, type ListQuery, type Operation } from './operation.ts';
import { listResponse, userGrantDeleteQuery, userGrantListQuery, userGrantResponse } from './schemas.ts';
import { publicUserGrant } from './serialize.ts';

const tag = 'Grants';

/** User grants: what users consented to. Revoking one revokes every token issued under it. */
export function grantOperations(stores: Stores): Operation[] {
  return [
    defineOperation<ListQuery & { user_id?: string; client_id?: string; audience?: string }>({
      method: 'get', path: '/grants', scope: 'read:grants', tag, summary: 'List the consents users gave',
      query: userGrantListQuery, response: { status: 200, description: 'Grants', schema: listResponse('grants', userGrantResponse) }, errors: [],
      handle: async ({ query }) => {
        const { user_id, client_id, audience, ...page } = query;
        return listReply('grants', await listUserGrants(stores.durable, { user_id, clientID: client_id, audience }, page), publicUserGrant);
      },
    }),
    defineOperation({
      method: 'delete', path: '/grants/:id', scope: 'delete:grants', tag, summary: 'Revoke a consent and the tokens issued under it',
      response: { status: 204, description: 'Revoked' }, errors: [404],
      handle: ({ params }) => noContentAfter(revokeUserGrantById(stores, params.id)),
    }),
    defineOperation<{ user_id: string }>({
      method: 'delete', path: '/grants', scope: 'delete:grants', tag, summary: 'Revoke every consent of a user and the tokens issued under them',
      query: userGrantDeleteQuery, response: { status: 204, description: 'Revoked' }, errors: [],
      handle: ({ query }) => noContentAfter(revokeAllUserGrants(stores, query.user_id)),
    }),
  ];
}
