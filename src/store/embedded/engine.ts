import { Journal, type Entry } from './journal.ts';

/**
 * The embedded engine: named tables of entries held in memory, optionally made durable by a journal in a data folder.
 * Expired entries are invisible at once and swept every minute.
 */
export class EmbeddedEngine {
  private readonly tables = new Map<string, Map<string, Entry>>();
  private readonly journal: Journal | undefined;
  private readonly sweeper: NodeJS.Timeout;
  private readonly onExpire = new Map<string, (key: string, value: unknown) => void>();

  constructor(dataDir: string | null) {
    this.journal = dataDir
      ? Journal.open(dataDir, (table, key, entry) => this.load(table, key, entry), () => this.entries())
      : undefined;
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  table(name: string): Map<string, Entry> {
    let table = this.tables.get(name);
    if (!table) {
      table = new Map();
      this.tables.set(name, table);
    }
    return table;
  }

  /** Lets a table's owner drop its secondary indexes when an entry expires. */
  watchExpiry(name: string, listener: (key: string, value: unknown) => void): void {
    this.onExpire.set(name, listener);
  }

  get(name: string, key: string): unknown {
    const entry = this.tables.get(name)?.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.expire(name, key, entry);
      return undefined;
    }
    return entry.value;
  }

  set(name: string, key: string, value: unknown, expiresAt?: number): void {
    const entry: Entry = expiresAt === undefined ? { value } : { value, expiresAt };
    this.table(name).set(key, entry);
    this.journal?.write(name, key, entry, this.size());
  }

  delete(name: string, key: string): boolean {
    const existed = this.tables.get(name)?.delete(key) ?? false;
    if (existed) this.journal?.write(name, key, undefined, this.size());
    return existed;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.journal?.close();
  }

  private load(name: string, key: string, entry: Entry | undefined): void {
    if (entry) this.table(name).set(key, entry);
    else this.tables.get(name)?.delete(key);
  }

  private expire(name: string, key: string, entry: Entry): void {
    this.delete(name, key);
    this.onExpire.get(name)?.(key, entry.value);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [name, table] of this.tables) {
      for (const [key, entry] of table) {
        if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.expire(name, key, entry);
      }
    }
  }

  private size(): number {
    let total = 0;
    for (const table of this.tables.values()) total += table.size;
    return total;
  }

  private *entries(): Iterable<[string, string, Entry]> {
    const now = Date.now();
    for (const [name, table] of this.tables) {
      for (const [key, entry] of table) {
        if (entry.expiresAt === undefined || entry.expiresAt > now) yield [name, key, entry];
      }
    }
  }
}
