import type { CollectionSpec } from '../collections.ts';
import { DuplicateKeyError, type Collection, type Filter, type Page } from '../ports.ts';
import type { EmbeddedEngine } from './engine.ts';

type Doc = Record<string, unknown>;

const indexKey = (value: unknown) => JSON.stringify(value);

export function matches(doc: Doc, filter: Doc): boolean {
  return Object.entries(filter).every(([field, wanted]) => {
    if (wanted === undefined) return true;
    const actual = doc[field];
    return Array.isArray(actual) ? actual.includes(wanted) : actual === wanted;
  });
}

/** A collection of the embedded engine, with in-memory unique and secondary indexes rebuilt at start. */
export class EmbeddedCollection<T> implements Collection<T> {
  private readonly uniques: Map<string, string>[];
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  /** The JSON of documents read since their last write (see copyOf). */
  private readonly json = new Map<string, string>();

  private readonly engine: EmbeddedEngine;
  private readonly spec: CollectionSpec<T>;

  constructor(engine: EmbeddedEngine, spec: CollectionSpec<T>) {
    this.engine = engine;
    this.spec = spec;
    this.uniques = spec.unique.map(() => new Map());
    for (const field of spec.indexed) this.indexes.set(field, new Map());
    for (const [key, entry] of engine.table(spec.name)) this.index(key, entry.value as Doc);
  }

  async get(key: string): Promise<T | undefined> {
    return this.copyOf(key);
  }

  async find(filter: Filter<T> = {}, page: Page = {}): Promise<T[]> {
    const skip = page.skip ?? 0;
    const desc = page.order === 'desc';
    let keys = this.matchingKeys(filter as Doc).sort();
    if (desc) keys.reverse();
    const { after } = page;
    if (after !== undefined) keys = keys.filter((key) => (desc ? key < after : key > after));
    const selected = page.limit === undefined ? keys.slice(skip) : keys.slice(skip, skip + page.limit);
    return selected.map((key) => this.copyOf(key) as T);
  }

  async count(filter: Filter<T> = {}): Promise<number> {
    return this.countFromIndex(filter as Doc) ?? this.matchingKeys(filter as Doc).length;
  }

  async insert(doc: T): Promise<void> {
    const key = this.keyOf(doc);
    if (this.engine.get(this.spec.name, key) !== undefined) throw new DuplicateKeyError(this.spec.name, [this.spec.key]);
    this.checkUnique(doc as Doc, key);
    this.write(key, doc);
  }

  async replace(doc: T): Promise<boolean> {
    const key = this.keyOf(doc);
    const previous = this.engine.get(this.spec.name, key) as Doc | undefined;
    if (previous === undefined) return false;
    this.checkUnique(doc as Doc, key);
    this.unindex(key, previous);
    this.write(key, doc);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const previous = this.engine.get(this.spec.name, key) as Doc | undefined;
    if (previous === undefined) return false;
    this.unindex(key, previous);
    this.json.delete(key);
    return this.engine.delete(this.spec.name, key);
  }

  async deleteMany(filter: Filter<T>): Promise<number> {
    const keys = this.matchingKeys(filter as Doc);
    for (const key of keys) await this.delete(key);
    return keys.length;
  }

  private keyOf(doc: T): string {
    const key = (doc as Doc)[this.spec.key];
    if (typeof key !== 'string' || key === '') throw new TypeError(`${this.spec.name}: documents need a string ${this.spec.key}`);
    return key;
  }

  private write(key: string, doc: T): void {
    const copy = JSON.parse(JSON.stringify(doc)) as Doc;
    this.engine.set(this.spec.name, key, copy);
    this.index(key, copy);
    this.json.delete(key);
  }

  /**
   * A copy of a stored document, parsed from its JSON: documents are JSON by design (the journal stores them so), and
   * parsing a kept string is several times cheaper than structuredClone. The string is kept once a document is read,
   * so the hot documents (applications, APIs, client grants on the token path) are serialized once per write at most.
   */
  private copyOf(key: string): T | undefined {
    const doc = this.engine.get(this.spec.name, key);
    if (doc === undefined) return undefined;
    let json = this.json.get(key);
    if (json === undefined) this.json.set(key, (json = JSON.stringify(doc)));
    return JSON.parse(json) as T;
  }

  private uniqueKey(doc: Doc, fields: readonly string[]): string | undefined {
    const values = fields.map((field) => doc[field]);
    return values.some((value) => value === undefined || value === null) ? undefined : indexKey(values);
  }

  private checkUnique(doc: Doc, key: string): void {
    this.spec.unique.forEach((fields, i) => {
      const unique = this.uniqueKey(doc, fields);
      const holder = unique === undefined ? undefined : this.uniques[i]?.get(unique);
      if (holder !== undefined && holder !== key) throw new DuplicateKeyError(this.spec.name, fields);
    });
  }

  private index(key: string, doc: Doc): void {
    this.spec.unique.forEach((fields, i) => {
      const unique = this.uniqueKey(doc, fields);
      if (unique !== undefined) this.uniques[i]?.set(unique, key);
    });
    for (const [field, index] of this.indexes) {
      const value = indexKey(doc[field]);
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, doc: Doc): void {
    this.spec.unique.forEach((fields, i) => {
      const unique = this.uniqueKey(doc, fields);
      if (unique !== undefined && this.uniques[i]?.get(unique) === key) this.uniques[i]?.delete(unique);
    });
    for (const [field, index] of this.indexes) index.get(indexKey(doc[field]))?.delete(key);
  }

  /**
   * The count, without visiting documents, when an index answers the filter alone: no field (the table's size), or
   * one indexed field with a primitive value (its index entry). Registration counts dynamic applications on every request.
   */
  private countFromIndex(filter: Doc): number | undefined {
    const fields = Object.keys(filter).filter((field) => filter[field] !== undefined);
    if (fields.length === 0) return this.engine.table(this.spec.name).size;
    const [field] = fields as [string];
    const wanted = filter[field];
    if (fields.length > 1 || (typeof wanted === 'object' && wanted !== null)) return undefined;
    return this.indexes.get(field)?.get(indexKey(wanted))?.size ?? (this.indexes.has(field) ? 0 : undefined);
  }

  private matchingKeys(filter: Doc): string[] {
    const indexedField = Object.keys(filter).find((field) => filter[field] !== undefined && this.indexes.has(field));
    const candidates = indexedField
      ? this.indexes.get(indexedField)?.get(indexKey(filter[indexedField])) ?? new Set<string>()
      : this.engine.table(this.spec.name).keys();
    const keys: string[] = [];
    for (const key of candidates) {
      const doc = this.engine.get(this.spec.name, key) as Doc | undefined;
      if (doc !== undefined && matches(doc, filter)) keys.push(key);
    }
    return keys;
  }
}
