import type { NetworkAclInput, NetworkAclPatch, SignalAvailability } from '../../domain/network-acl-rules.ts';
import {
  createNetworkAcl, deleteNetworkAcl, findNetworkAcl, listNetworkAcls, patchNetworkAclById, replaceNetworkAclById,
} from '../../services/network-acls.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, listReply, noContentAfter, reply, type ListQuery, type Operation } from './operation.ts';
import { listQuery, listResponse, networkAclBody, networkAclPatchBody, networkAclResponse } from './schemas.ts';

const tag = 'Network ACLs';
const acl = { description: 'The network ACL', schema: networkAclResponse };

/**
 * Tenant access control rules; stored here, enforced in front of the endpoints their scope names
 * (src/http/network-guard.ts). A rule may use only the signals this deployment can observe.
 */
export function networkAclOperations(stores: Stores, signals: SignalAvailability): Operation[] {
  const { durable } = stores;
  return [
    defineOperation<Record<string, never>, NetworkAclInput>({
      method: 'post', path: '/network-acls', scope: 'create:network_acls', tag, summary: 'Create a network ACL',
      body: networkAclBody, response: { status: 201, ...acl }, errors: [409],
      handle: async ({ body }) => reply(await createNetworkAcl(durable, body, signals), 201),
    }),
    defineOperation<ListQuery>({
      method: 'get', path: '/network-acls', scope: 'read:network_acls', tag, summary: 'List network ACLs',
      query: listQuery(), response: { status: 200, description: 'Network ACLs', schema: listResponse('network_acls', networkAclResponse) }, errors: [],
      handle: async ({ query }) => listReply('network_acls', await listNetworkAcls(durable, query), (rule) => rule),
    }),
    defineOperation({
      method: 'get', path: '/network-acls/:id', scope: 'read:network_acls', tag, summary: 'Get a network ACL',
      response: { status: 200, ...acl }, errors: [404],
      handle: async ({ params }) => reply(await findNetworkAcl(durable, params.id)),
    }),
    defineOperation<Record<string, never>, NetworkAclInput>({
      method: 'put', path: '/network-acls/:id', scope: 'update:network_acls', tag, summary: 'Replace a network ACL',
      body: networkAclBody, response: { status: 200, ...acl }, errors: [404, 409],
      handle: async ({ params, body }) => reply(await replaceNetworkAclById(durable, params.id, body, signals)),
    }),
    defineOperation<Record<string, never>, NetworkAclPatch>({
      method: 'patch', path: '/network-acls/:id', scope: 'update:network_acls', tag, summary: 'Update a network ACL',
      body: networkAclPatchBody, response: { status: 200, ...acl }, errors: [404, 409],
      handle: async ({ params, body }) => reply(await patchNetworkAclById(durable, params.id, body, signals)),
    }),
    defineOperation({
      method: 'delete', path: '/network-acls/:id', scope: 'delete:network_acls', tag, summary: 'Delete a network ACL',
      response: { status: 204, description: 'Deleted' }, errors: [404],
      handle: ({ params }) => noContentAfter(deleteNetworkAcl(durable, params.id)),
    }),
  ];
}
