import type { ConnectionCreate, ConnectionPatch } from '../../domain/connection-rules.ts';
import type { Connection } from '../../domain/model.ts';
import { createConnection, deleteConnection, findConnection, listConnections, updateConnection } from '../../services/connections.ts';
import type { Stores } from '../../store/index.ts';
import { publicConnection } from './serialize.ts';
import { defineOperation, listReply, noContentAfter, reply, type ListQuery, type Operation } from './operation.ts';
import { connectionCreateBody, connectionListQuery, connectionPatchBody, connectionResponse, listResponse } from './schemas.ts';

const tag = 'Connections';

export function connectionOperations(stores: Stores, issuer: string): Operation[] {
  const { durable } = stores;
  return [
    defineOperation<Record<string, never>, ConnectionCreate>({
      method: 'post', path: '/connections', scope: 'create:connections', tag, summary: 'Create a connection (database, enterprise OpenID Connect, OAuth 2.0, social); a provider is checked before it is stored',
      body: connectionCreateBody, response: { status: 201, description: 'The connection', schema: connectionResponse }, errors: [409],
      handle: async ({ body }) => reply(publicConnection(await createConnection(durable, issuer, body)), 201),
    }),
    defineOperation<ListQuery & Pick<Partial<Connection>, 'name' | 'strategy'>>({
      method: 'get', path: '/connections', scope: 'read:connections', tag, summary: 'List connections',
      query: connectionListQuery, response: { status: 200, description: 'Connections', schema: listResponse('connections', connectionResponse, { checkpoint: true }) }, errors: [],
      handle: async ({ query }) => {
        const { name, strategy, ...page } = query;
        return listReply('connections', await listConnections(durable, { name, strategy }, page), publicConnection);
      },
    }),
    defineOperation({
      method: 'get', path: '/connections/:id', scope: 'read:connections', tag, summary: 'Get a connection',
      response: { status: 200, description: 'The connection', schema: connectionResponse }, errors: [404],
      handle: async ({ params }) => reply(publicConnection(await findConnection(durable, params.id))),
    }),
    defineOperation<Record<string, never>, ConnectionPatch>({
      method: 'patch', path: '/connections/:id', scope: 'update:connections', tag,
      summary: 'Update a connection (promote it to the domain level, choose its applications, replace its options)',
      body: connectionPatchBody, response: { status: 200, description: 'The updated connection', schema: connectionResponse }, errors: [404],
      handle: async ({ params, body }) => reply(publicConnection(await updateConnection(durable, issuer, params.id, body))),
    }),
    defineOperation({
      method: 'delete', path: '/connections/:id', scope: 'delete:connections', tag, summary: 'Delete a connection and its users',
      response: { status: 204, description: 'Deleted' }, errors: [404],
      handle: ({ params }) => noContentAfter(deleteConnection(stores, params.id)),
    }),
  ];
}
