import type { ResourceServer } from '../../domain/model.ts';
import type { ResourceServerCreate, ResourceServerPatch } from '../../domain/resource-server-rules.ts';
import {
  createResourceServer, deleteResourceServer, findResourceServer, listResourceServers, updateResourceServer,
} from '../../services/resource-servers.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, listReply, noContentAfter, replyWithSecret, type ListQuery, type Operation } from './operation.ts';
import { listedResourceServer } from './serialize.ts';
import { listResponse, resourceServerCreateBody, resourceServerListQuery, resourceServerPatchBody, resourceServerResponse } from './schemas.ts';

const tag = 'Resource servers';
const byIdOrIdentifier = 'an API (by id or URL-encoded identifier)';
/** An HS256 API's answer holds its signing secret. */
const withSecret = (api: ResourceServer, status = 200) => replyWithSecret(api, api.signing_secret !== undefined, status);

export function resourceServerOperations(stores: Stores): Operation[] {
  const { durable } = stores;
  return [
    defineOperation<Record<string, never>, ResourceServerCreate>({
      method: 'post', path: '/resource-servers', scope: 'create:resource_servers', tag, summary: 'Create an API',
      body: resourceServerCreateBody, response: { status: 201, description: 'The API', schema: resourceServerResponse }, errors: [409],
      handle: async ({ body }) => withSecret(await createResourceServer(durable, body), 201),
    }),
    defineOperation<ListQuery & { identifiers?: string[] }>({
      method: 'get', path: '/resource-servers', scope: 'read:resource_servers', tag, summary: 'List APIs',
      query: resourceServerListQuery, response: { status: 200, description: 'APIs', schema: listResponse('resource_servers', resourceServerResponse) }, errors: [],
      handle: async ({ query }) => {
        const { identifiers, ...page } = query;
        return listReply('resource_servers', await listResourceServers(durable, identifiers, page), listedResourceServer);
      },
    }),
    defineOperation({
      method: 'get', path: '/resource-servers/:id', scope: 'read:resource_servers', tag, summary: `Get ${byIdOrIdentifier}`,
      response: { status: 200, description: 'The API', schema: resourceServerResponse }, errors: [404],
      handle: async ({ params }) => withSecret(await findResourceServer(durable, params.id)),
    }),
    defineOperation<Record<string, never>, ResourceServerPatch>({
      method: 'patch', path: '/resource-servers/:id', scope: 'update:resource_servers', tag,
      summary: `Update ${byIdOrIdentifier}; the identifier cannot change, and on a system API only token_lifetime and token_lifetime_for_web`,
      body: resourceServerPatchBody, response: { status: 200, description: 'The updated API', schema: resourceServerResponse }, errors: [404],
      handle: async ({ params, body }) => withSecret(await updateResourceServer(durable, params.id, body)),
    }),
    defineOperation({
      method: 'delete', path: '/resource-servers/:id', scope: 'delete:resource_servers', tag,
      summary: `Delete ${byIdOrIdentifier}, its client grants and the consents given to it (with their tokens)`,
      response: { status: 204, description: 'Deleted' }, errors: [404],
      handle: ({ params }) => noContentAfter(deleteResourceServer(stores, params.id)),
    }),
  ];
}
