import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

/** One stored value of a table, with an optional expiry (epoch ms). */
export interface Entry {
  value: unknown;
  expiresAt?: number;
}

interface Record {
  t: string;
  k: string;
  v?: unknown;
  x?: number;
}

const JOURNAL = 'gatehouse.jsonl';
const LOCK = 'gatehouse.lock';

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Durability for the embedded store: every write is appended to a JSON-lines journal in the data folder, replayed at
 * start and compacted when it has grown to several times the live data. A lock file keeps a second process away,
 * because the embedded store is single-process by design (use MongoDB and Redis to run several).
 */
export class Journal {
  private fd: number;
  private appended = 0;
  private readonly file: string;
  private readonly lockFile: string;

  private readonly snapshot: () => Iterable<[string, string, Entry]>;

  private constructor(dir: string, snapshot: () => Iterable<[string, string, Entry]>) {
    this.snapshot = snapshot;
    this.file = path.join(dir, JOURNAL);
    this.lockFile = path.join(dir, LOCK);
    this.fd = -1;
  }

  static open(dir: string, load: (table: string, key: string, entry: Entry | undefined) => void,
    snapshot: () => Iterable<[string, string, Entry]>): Journal {
    mkdirSync(dir, { recursive: true });
    const journal = new Journal(dir, snapshot);
    journal.lock();
    if (existsSync(journal.file)) {
      const now = Date.now();
      for (const line of readFileSync(journal.file, 'utf8').split('\n')) {
        if (!line) continue;
        let record: Record;
        try {
          record = JSON.parse(line) as Record;
        } catch {
          continue; // a torn last line after a crash: everything before it is intact
        }
        const live = record.v !== undefined && (record.x === undefined || record.x > now);
        load(record.t, record.k, live ? { value: record.v, ...(record.x ? { expiresAt: record.x } : {}) } : undefined);
      }
    }
    journal.compact();
    return journal;
  }

  private lock(): void {
    if (existsSync(this.lockFile)) {
      const pid = Number(readFileSync(this.lockFile, 'utf8'));
      if (pid && pid !== process.pid && processIsAlive(pid)) {
        throw new Error(`The data folder ${path.dirname(this.lockFile)} is in use by process ${pid}: the embedded store serves one process. Stop it, or use MONGODB_URI and REDIS_URL to run several.`);
      }
    }
    writeFileSync(this.lockFile, String(process.pid));
  }

  write(table: string, key: string, entry: Entry | undefined, liveEntries: number): void {
    const record: Record = entry ? { t: table, k: key, v: entry.value, ...(entry.expiresAt ? { x: entry.expiresAt } : {}) } : { t: table, k: key };
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    this.appended += 1;
    if (this.appended > 2 * liveEntries + 1000) this.compact();
  }

  /** Rewrites the journal as a snapshot of the live data, atomically (write, then rename). */
  compact(): void {
    if (this.fd >= 0) closeSync(this.fd);
    const tmp = `${this.file}.tmp`;
    const out = openSync(tmp, 'w');
    let count = 0;
    let buffer = '';
    for (const [table, key, entry] of this.snapshot()) {
      buffer += `${JSON.stringify({ t: table, k: key, v: entry.value, ...(entry.expiresAt ? { x: entry.expiresAt } : {}) })}\n`;
      count += 1;
      if (buffer.length > 1 << 20) {
        writeSync(out, buffer);
        buffer = '';
      }
    }
    writeSync(out, buffer);
    closeSync(out);
    renameSync(tmp, this.file);
    this.fd = openSync(this.file, 'a');
    this.appended = count;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.lockFile, { force: true });
  }
}
