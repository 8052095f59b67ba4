import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../ports.ts';
import { DURABLE_FILE } from './index.ts';

export interface BackupResult {
  file: string;
  bytes: number;
}

/**
 * Copies the durable database to `target`, consistently, while Gatehouse keeps running: `VACUUM INTO` reads one
 * snapshot (writers go on, thanks to the write-ahead log) and writes a compact copy. The copy is checked before it is
 * reported. Sessions are not copied: a restore signs everyone out, and no rotated refresh token comes back to life.
 */
export function backupEmbeddedStore(dataDir: string, target: string): BackupResult {
  const source = path.resolve(dataDir, DURABLE_FILE);
  const file = path.resolve(target);
  if (!existsSync(source)) throw new StoreError(`There is no database to back up at ${source}: check DATA_DIR.`);
  if (existsSync(file)) throw new StoreError(`${file} exists already: choose a new file name (a backup never overwrites).`);
  const db = new DatabaseSync(source);
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(file);
  } finally {
    db.close();
  }
  chmodSync(file, 0o600);
  const copy = new DatabaseSync(file, { readOnly: true });
  try {
    const check = (copy.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    if (check !== 'ok') throw new StoreError(`The backup ${file} did not pass SQLite's integrity check (${check}); try again.`);
    const { page_count: pages, page_size: size } = {
      ...(copy.prepare('PRAGMA page_count').get() as { page_count: number }),
      ...(copy.prepare('PRAGMA page_size').get() as { page_size: number }),
    };
    return { file, bytes: pages * size };
  } finally {
    copy.close();
  }
}
