import { newId } from '../domain/ids.ts';
import type { NetworkAcl } from '../domain/model.ts';
import { evaluateNetworkAcls, type AclSurface, type NetworkAccessDecision, type RequestSignals } from '../domain/network-access.ts';
import {
  draftNetworkAcl, patchNetworkAcl, replaceNetworkAcl, type NetworkAclInput, type NetworkAclPatch, type SignalAvailability,
} from '../domain/network-acl-rules.ts';
import type { DurableStore } from '../store/index.ts';
import { editEntity, findPage, getOrThrow, missing, now, writeUnique, type Page, type PageRequest } from './entities.ts';

const noSuchNetworkAcl = (id: string) => missing('inexistent_network_acl', `The network ACL ${id} does not exist`);

export const findNetworkAcl = (store: DurableStore, id: string) => getOrThrow(store.networkAcls, id, noSuchNetworkAcl(id));

/** Rules are evaluated in priority order, so two rules cannot share one. */
const priorityTaken = (priority: number | undefined) => `Another network ACL has the priority ${priority}`;

export async function createNetworkAcl(store: DurableStore, input: NetworkAclInput, signals: SignalAvailability): Promise<NetworkAcl> {
  const acl = draftNetworkAcl(input, newId('acl_'), now(), signals);
  await writeUnique(() => store.networkAcls.insert(acl), priorityTaken(acl.priority));
  return acl;
}

export const listNetworkAcls = (store: DurableStore, page: PageRequest): Promise<Page<NetworkAcl>> => findPage(store.networkAcls, {}, page);

async function editNetworkAcl(store: DurableStore, id: string, edit: (existing: NetworkAcl) => NetworkAcl): Promise<NetworkAcl> {
  let priority: number | undefined;
  return writeUnique(() => editEntity(store.networkAcls, id, noSuchNetworkAcl(id), (existing) => {
    const next = edit(existing);
    priority = next.priority;
    return next;
  }), () => priorityTaken(priority));
}

export const replaceNetworkAclById = (store: DurableStore, id: string, input: NetworkAclInput, signals: SignalAvailability) =>
  editNetworkAcl(store, id, (existing) => replaceNetworkAcl(existing, input, now(), signals));

export const patchNetworkAclById = (store: DurableStore, id: string, patch: NetworkAclPatch, signals: SignalAvailability) =>
  editNetworkAcl(store, id, (existing) => patchNetworkAcl(existing, patch, now(), signals));

export async function deleteNetworkAcl(store: DurableStore, id: string): Promise<void> {
  await findNetworkAcl(store, id);
  await store.networkAcls.delete(id);
}

/**
 * The one place that decides whether the network ACLs let a request reach a surface, for every surface. The rules are
 * read once per request through the store's read cache, which every process drops as soon as an ACL changes anywhere
 * (src/store/read-cache.ts), so that a change applies at once here and within a second everywhere.
 */
export async function checkNetworkAccess(store: DurableStore, surface: AclSurface, request: RequestSignals): Promise<NetworkAccessDecision> {
  return evaluateNetworkAcls(await store.networkAcls.find(), surface, request);
}
