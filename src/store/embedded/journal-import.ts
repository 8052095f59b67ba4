import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { COLLECTION_NAMES, COLLECTIONS } from '../collections.ts';
import type { DurableStore, TransactionWriter } from '../ports.ts';

/** Version 0.1.0 kept everything in this JSON-lines journal: one record per write, replayed in order. */
export const JOURNAL_FILE = 'gatehouse.jsonl';
export const IMPORTED_JOURNAL_FILE = 'gatehouse.jsonl.imported';

interface JournalRecord {
  t: string;
  k: string;
  v?: unknown;
  x?: number;
}

export const journalAwaitingImport = (dataDir: string) => existsSync(path.join(dataDir, JOURNAL_FILE));

/** The journal's last state: every live entry by table and key (later records win, a record without a value deletes). */
function replay(file: string, now: number): Map<string, Map<string, JournalRecord>> {
  const tables = new Map<string, Map<string, JournalRecord>>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      continue; // a torn last line after a crash: everything before it is intact
    }
    let table = tables.get(record.t);
    if (!table) tables.set(record.t, (table = new Map()));
    if (record.v === undefined || (record.x !== undefined && record.x <= now)) table.delete(record.k);
    else table.set(record.k, record);
  }
  return tables;
}

/**
 * Imports a 0.1.0 data folder once, at the first start of this version: durable entities in one transaction, then the
 * live protocol artifacts through `artifacts` (which hashes and seals them). The journal is kept, renamed
 * gatehouse.jsonl.imported. Returns how many entries were imported, or undefined when there was nothing to import.
 */
export async function importJournal(dataDir: string, store: DurableStore, artifacts: (model: string) => Adapter): Promise<number | undefined> {
  const file = path.join(dataDir, JOURNAL_FILE);
  if (!existsSync(file)) return undefined;
  const now = Date.now();
  const tables = replay(file, now);
  const byTable = new Map(COLLECTION_NAMES.map((name) => [COLLECTIONS[name].name, name]));
  let imported = 0;
  await store.transaction((tx) => {
    for (const [table, entries] of tables) {
      const name = byTable.get(table);
      if (!name) continue;
      const writer = tx[name] as TransactionWriter<unknown>;
      for (const entry of entries.values()) {
        writer.insert(entry.v);
        imported += 1;
      }
    }
  });
  for (const [table, entries] of tables) {
    if (!table.startsWith('oidc:')) continue;
    const adapter = artifacts(table.slice('oidc:'.length));
    for (const entry of entries.values()) {
      const expiresIn = entry.x === undefined ? undefined : Math.max(1, Math.ceil((entry.x - now) / 1000));
      await adapter.upsert(entry.k, entry.v as AdapterPayload, expiresIn);
      imported += 1;
    }
  }
  renameSync(file, path.join(dataDir, IMPORTED_JOURNAL_FILE));
  return imported;
}
