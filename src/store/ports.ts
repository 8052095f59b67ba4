import type { Adapter } from 'oidc-provider';
import type {
  Application, ClientGrant, Connection, KeyMaterial, NetworkAcl, ResourceServer, TenantSettings, User, UserGrant,
} from '../domain/model.ts';

/** Equality on fields; on an array field, "contains". */
export type Filter<T> = { [K in keyof T]?: T[K] extends readonly (infer E)[] ? E : T[K] };

/** Which part of a result sorted by key to return. */
export interface Page {
  skip?: number;
  limit?: number;
  /** Only keys after this one in the chosen order (checkpoint pagination: the last key of the previous page). */
  after?: string;
  /** Ascending key order by default; `desc` gives the newest first for time-ordered keys. */
  order?: 'asc' | 'desc';
}

/** Raised when a write would break one of a collection's unique constraints. */
export class DuplicateKeyError extends Error {
  readonly fields: readonly string[];
  constructor(collection: string, fields: readonly string[]) {
    super(`${collection}: an entry with the same ${fields.join(', ')} exists`);
    this.fields = fields;
  }
}

/**
 * The one storage port for durable entities. Results are sorted by key (ascending unless a page asks otherwise), so that
 * pages are stable.
 * Documents handed in and out are copies: mutating them never changes what is stored.
 */
export interface Collection<T> {
  get(key: string): Promise<T | undefined>;
  find(filter?: Filter<T>, page?: Page): Promise<T[]>;
  count(filter?: Filter<T>): Promise<number>;
  /** Throws DuplicateKeyError when the key or a unique field set is taken. */
  insert(doc: T): Promise<void>;
  /** Replaces the document with the same key; false when there is none. Throws DuplicateKeyError. */
  replace(doc: T): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  deleteMany(filter: Filter<T>): Promise<number>;
}

export interface SettingsDocument extends TenantSettings {
  id: 'tenant';
}

/** Durable entities: MongoDB in production, the embedded store by default. */
export interface DurableStore {
  readonly kind: 'embedded' | 'mongodb';
  readonly applications: Collection<Application>;
  readonly resourceServers: Collection<ResourceServer>;
  readonly clientGrants: Collection<ClientGrant>;
  readonly connections: Collection<Connection>;
  readonly users: Collection<User>;
  readonly userGrants: Collection<UserGrant>;
  readonly networkAcls: Collection<NetworkAcl>;
  readonly settings: Collection<SettingsDocument>;
  readonly keys: Collection<KeyMaterial>;
  /** oidc-provider models kept durably (the Grant model). */
  oidcAdapter(model: string): Adapter;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Short-lived protocol artifacts (sessions, interactions, codes, tokens): Redis when configured, else embedded. */
export interface EphemeralStore {
  readonly kind: 'embedded' | 'redis';
  oidcAdapter(model: string): Adapter;
  ping(): Promise<void>;
  close(): Promise<void>;
}
