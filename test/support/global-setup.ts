import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer();
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
  });
});

export async function waitForRedis(port: number): Promise<void> {
  const { Redis } = await import('ioredis');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {}); // refused until redis-server listens: connect() rejects, and the loop retries
    try {
      await client.connect();
      await client.ping();
      await client.quit();
      return;
    } catch (err) {
      // A refused connection has already ended; disconnect() would arm a 2 s timer that keeps a test process alive.
      if (client.status !== 'end') client.disconnect();
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Tests run against a real Redis: REDIS_URL when given, otherwise a private redis-server on a free port
 * (no persistence), stopped by the global teardown.
 */
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  process.env.GATEHOUSE_PASSWORD_COST = 'low';
  if (process.env.REDIS_URL) return;
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  child.on('error', (err) => {
    process.stderr.write(`Could not start redis-server (${err.message}): install it (apt-get install redis-server) or set REDIS_URL.\n`);
  });
  await waitForRedis(port);
  writeFileSync(path.join(dir, 'pid'), String(child.pid));
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
  (globalThis as { __redisProcess?: typeof child }).__redisProcess = child;
}
