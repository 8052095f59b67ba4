import { newId } from '../domain/ids.ts';
import type { NetworkAcl } from '../domain/model.ts';
import { evaluateNetworkAcls, type AclSurface, type NetworkAccessDecision, type RequestSignals } from '../domain/network-access.ts';
import {
  draftNetworkAcl, patchNetworkAcl, replaceNetworkAcl, type NetworkAclInput, type NetworkAclPatch, type SignalAvailability,
} from '../domain/network-acl-rules.ts';
import type { DurableStore } from '../store/index.ts';
import { findPage, getOrThrow, now, writeUnique, type Page, type PageRequest } from './entities.ts';

export const findNetworkAcl = (store: DurableStore, id: string) =>
  getOrThrow(store.networkAcls, id, 'inexistent_network_acl', `The network ACL ${id} does not exist`);

/** Rules are evaluated in priority order, so two rules cannot share one. */
async function save(acl: NetworkAcl, write: (acl: NetworkAcl) => Promise<unknown>): Promise<NetworkAcl> {
  await writeUnique(() => write(acl), `Another network ACL has the priority ${acl.priority}`);
  return acl;
}

export const createNetworkAcl = (store: DurableStore, input: NetworkAclInput, signals: SignalAvailability) =>
  save(draftNetworkAcl(input, newId('acl_'), now(), signals), (acl) => store.networkAcls.insert(acl));

export const listNetworkAcls = (store: DurableStore, page: PageRequest): Promise<Page<NetworkAcl>> => findPage(store.networkAcls, {}, page);

export const replaceNetworkAclById = async (store: DurableStore, id: string, input: NetworkAclInput, signals: SignalAvailability) =>
  save(replaceNetworkAcl(await findNetworkAcl(store, id), input, now(), signals), (acl) => store.networkAcls.replace(acl));

export const patchNetworkAclById = async (store: DurableStore, id: string, patch: NetworkAclPatch, signals: SignalAvailability) =>
  save(patchNetworkAcl(await findNetworkAcl(store, id), patch, now(), signals), (acl) => store.networkAcls.replace(acl));

export async function deleteNetworkAcl(store: DurableStore, id: string): Promise<void> {
  await findNetworkAcl(store, id);
  await store.networkAcls.delete(id);
}

/**
 * The one place that decides whether the network ACLs let a request reach a surface, for every surface. The rules are
 * read once per request and never cached, so that a change applies at once in every process.
 */
export async function checkNetworkAccess(store: DurableStore, surface: AclSurface, request: RequestSignals): Promise<NetworkAccessDecision> {
  return evaluateNetworkAcls(await store.networkAcls.find(), surface, request);
}
