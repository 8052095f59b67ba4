import type { Adapter } from 'oidc-provider';
import type {
  Application, ClientGrant, Connection, ConnectionActivity, KeyMaterial, LogEvent, LogStream, NetworkAcl, OperatorInvitation, ResourceServer, Revocation,
  TenantSettings, User, UserGrant,
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

type NumberFields<T> = { [K in keyof T]-?: NonNullable<T[K]> extends number ? K : never }[keyof T];
type ArrayFields<T> = { [K in keyof T]-?: NonNullable<T[K]> extends readonly unknown[] ? K : never }[keyof T];
type Element<A> = A extends readonly (infer E)[] ? E : never;

/**
 * An atomic change to top-level fields of one document: what concurrent writers touch is merged, never overwritten by
 * a stale copy. `addToSet` appends the values a field's array does not hold yet; `pull` removes every occurrence.
 * One field may appear in one operation only.
 */
export interface Change<T> {
  set?: Partial<T>;
  unset?: readonly (keyof T & string)[];
  inc?: { [K in NumberFields<T>]?: number };
  addToSet?: { [K in ArrayFields<T>]?: Element<NonNullable<T[K]>>[] };
  pull?: { [K in ArrayFields<T>]?: Element<NonNullable<T[K]>>[] };
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
 * pages are stable. Documents handed in and out are copies: mutating them never changes what is stored.
 */
export interface Collection<T> {
  get(key: string): Promise<T | undefined>;
  find(filter?: Filter<T>, page?: Page): Promise<T[]>;
  count(filter?: Filter<T>): Promise<number>;
  /** Throws DuplicateKeyError when the key or a unique field set is taken. */
  insert(doc: T): Promise<void>;
  /** Inserts unless the key or a unique field set is taken; says whether it inserted. */
  insertIfAbsent(doc: T): Promise<boolean>;
  /**
   * Applies `change` atomically to the document with this key, if it also matches `condition` (optimistic concurrency:
   * e.g. `{ updated_at: <as read> }`). Returns the document as changed, or undefined when none matched. Throws
   * DuplicateKeyError.
   */
  update(key: string, change: Change<T>, condition?: Filter<T>): Promise<T | undefined>;
  delete(key: string): Promise<boolean>;
  deleteMany(filter: Filter<T>): Promise<number>;
  /** Deletes every document whose key sorts before `key`: retention of collections with time-ordered keys. */
  deleteBefore(key: string): Promise<number>;
}

export interface SettingsDocument extends TenantSettings {
  id: 'tenant';
  /** When the settings last changed (the version that concurrent edits are checked against); never returned. */
  updated_at: string;
}

/** A secret the store layer keeps for itself (sealed at rest like every key). */
export interface StoredSecret {
  id: string;
  value: string;
}

/** The durable entities, by collection name: what a transaction can write. */
export interface DurableEntities {
  applications: Application;
  resourceServers: ResourceServer;
  clientGrants: ClientGrant;
  connections: Connection;
  users: User;
  userGrants: UserGrant;
  networkAcls: NetworkAcl;
  settings: SettingsDocument;
  keys: KeyMaterial;
  secrets: StoredSecret;
  logs: LogEvent;
  logStreams: LogStream;
  connectionActivity: ConnectionActivity;
  operatorInvitations: OperatorInvitation;
  revocations: Revocation;
}

/** Writes recorded in a transaction; they run when the transaction's function returns, all or none. */
export interface TransactionWriter<T> {
  insert(doc: T): void;
  update(key: string, change: Change<T>): void;
  updateMany(filter: Filter<T>, change: Change<T>): void;
  delete(key: string): void;
  deleteMany(filter: Filter<T>): void;
}

export type Transaction = { [K in keyof DurableEntities]: TransactionWriter<DurableEntities[K]> };

/** Durable entities: MongoDB in production, the embedded SQLite store by default. */
export type DurableStore = { [K in keyof DurableEntities]: Collection<DurableEntities[K]> } & {
  readonly kind: 'embedded' | 'mongodb';
  /**
   * Runs the writes `record` lists as one transaction where the backend has transactions (SQLite; MongoDB on a replica
   * set), otherwise in order, one after the other. Cascades list what refers to a document before the document itself,
   * so that a retry after a failure half-way completes them.
   */
  transaction(record: (tx: Transaction) => void): Promise<void>;
  /** oidc-provider models kept durably (the Grant model). */
  oidcAdapter(model: string): Adapter;
  /**
   * A number that moves when another connection to the same database commits (embedded: SQLite's data_version), so that
   * the read cache (src/store/read-cache.ts) hears of changes made beside this process.
   */
  dataVersion?(): number;
  ping(): Promise<void>;
  close(): Promise<void>;
};

/** Short-lived protocol artifacts (sessions, interactions, codes, tokens): Redis when configured, else embedded. */
export interface EphemeralStore {
  readonly kind: 'embedded' | 'redis';
  oidcAdapter(model: string): Adapter;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Storage that cannot be used as it is (damaged, from a newer version, sealed with another key): stops the process. */
export class StoreError extends Error {}
