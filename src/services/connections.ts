import { draftConnection, patchConnection, type ConnectionCreate, type ConnectionPatch } from '../domain/connection-rules.ts';
import { conflict, invalidBody } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { Connection } from '../domain/model.ts';
import { upstreamCallbackUrl } from '../domain/links.ts';
import { isUpstream } from '../domain/upstream.ts';
import { checkConnectionChangeable } from '../domain/operators.ts';
import type { DurableStore, Filter, Stores } from '../store/index.ts';
import { editEntity, findPage, getOrThrow, missing, now, writeUnique, type Page, type PageRequest } from './entities.ts';
import { checkUpstream, UpstreamError } from './upstream.ts';
import { deleteUserRecords } from './users.ts';

const noSuchConnection = (id: string) => missing('inexistent_connection', `The connection ${id} does not exist`);

export const findConnection = (store: DurableStore, id: string) => getOrThrow(store.connections, id, noSuchConnection(id));

async function checkClientsExist(store: DurableStore, clientIds: readonly string[] | undefined): Promise<void> {
  for (const clientId of clientIds ?? []) {
    if (!(await store.applications.get(clientId))) throw invalidBody(`enabled_clients entry ${clientId} is not an existing client`);
  }
}

const nameTaken = (name: string) => `A connection with the name ${name} already exists`;

/** A connection to an upstream provider is stored only once the provider answers and accepts its credentials. */
async function checkProvider(connection: Connection, issuer: string): Promise<void> {
  if (!isUpstream(connection)) return;
  try {
    await checkUpstream(connection, upstreamCallbackUrl(issuer));
  } catch (err) {
    if (err instanceof UpstreamError) throw invalidBody(`The ${connection.strategy} connection ${connection.name} cannot be used: ${err.message}`);
    throw err;
  }
}

export async function createConnection(store: DurableStore, issuer: string, input: ConnectionCreate): Promise<Connection> {
  await checkClientsExist(store, input.enabled_clients);
  const connection = draftConnection(input, newId('con_'), now());
  if (await store.connections.count({ name: connection.name })) throw conflict(nameTaken(connection.name));
  await checkProvider(connection, issuer);
  await writeUnique(() => store.connections.insert(connection), nameTaken(connection.name));
  return connection;
}

export function listConnections(store: DurableStore, filter: Filter<Connection>, page: PageRequest): Promise<Page<Connection>> {
  return findPage(store.connections, filter, page, 'id');
}

export async function updateConnection(store: DurableStore, issuer: string, id: string, patch: ConnectionPatch): Promise<Connection> {
  await checkClientsExist(store, patch.enabled_clients);
  return editEntity(store.connections, id, noSuchConnection(id), async (existing) => {
    const next = patchConnection(existing, patch, now());
    if (patch.options) await checkProvider(next, issuer);
    return next;
  });
}

/** As in Auth0, a connection takes its users with it (and their consents, with the tokens issued under them). */
export async function deleteConnection(stores: Stores, id: string): Promise<void> {
  const connection = await findConnection(stores.durable, id);
  checkConnectionChangeable(connection);
  const users = await stores.durable.users.find({ connection: connection.name });
  await deleteUserRecords(stores, users.map((user) => user.user_id));
  await stores.durable.connections.delete(id);
}
