import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from '../ports.ts';
import { ensureDataDir } from './database.ts';

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
 * One Gatehouse server per data folder: its rate limits and caches live in its memory. Tools (backup, key rotation)
 * open the database alongside it and take no lock. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  ensureDataDir(dataDir);
  const file = path.join(dataDir, LOCK);
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8'));
    if (pid && pid !== process.pid && processIsAlive(pid)) {
      throw new StoreError(`The data folder ${dataDir} is in use by Gatehouse process ${pid}: the embedded store serves one server process. `
        + 'Stop it, or set MONGODB_URI and REDIS_URL to run several.');
    }
  }
  writeFileSync(file, String(process.pid), { mode: 0o600 });
  return () => rmSync(file, { force: true });
}
