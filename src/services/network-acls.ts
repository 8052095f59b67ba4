import { newId } from '../domain/ids.ts';
import type { NetworkAcl } from '../domain/model.ts';
import { draftNetworkAcl, patchNetworkAcl, replaceNetworkAcl, type NetworkAclInput, type NetworkAclPatch } from '../domain/network-acl-rules.ts';
import type { DurableStore } from '../store/index.ts';
import { findPage, getOrThrow, now, writeUnique, type Page, type PageRequest } from './entities.ts';

export const findNetworkAcl = (store: DurableStore, id: string) =>
  getOrThrow(store.networkAcls, id, 'inexistent_network_acl', `The network ACL ${id} does not exist`);

/** Rules are evaluated in priority order, so two rules cannot share one. */
async function save(acl: NetworkAcl, write: (acl: NetworkAcl) => Promise<unknown>): Promise<NetworkAcl> {
  await writeUnique(() => write(acl), `Another network ACL has the priority ${acl.priority}`);
  return acl;
}

export const createNetworkAcl = (store: DurableStore, input: NetworkAclInput) =>
  save(draftNetworkAcl(input, newId('acl_'), now()), (acl) => store.networkAcls.insert(acl));

export const listNetworkAcls = (store: DurableStore, page: PageRequest): Promise<Page<NetworkAcl>> => findPage(store.networkAcls, {}, page);

export const replaceNetworkAclById = async (store: DurableStore, id: string, input: NetworkAclInput) =>
  save(replaceNetworkAcl(await findNetworkAcl(store, id), input, now()), (acl) => store.networkAcls.replace(acl));

export const patchNetworkAclById = async (store: DurableStore, id: string, patch: NetworkAclPatch) =>
  save(patchNetworkAcl(await findNetworkAcl(store, id), patch, now()), (acl) => store.networkAcls.replace(acl));

export async function deleteNetworkAcl(store: DurableStore, id: string): Promise<void> {
  await findNetworkAcl(store, id);
  await store.networkAcls.delete(id);
}
