import { isExternalClientId, protocolClientId, toOidcClientMetadata, type OidcClientMetadata } from '../domain/applications.ts';
import type { Application } from '../domain/model.ts';
import type { DurableStore } from '../store/ports.ts';
import type { ClientMetadataDocuments, ResolveRequest } from './client-metadata-documents.ts';

/** An application and the client oidc-provider works with, built from it. */
export interface DirectoryEntry {
  application: Application;
  client: OidcClientMetadata;
}

/** Which stored application a key names: Gatehouse's own id, or the URL of an external client id (CIMD). */
export type ApplicationKey = { id: string } | { external_client_id: string };

/**
 * The one read of a stored application. Everything the directory answers comes through this function, so a cache
 * shared by processes can sit behind it alone (it must be told when an application changes).
 */
export type ApplicationLookup = (key: ApplicationKey) => Promise<Application | undefined>;

export const storeLookup = (store: DurableStore): ApplicationLookup => async (key) => {
  if ('id' in key) return store.applications.get(key.id);
  return (await store.applications.find({ external_client_id: key.external_client_id }, { limit: 1 }))[0];
};

export interface ApplicationDirectory {
  /**
   * The application a protocol request names with `client_id`, and its oidc-provider client: a stored application by
   * its id, or (a URL) the application kept for that client metadata document, fetched, checked and kept as `request`
   * says (src/services/client-metadata-documents.ts; a document that cannot be used throws MetadataDocumentError). An
   * application with an external client id is known by that URL only, never by its `tpc_` id. Undefined when no
   * application answers to it. By default nothing is fetched.
   */
  resolve(clientId: string, request?: ResolveRequest): Promise<DirectoryEntry | undefined>;
  /** An application by Gatehouse's own id, as consents, client grants and connections record it. */
  byId(applicationId: string): Promise<Application | undefined>;
}

export interface DirectoryOptions {
  lookup: ApplicationLookup;
  /** Without it, a URL client id names only an application already kept for it. */
  documents?: ClientMetadataDocuments;
}

/**
 * Where every hook, page and service finds an application from a `client_id`: the protocol layer's client adapter,
 * the interaction pages, the connected-apps page and the Management API's access check all ask it.
 */
export function applicationDirectory({ lookup, documents }: DirectoryOptions): ApplicationDirectory {
  /**
   * The store's read cache (src/store/read-cache.ts) hands out the same frozen application until it changes: its
   * protocol client is built once, and forgotten with it.
   */
  const built = new WeakMap<Application, DirectoryEntry>();
  const entry = (application: Application): DirectoryEntry => {
    let found = built.get(application);
    if (!found) built.set(application, (found = Object.freeze({ application, client: toOidcClientMetadata(application) })));
    return found;
  };

  return {
    async resolve(clientId, request = { freshness: 'stored' }) {
      const application = !isExternalClientId(clientId)
        ? await lookup({ id: clientId })
        : documents ? await documents.resolve(clientId, request) : await lookup({ external_client_id: clientId });
      if (!application || protocolClientId(application) !== clientId) return undefined;
      return entry(application);
    },
    byId: (applicationId) => lookup({ id: applicationId }),
  };
}
