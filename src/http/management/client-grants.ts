import type { ClientGrantCreate, ClientGrantPatch } from '../../domain/client-grant-rules.ts';
import type { ClientGrant } from '../../domain/model.ts';
import { createClientGrant, deleteClientGrant, findClientGrant, listClientGrants, updateClientGrant } from '../../services/client-grants.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, listReply, noContentAfter, reply, type ListQuery, type Operation } from './operation.ts';
import { clientGrantCreateBody, clientGrantListQuery, clientGrantPatchBody, clientGrantResponse, listResponse } from './schemas.ts';

const tag = 'Client grants';

export function clientGrantOperations(stores: Stores): Operation[] {
  const { durable } = stores;
  return [
    defineOperation<Record<string, never>, ClientGrantCreate>({
      method: 'post', path: '/client-grants', scope: 'create:client_grants', tag,
      summary: 'Grant an application (or, by default, every third-party application) access to an API',
      body: clientGrantCreateBody, response: { status: 201, description: 'The client grant', schema: clientGrantResponse }, errors: [404, 409],
      handle: async ({ body }) => reply(await createClientGrant(durable, body), 201),
    }),
    defineOperation<ListQuery & Pick<Partial<ClientGrant>, 'audience' | 'client_id' | 'subject_type' | 'default_for'>>({
      method: 'get', path: '/client-grants', scope: 'read:client_grants', tag, summary: 'List client grants',
      query: clientGrantListQuery, response: { status: 200, description: 'Client grants', schema: listResponse('client_grants', clientGrantResponse, { checkpoint: true }) }, errors: [],
      handle: async ({ query }) => {
        const { audience, client_id, subject_type, default_for, ...page } = query;
        return listReply('client_grants', await listClientGrants(durable, { audience, client_id, subject_type, default_for }, page), (grant) => grant);
      },
    }),
    defineOperation({
      method: 'get', path: '/client-grants/:id', scope: 'read:client_grants', tag, summary: 'Get a client grant',
      response: { status: 200, description: 'The client grant', schema: clientGrantResponse }, errors: [404],
      handle: async ({ params }) => reply(await findClientGrant(durable, params.id)),
    }),
    defineOperation<Record<string, never>, ClientGrantPatch>({
      method: 'patch', path: '/client-grants/:id', scope: 'update:client_grants', tag, summary: 'Change the scopes a client grant allows',
      body: clientGrantPatchBody, response: { status: 200, description: 'The updated client grant', schema: clientGrantResponse }, errors: [404],
      handle: async ({ params, body }) => reply(await updateClientGrant(durable, params.id, body)),
    }),
    defineOperation({
      method: 'delete', path: '/client-grants/:id', scope: 'delete:client_grants', tag, summary: 'Delete a client grant',
      response: { status: 204, description: 'Deleted' }, errors: [404],
      handle: ({ params }) => noContentAfter(deleteClientGrant(durable, params.id)),
    }),
  ];
}
