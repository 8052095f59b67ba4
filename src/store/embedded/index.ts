import type { Adapter } from 'oidc-provider';
import { COLLECTIONS } from '../collections.ts';
import type { DurableStore, EphemeralStore } from '../ports.ts';
import { EmbeddedCollection } from './collection.ts';
import { EmbeddedEngine } from './engine.ts';
import { EmbeddedOidcAdapter } from './oidc-adapter.ts';

export interface EmbeddedStoreOptions {
  /** Where the journal lives; null keeps everything in memory only. */
  dataDir: string | null;
  graceSeconds?: number;
}

/** The embedded store serves both roles (durable and ephemeral) in one process, from one engine. */
export type EmbeddedStore = DurableStore & EphemeralStore & { readonly kind: 'embedded' };

export function openEmbeddedStore(options: EmbeddedStoreOptions): EmbeddedStore {
  const engine = new EmbeddedEngine(options.dataDir);
  const adapters = new Map<string, Adapter>();
  const graceSeconds = options.graceSeconds ?? 15;
  return {
    kind: 'embedded',
    applications: new EmbeddedCollection(engine, COLLECTIONS.applications),
    resourceServers: new EmbeddedCollection(engine, COLLECTIONS.resourceServers),
    clientGrants: new EmbeddedCollection(engine, COLLECTIONS.clientGrants),
    connections: new EmbeddedCollection(engine, COLLECTIONS.connections),
    users: new EmbeddedCollection(engine, COLLECTIONS.users),
    userGrants: new EmbeddedCollection(engine, COLLECTIONS.userGrants),
    networkAcls: new EmbeddedCollection(engine, COLLECTIONS.networkAcls),
    settings: new EmbeddedCollection(engine, COLLECTIONS.settings),
    keys: new EmbeddedCollection(engine, COLLECTIONS.keys),
    oidcAdapter(model: string): Adapter {
      let adapter = adapters.get(model);
      if (!adapter) adapters.set(model, (adapter = new EmbeddedOidcAdapter(engine, model, graceSeconds)));
      return adapter;
    },
    async ping() {},
    async close() {
      engine.close();
    },
  };
}
