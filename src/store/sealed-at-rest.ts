import { COLLECTION_NAMES, COLLECTIONS } from './collections.ts';
import {
  StoreError, type Change, type Collection, type DurableEntities, type DurableStore, type Filter, type Page, type Transaction, type TransactionWriter,
} from './ports.ts';
import { SealingKeyError, type Sealer } from './sealing.ts';

type Doc = Record<string, unknown>;

const PREFIX = 'sealed:';
const isSealed = (value: unknown): value is string => typeof value === 'string' && value.startsWith(PREFIX);

/**
 * Fields that hold keys (private signing keys, cookie keys, the artifact key, APIs' HS256 secrets) are sealed with the
 * key-encryption key when one is configured, and kept as they are otherwise (development). Reading a sealed field
 * without the right key stops with a message, never a silent reset.
 */
class FieldSealer {
  private readonly kek: Sealer | undefined;
  private readonly where: string;
  private readonly fields: readonly string[];

  constructor(kek: Sealer | undefined, where: string, fields: readonly string[]) {
    this.kek = kek;
    this.where = where;
    this.fields = fields;
  }

  seal<T>(doc: T): T {
    if (!this.kek) return doc;
    const out = { ...doc } as Doc;
    for (const field of this.fields) if (out[field] !== undefined) out[field] = `${PREFIX}${this.kek.seal(JSON.stringify(out[field]))}`;
    return out as T;
  }

  open<T>(doc: T | undefined): T | undefined {
    if (doc === undefined) return undefined;
    const out = { ...doc } as Doc;
    for (const field of this.fields) {
      const value = out[field];
      if (!isSealed(value)) continue;
      if (!this.kek) {
        throw new StoreError(`${this.where}.${field} is encrypted at rest: set GATEHOUSE_KEY_ENCRYPTION_KEY to the key it was sealed with.`);
      }
      try {
        out[field] = JSON.parse(this.kek.open(value.slice(PREFIX.length)));
      } catch (err) {
        const why = err instanceof SealingKeyError ? err.message : 'the key does not open it';
        throw new StoreError(`${this.where}.${field} cannot be decrypted (${why}): GATEHOUSE_KEY_ENCRYPTION_KEY must list the key it was sealed with.`);
      }
    }
    return out as T;
  }

  /** Whether a stored document should be sealed again: a field in clear while a key is set, or sealed with an older key. */
  stale(doc: Doc): boolean {
    if (!this.kek) return false;
    return this.fields.some((field) => doc[field] !== undefined
      && (!isSealed(doc[field]) || !this.kek!.sealedWithCurrentKey((doc[field] as string).slice(PREFIX.length))));
  }

  change<T>(change: Change<T>): Change<T> {
    for (const operation of ['inc', 'addToSet', 'pull'] as const) {
      if (Object.keys(change[operation] ?? {}).some((field) => this.fields.includes(field))) {
        throw new TypeError(`${this.where}: sealed fields can only be set`);
      }
    }
    return change.set ? { ...change, set: this.seal(change.set) } : change;
  }
}

class SealedCollection<T> implements Collection<T> {
  readonly inner: Collection<T>;
  readonly fields: FieldSealer;
  constructor(inner: Collection<T>, fields: FieldSealer) {
    this.inner = inner;
    this.fields = fields;
  }
  async get(key: string) { return this.fields.open(await this.inner.get(key)); }
  async find(filter?: Filter<T>, page?: Page) { return (await this.inner.find(filter, page)).map((doc) => this.fields.open(doc) as T); }
  count(filter?: Filter<T>) { return this.inner.count(filter); }
  insert(doc: T) { return this.inner.insert(this.fields.seal(doc)); }
  insertIfAbsent(doc: T) { return this.inner.insertIfAbsent(this.fields.seal(doc)); }
  async update(key: string, change: Change<T>, condition?: Filter<T>) {
    return this.fields.open(await this.inner.update(key, this.fields.change(change), condition));
  }
  delete(key: string) { return this.inner.delete(key); }
  deleteMany(filter: Filter<T>) { return this.inner.deleteMany(filter); }
  deleteBefore(key: string) { return this.inner.deleteBefore(key); }
}

const sealingWriter = <T>(inner: TransactionWriter<T>, fields: FieldSealer): TransactionWriter<T> => ({
  insert: (doc) => inner.insert(fields.seal(doc)),
  update: (key, change) => inner.update(key, fields.change(change)),
  updateMany: (filter, change) => inner.updateMany(filter, fields.change(change)),
  delete: (key) => inner.delete(key),
  deleteMany: (filter) => inner.deleteMany(filter),
});

const SEALED_COLLECTIONS = COLLECTION_NAMES.filter((name) => COLLECTIONS[name].sealed.length > 0);

/** The durable store with the fields each collection spec lists as `sealed` encrypted at rest. */
export function sealAtRest(store: DurableStore, kek: Sealer | undefined): DurableStore {
  const sealers = new Map(SEALED_COLLECTIONS.map((name) => [name, new FieldSealer(kek, COLLECTIONS[name].name, COLLECTIONS[name].sealed)]));
  const wrapped: Partial<Record<keyof DurableEntities, Collection<never>>> = {};
  for (const [name, fields] of sealers) wrapped[name] = new SealedCollection(store[name] as Collection<never>, fields);
  return {
    ...store,
    ...wrapped,
    transaction: (record) => store.transaction((tx) => {
      const sealing = { ...tx } as Record<string, TransactionWriter<never>>;
      for (const [name, fields] of sealers) sealing[name] = sealingWriter(tx[name] as TransactionWriter<never>, fields);
      record(sealing as unknown as Transaction);
    }),
  } as DurableStore;
}

/**
 * Checks that every sealed field can be opened (stopping with a message otherwise), and brings them under the current
 * key-encryption key: sealed for the first time when a key was just configured, sealed again when the key was replaced
 * (the old one still listed). Run at start; keys are few.
 */
export async function resealAtRest(store: DurableStore): Promise<number> {
  let resealed = 0;
  for (const name of SEALED_COLLECTIONS) {
    const collection = store[name] as unknown as Collection<Doc>;
    if (!(collection instanceof SealedCollection)) continue;
    const key = COLLECTIONS[name].key as string;
    for (const raw of await (collection.inner as Collection<Doc>).find()) {
      const open = collection.fields.open(raw) as Doc;
      if (!collection.fields.stale(raw)) continue;
      const set = Object.fromEntries(COLLECTIONS[name].sealed.map((field) => [field, open[field]]).filter(([, value]) => value !== undefined));
      await collection.update(raw[key] as string, { set });
      resealed += 1;
    }
  }
  return resealed;
}
