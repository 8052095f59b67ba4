/**
 * One Gatehouse process of a deployment whose processes share a durable store and a Redis (as with MongoDB): the
 * embedded store's file opened without the data folder's lock stands in for MongoDB. Started by
 * test/integration/read-cache.test.ts with `DATA_DIR`, `REDIS_URL`, `REDIS_PREFIX`; says where it listens (and the admin
 * application's credentials, when it made them) in its first IPC message, and stops on SIGTERM.
 */
import { createServer } from 'node:http';
import express from 'express';
import { createGatehouse } from '../../src/gatehouse.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores } from '../../src/store/index.ts';
import { openRedisStore } from '../../src/store/redis/index.ts';
import { ISSUER, testConfig } from './harness.ts';

const embedded = openEmbeddedStore({ dataDir: process.env.DATA_DIR as string });
const redis = await openRedisStore({ url: process.env.REDIS_URL as string, keyPrefix: process.env.REDIS_PREFIX as string });
const stores = combineStores(embedded, redis, redis.client);
const gatehouse = await createGatehouse({ config: testConfig({ logLevel: 'silent', issuer: ISSUER }), stores });
const app = express();
app.use(gatehouse.router);
const server = createServer(app);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ origin: `http://127.0.0.1:${port}`, admin: gatehouse.adminCredentials });
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  void gatehouse.close().then(() => stores.close()).finally(() => process.exit(0));
});
