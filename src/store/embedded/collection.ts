import type { SQLInputValue } from 'node:sqlite';
import { applyChange, matches } from '../changes.ts';
import type { CollectionSpec } from '../collections.ts';
import { DuplicateKeyError, type Change, type Collection, type Filter, type Page, type TransactionWriter } from '../ports.ts';
import type { EmbeddedDatabase } from './database.ts';
import { fieldExpression, uniqueIndexName } from './migrations.ts';

type Doc = Record<string, unknown>;

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** SQLite has no boolean: JSON true and false read back as 1 and 0. */
const sqlValue = (value: unknown): SQLInputValue => (typeof value === 'boolean' ? Number(value) : value as SQLInputValue);

/**
 * A collection in its own table: the key, and the document as JSON text. Filters on declared fields use the same
 * `json_extract` expressions as the indexes the migrations create, so SQLite answers them from an index.
 */
export class EmbeddedCollection<T> implements Collection<T> {
  private readonly database: EmbeddedDatabase;
  private readonly spec: CollectionSpec<T>;
  private readonly table: string;
  private readonly uniqueFields = new Map<string, readonly string[]>();
  /** The text of the statements by key, built once (a template literal per call is a new string, hashed again). */
  private readonly sql: { read: string; insert: string; insertIfAbsent: string; rewrite: string; delete: string; deleteBefore: string };

  constructor(database: EmbeddedDatabase, spec: CollectionSpec<T>) {
    this.database = database;
    this.spec = spec;
    this.table = spec.name;
    this.sql = {
      read: `SELECT doc FROM ${this.table} WHERE key = ?`,
      insert: `INSERT INTO ${this.table} (key, doc) VALUES (?, ?)`,
      insertIfAbsent: `INSERT INTO ${this.table} (key, doc) VALUES (?, ?) ON CONFLICT DO NOTHING`,
      rewrite: `UPDATE ${this.table} SET doc = ? WHERE key = ?`,
      delete: `DELETE FROM ${this.table} WHERE key = ?`,
      deleteBefore: `DELETE FROM ${this.table} WHERE key < ?`,
    };
    for (const fields of spec.unique) this.uniqueFields.set(uniqueIndexName(spec.name, fields), fields);
  }

  async get(key: string): Promise<T | undefined> {
    return this.read(key);
  }

  async find(filter: Filter<T> = {}, page: Page = {}): Promise<T[]> {
    const where = this.where(filter as Doc);
    const desc = page.order === 'desc';
    if (page.after !== undefined) {
      where.clauses.push(desc ? 'key < ?' : 'key > ?');
      where.values.push(page.after);
    }
    const sql = `SELECT doc FROM ${this.table}${where.sql()} ORDER BY key${desc ? ' DESC' : ''} LIMIT ? OFFSET ?`;
    const rows = this.database.query(sql).all(...where.values, page.limit ?? -1, page.skip ?? 0) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as T);
  }

  async count(filter: Filter<T> = {}): Promise<number> {
    const where = this.where(filter as Doc);
    return (this.database.query(`SELECT count(*) AS n FROM ${this.table}${where.sql()}`).get(...where.values) as { n: number }).n;
  }

  insert(doc: T): Promise<void> {
    return this.database.write(() => this.writer.insert(doc));
  }

  insertIfAbsent(doc: T): Promise<boolean> {
    return this.database.run(this.sql.insertIfAbsent, this.keyOf(doc), JSON.stringify(doc)).then(({ changes }) => changes > 0);
  }

  update(key: string, change: Change<T>, condition?: Filter<T>): Promise<T | undefined> {
    return this.database.write(() => {
      const current = this.read(key);
      if (current === undefined || (condition && !matches(current as Doc, condition as Doc))) return undefined;
      return this.rewrite(key, current, change);
    });
  }

  delete(key: string): Promise<boolean> {
    return this.database.run(this.sql.delete, key).then(({ changes }) => changes > 0);
  }

  deleteMany(filter: Filter<T>): Promise<number> {
    return this.database.write(() => this.removeWhere(filter));
  }

  deleteBefore(key: string): Promise<number> {
    return this.database.run(this.sql.deleteBefore, key).then(({ changes }) => Number(changes));
  }

  /** Synchronous writes, for transactions (src/store/embedded/index.ts runs them inside one write). */
  readonly writer: TransactionWriter<T> = {
    insert: (doc) => {
      this.write(() => this.database.statement(this.sql.insert).run(this.keyOf(doc), JSON.stringify(doc)));
    },
    update: (key, change) => {
      const current = this.read(key);
      if (current !== undefined) this.rewrite(key, current, change);
    },
    updateMany: (filter, change) => {
      const where = this.where(filter as Doc);
      const rows = this.database.statement(`SELECT key, doc FROM ${this.table}${where.sql()}`).all(...where.values) as { key: string; doc: string }[];
      for (const row of rows) this.rewrite(row.key, JSON.parse(row.doc) as T, change);
    },
    delete: (key) => {
      this.database.statement(this.sql.delete).run(key);
    },
    deleteMany: (filter) => {
      this.removeWhere(filter);
    },
  };

  private removeWhere(filter: Filter<T>): number {
    const where = this.where(filter as Doc);
    return Number(this.database.statement(`DELETE FROM ${this.table}${where.sql()}`).run(...where.values).changes);
  }

  private read(key: string): T | undefined {
    const row = this.database.query(this.sql.read).get(key) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as T) : undefined;
  }

  private rewrite(key: string, current: T, change: Change<T>): T {
    const next = applyChange(current, change);
    if (this.keyOf(next) !== key) throw new TypeError(`${this.table}: a change cannot move a document to another key`);
    this.write(() => this.database.statement(this.sql.rewrite).run(JSON.stringify(next), key));
    return next;
  }

  private keyOf(doc: T): string {
    const key = (doc as Doc)[this.spec.key];
    if (typeof key !== 'string' || key === '') throw new TypeError(`${this.table}: documents need a string ${this.spec.key}`);
    return key;
  }

  /** Runs a statement, turning SQLite's unique-constraint failure into the port's DuplicateKeyError. */
  private write(run: () => unknown): void {
    try {
      run();
    } catch (err) {
      const message = (err as Error).message ?? '';
      if (!message.startsWith('UNIQUE constraint failed')) throw err;
      const index = /index '([^']+)'/.exec(message)?.[1];
      throw new DuplicateKeyError(this.table, (index && this.uniqueFields.get(index)) || [this.spec.key]);
    }
  }

  private where(filter: Doc) {
    const clauses: string[] = [];
    const values: SQLInputValue[] = [];
    for (const [field, wanted] of Object.entries(filter)) {
      if (wanted === undefined) continue;
      if (!FIELD_NAME.test(field)) throw new TypeError(`${this.table}: cannot filter on ${JSON.stringify(field)}`);
      if (field === this.spec.key) {
        clauses.push('key = ?');
        values.push(sqlValue(wanted));
      } else if ((this.spec.arrays as readonly string[]).includes(field)) {
        clauses.push(`EXISTS (SELECT 1 FROM json_each(doc, '$.${field}') WHERE value = ?)`);
        values.push(sqlValue(wanted));
      } else if (wanted === null) {
        clauses.push(`${fieldExpression(field)} IS NULL`);
      } else {
        clauses.push(`${fieldExpression(field)} = ?`);
        values.push(sqlValue(wanted));
      }
    }
    return { clauses, values, sql: () => (clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '') };
  }
}
