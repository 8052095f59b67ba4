import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementResultingChanges, type StatementSync } from 'node:sqlite';
import type { Logger } from 'pino';
import { StoreUnavailableError, type OutageLogger } from '../errors.ts';
import { StoreError } from '../ports.ts';

/** What one database file holds and how carefully it is written. */
export interface DatabaseSchema {
  /** PRAGMA application_id: marks the file as Gatehouse's, so that another program's database is never migrated. */
  applicationId: number;
  /**
   * FULL: every commit reaches the disk before the write is answered (durable entities). NORMAL: safe against a crash
   * of the process, while a power loss may lose the last commits, never corrupt the file (short-lived artifacts).
   */
  synchronous: 'FULL' | 'NORMAL';
  /** Overwrite what is deleted or replaced, so that a value sealed later leaves no copy in clear in free pages. */
  secureDelete: boolean;
  /**
   * PRAGMA wal_autocheckpoint: the write-ahead log's length, in pages, at which a commit copies it into the file (each
   * page once however often the log holds it, then a sync, on the event loop). Each file's choice: src/store/embedded/index.ts.
   */
  checkpointPages: number;
  migrations: readonly (readonly string[])[];
}

const BUSY_TIMEOUT_MS = 2000;

/**
 * SQLite's primary result codes for a write that may well succeed later: the write lock held by another connection
 * beyond the busy timeout (BUSY, LOCKED), an I/O error (IOERR), a full disk (FULL).
 */
const PASSING_FAILURES = new Set([5, 6, 10, 13]);
/** What `Retry-After` tells clients while writes fail that way. */
const RETRY_AFTER_SECONDS = 5;

/** The writes of one turn of the event loop, in one open transaction, and those waiting for it to commit. */
interface Batch {
  committed: Promise<void>;
  commit(): void;
  fail(err: unknown): void;
}

/**
 * An open SQLite database with cached statements and group commit: every write made during one turn of the event loop
 * goes into one transaction, committed (with `synchronous=FULL`, on disk) once before any of them is answered. A commit,
 * its sync and its write-ahead-log pages are paid once per batch, not once per request, and a write is never answered
 * before it is durable.
 */
export class EmbeddedDatabase {
  readonly db: DatabaseSync;
  /** The file, or null in memory. */
  readonly file: string | null;
  /** How messages name it. */
  private readonly name: string;
  private readonly statements = new Map<string, StatementSync>();
  private batch: Batch | null = null;
  /** Ends the read transaction this turn's reads share (`query`), when one is open. */
  private snapshot: (() => void) | null = null;
  private readonly logger: OutageLogger | undefined;
  /** Whether writes have been failing as an outage since the last that succeeded (told once each way). */
  private failing = false;

  constructor(db: DatabaseSync, file: string | null, logger?: OutageLogger) {
    this.db = db;
    this.file = file;
    this.name = file ?? 'the in-memory database';
    this.logger = logger;
  }

  /**
   * A failed write as callers should see it: a StoreUnavailableError (503 and Retry-After at every edge, as for a lost
   * Redis) when SQLite says it may pass, else the error itself (a constraint, a bug).
   */
  private outage(err: unknown): unknown {
    const code = (err as { errcode?: unknown } | undefined)?.errcode;
    if (typeof code !== 'number' || !PASSING_FAILURES.has(code & 0xff)) return err;
    if (!this.failing) {
      this.failing = true;
      this.logger?.warn({ err }, `${this.name} cannot be written (${(err as Error).message}): requests that write to it answer 503 until it can`);
    }
    return new StoreUnavailableError(`${this.name} cannot be written now (${(err as Error).message})`, RETRY_AFTER_SECONDS, { cause: err });
  }

  private committed(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger?.info(`${this.name} can be written again`);
  }

  statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /**
   * A statement that reads. Outside a batch, the reads of one turn of the event loop share one read transaction,
   * ended at the turn's end or when a write begins: a statement alone is a transaction of its own, which takes and
   * releases a lock of the shared-memory index in the kernel (a refresh's two reads of the durable file: four `fcntl`
   * calls). Within a turn nothing else in this process writes, so the reads see what they would have seen alone, less
   * what another process (a tool beside the server) commits meanwhile: that is seen from the next turn.
   */
  query(sql: string): StatementSync {
    if (!this.db.isTransaction) this.openSnapshot();
    return this.statement(sql);
  }

  private openSnapshot(): void {
    this.statement('BEGIN').run(); // deferred: the read lock is taken by the first read
    const snapshot = () => {
      if (this.snapshot !== snapshot) return;
      this.snapshot = null;
      if (this.db.isTransaction) this.statement('COMMIT').run();
    };
    this.snapshot = snapshot;
    setImmediate(snapshot);
  }

  /** Ends the turn's read transaction, if one is open, before a write or a transaction of its own begins. */
  private endSnapshot(): void {
    this.snapshot?.();
  }

  /**
   * Runs `work` (synchronous statements) in this turn's batch, under a savepoint so that a failure undoes its own
   * statements only; resolves with its result once the batch is committed, and rejects if the commit fails. Nothing
   * else in this process runs during `work`; reads made meanwhile on this connection see the batch's writes.
   */
  write<R>(work: () => R): Promise<R> {
    return this.inBatch(work, true);
  }

  /**
   * One statement in this turn's batch, like `write`, without a savepoint: SQLite undoes a failing statement's own
   * changes and keeps the transaction (two statements fewer per write of oidc-provider's).
   */
  run(sql: string, ...params: SQLInputValue[]): Promise<StatementResultingChanges> {
    return this.inBatch(() => this.statement(sql).run(...params), false);
  }

  private inBatch<R>(work: () => R, savepoint: boolean): Promise<R> {
    let batch: Batch;
    try {
      batch = this.openBatch();
      if (savepoint) this.statement('SAVEPOINT write').run();
    } catch (err) {
      return Promise.reject(this.outage(err)); // the write lock stayed taken beyond the busy timeout
    }
    let result: R;
    try {
      result = work();
      if (savepoint) this.statement('RELEASE write').run();
    } catch (err) {
      const failure = this.outage(err);
      if (!this.db.isTransaction) {
        batch.fail(failure); // SQLite ended the whole transaction (I/O error, disk full): none of the batch is written
      } else if (savepoint) {
        this.statement('ROLLBACK TO write').run();
        this.statement('RELEASE write').run();
      }
      return Promise.reject(failure);
    }
    return batch.committed.then(() => result);
  }

  /** The open batch, or a new one (IMMEDIATE takes the write lock at once, for other processes: backup, key rotation). */
  private openBatch(): Batch {
    if (this.batch) return this.batch;
    this.endSnapshot();
    this.db.exec('BEGIN IMMEDIATE');
    let settle!: (err?: unknown) => void;
    const committed = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    const batch: Batch = {
      committed,
      commit: () => {
        if (this.batch !== batch) return;
        this.batch = null;
        try {
          this.db.exec('COMMIT');
          this.committed();
          settle();
        } catch (err) {
          if (this.db.isTransaction) this.db.exec('ROLLBACK');
          settle(this.outage(err));
        }
      },
      fail: (err) => {
        if (this.batch !== batch) return;
        this.batch = null;
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        settle(err);
      },
    };
    this.batch = batch;
    setImmediate(batch.commit);
    return batch;
  }

  /** Runs `work` in a transaction of its own, at once (migrations, before anything is batched). */
  transaction<R>(work: () => R): R {
    this.batch?.commit();
    this.endSnapshot();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Folds the write-ahead log into the file (and empties it) before closing, when the file is usable. */
  close(): void {
    if (!this.db.isOpen) return;
    this.batch?.commit();
    this.endSnapshot();
    try {
      if (this.file) this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}

const describe = (file: string) => `The database ${file}`;

/**
 * Opens (creating when missing) a database file readable by its owner only, in a folder created 0700; sets WAL mode
 * and a busy timeout; refuses a damaged file or one from a newer version; runs the migrations this version lacks.
 */
export function openDatabase(file: string | null, schema: DatabaseSchema, logger?: OutageLogger): EmbeddedDatabase {
  if (file) prepareFile(file);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file ?? ':memory:');
  } catch (err) {
    throw new StoreError(`${describe(file as string)} cannot be opened (${(err as Error).message}). Check that it exists and that this user may read and write it.`);
  }
  const database = new EmbeddedDatabase(db, file, logger);
  try {
    checkIdentity(database, schema, file);
    if (file) db.exec(`PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = ${schema.checkpointPages}`);
    db.exec(`PRAGMA synchronous = ${schema.synchronous}; PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = OFF; `
      + `PRAGMA secure_delete = ${schema.secureDelete ? 'ON' : 'OFF'}`);
    migrate(database, schema, file ?? ':memory:');
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`${describe(file ?? ':memory:')} is damaged or not a Gatehouse database (${(err as Error).message}). `
      + 'Stop Gatehouse, move the file aside and restore your latest backup (README, "Backup and restore").');
  }
  return database;
}

/** The data folder, created readable by its owner only. */
export function ensureDataDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function prepareFile(file: string): void {
  ensureDataDir(path.dirname(file));
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

/** A file that holds another program's data (or garbage) is never migrated, and a damaged one is never used. */
function checkIdentity(database: EmbeddedDatabase, schema: DatabaseSchema, file: string | null): void {
  const { db } = database;
  const applicationId = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id;
  const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
  if (applicationId === 0 && tables === 0) {
    db.exec(`PRAGMA application_id = ${schema.applicationId}`);
    return;
  }
  if (applicationId !== schema.applicationId) {
    throw new StoreError(`${describe(file ?? ':memory:')} is not a Gatehouse database (application id ${applicationId}). Point DATA_DIR at Gatehouse's data folder.`);
  }
  const check = (db.prepare('PRAGMA quick_check').all() as { quick_check: string }[]).map((row) => row.quick_check);
  if (check[0] !== 'ok') throw new Error(check.slice(0, 3).join('; '));
}

function migrate(database: EmbeddedDatabase, schema: DatabaseSchema, name: string): void {
  const { db } = database;
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  const known = schema.migrations.length;
  if (version > known) {
    throw new StoreError(`${describe(name)} was written by a newer version of Gatehouse (schema version ${version}; this version knows up to ${known}). `
      + 'Run that newer version, or restore a backup made by this one.');
  }
  schema.migrations.slice(version).forEach((steps, i) => {
    database.transaction(() => {
      for (const sql of steps) db.exec(sql);
      db.exec(`PRAGMA user_version = ${version + i + 1}`);
    });
  });
}
