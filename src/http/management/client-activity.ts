import { listApplicationUsage, type ApplicationUsage } from '../../services/connection-activity.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, listReply, type ListQuery, type Operation } from './operation.ts';
import { clientActivityQuery, clientActivityResponse, listResponse } from './schemas.ts';

const usageOf = ({ application: app, last_used_at, connections }: ApplicationUsage) => ({
  client_id: app.client_id, name: app.name, app_type: app.app_type, is_first_party: app.is_first_party, registration_type: app.registration_type,
  created_at: app.created_at, ...(last_used_at ? { last_used_at } : {}), connections,
});

/** Which applications are used, and which not for N days (revoke their connections with DELETE /grants?client_id=). */
export function clientActivityOperations(stores: Stores): Operation[] {
  return [
    defineOperation<ListQuery & { unused_for_days?: number }>({
      method: 'get', path: '/client-activity', scope: 'read:clients', tag: 'Clients', summary: 'List applications with their last use; unused ones with unused_for_days',
      query: clientActivityQuery, response: { status: 200, description: 'Applications and their use', schema: listResponse('clients', clientActivityResponse) }, errors: [],
      handle: async ({ query }) => {
        const { unused_for_days, ...page } = query;
        return listReply('clients', await listApplicationUsage(stores.durable, { ...page, ...(unused_for_days ? { unusedForDays: unused_for_days } : {}) }), usageOf);
      },
    }),
  ];
}
