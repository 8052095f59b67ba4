import { invalidQuery } from '../../domain/errors.ts';
import type { ConnectionActivity } from '../../domain/model.ts';
import { activityOfGrants } from '../../services/connection-activity.ts';
import { findApplication } from '../../services/applications.ts';
import { listUserGrants, revokeAllUserGrants, revokeApplicationConsents, revokeUserGrantById } from '../../services/user-grants.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, listReply, noContentAfter, type ListQuery, type Operation } from './operation.ts';
import { listResponse, userGrantDeleteQuery, userGrantListQuery, userGrantResponse } from './schemas.ts';
import { publicUserGrant } from './serialize.ts';

const tag = 'Grants';

const activityFields = (activity: ConnectionActivity | undefined) => (activity
  ? { activity: { first_used_at: activity.first_used_at, last_used_at: activity.last_used_at, tokens_issued: activity.tokens_issued } }
  : {});

/** User grants: what users consented to, and how the application used it. Revoking one revokes every token issued under it. */
export function grantOperations(stores: Stores): Operation[] {
  return [
    defineOperation<ListQuery & { user_id?: string; client_id?: string; audience?: string }>({
      method: 'get', path: '/grants', scope: 'read:grants', tag, summary: 'List the consents users gave',
      query: userGrantListQuery, response: { status: 200, description: 'Grants', schema: listResponse('grants', userGrantResponse) }, errors: [],
      handle: async ({ query }) => {
        const { user_id, client_id, audience, ...page } = query;
        const grants = await listUserGrants(stores.durable, { user_id, clientID: client_id, audience }, page);
        const activity = await activityOfGrants(stores.durable, grants.items);
        return listReply('grants', grants, (grant) => ({ ...publicUserGrant(grant), ...activityFields(activity.get(grant.id)) }));
      },
    }),
    defineOperation({
      method: 'delete', path: '/grants/:id', scope: 'delete:grants', tag, summary: 'Revoke a consent and the tokens issued under it',
      response: { status: 204, description: 'Revoked' }, errors: [404],
      handle: ({ params }) => noContentAfter(revokeUserGrantById(stores, params.id)),
    }),
    defineOperation<{ user_id?: string; client_id?: string }>({
      method: 'delete', path: '/grants', scope: 'delete:grants', tag,
      summary: 'Revoke every consent of a user, or every connection of an application, and the tokens issued under them',
      query: userGrantDeleteQuery, response: { status: 204, description: 'Revoked' }, errors: [404],
      handle: ({ query }) => {
        if (!query.user_id && !query.client_id) throw invalidQuery('\'Missing required property: user_id\' (or client_id, to revoke every connection of an application)');
        if (query.user_id && query.client_id) throw invalidQuery('give user_id (every consent of a user) or client_id (every connection of an application), not both');
        if (query.user_id) return noContentAfter(revokeAllUserGrants(stores, query.user_id));
        const clientId = query.client_id as string;
        return noContentAfter(findApplication(stores.durable, clientId).then(() => revokeApplicationConsents(stores, clientId)));
      },
    }),
  ];
}
