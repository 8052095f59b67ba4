/**
 * `npm run backup -- <file>`: a consistent copy of the embedded store's durable database, safe while Gatehouse runs.
 * Restore (README, "Backup and restore"): stop Gatehouse, put the copy in place of DATA_DIR/gatehouse.db (removing
 * gatehouse.db-wal and gatehouse.db-shm), start it. With MongoDB, use mongodump and mongorestore instead.
 */
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { backupEmbeddedStore } from '../src/store/embedded/backup.ts';
import { StoreError } from '../src/store/ports.ts';

const [target] = process.argv.slice(2);
try {
  if (!target) throw new StoreError('Usage: npm run backup -- <file>   (a new file; the durable database is copied there)');
  const config = loadConfig();
  if (config.mongodbUri) throw new StoreError('MONGODB_URI is set: the durable data is in MongoDB. Back it up with mongodump (docs/PRODUCTION.md).');
  const { file, bytes } = backupEmbeddedStore(config.dataDir, target);
  process.stdout.write(`Backed up ${config.dataDir}/gatehouse.db to ${file} (${Math.ceil(bytes / 1024)} KiB).\n`
    + 'To restore: stop Gatehouse, copy the file to DATA_DIR/gatehouse.db, delete gatehouse.db-wal and gatehouse.db-shm, start Gatehouse.\n');
} catch (err) {
  if (!(err instanceof StoreError || err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
