import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { authorizationCodeFlow, HttpClient } from '../lib/browser.ts';
import { measureRequests, measureTasks } from '../lib/load.ts';
import { redisUsedMemory, ServerProcess } from '../lib/processes.ts';
import { formatNumber } from '../lib/report.ts';
import { apiIdentifier, CALLBACK, type ProtocolServerArgs, type ProtocolServerReady } from '../servers/fixtures.ts';
import { stopServer, type BenchContext } from './context.ts';

const MIB = 2 ** 20;

/**
 * 6. Resident size of a Gatehouse process after N registered applications, then N live sessions (signed-in users
 * with a code issued), on the embedded store and with Redis for sessions. The password cost is lowered here: it
 * changes how long a login takes, not what a session stores.
 */
async function measureMemory(context: BenchContext, storage: 'embedded' | 'redis'): Promise<void> {
  const { memoryItems } = context.settings;
  const redis = storage === 'redis' ? context.redis : undefined;
  const args = redis ? { redisUrl: redis.url, redisKeyPrefix: `gatehouse-bench-memory-${process.pid}:` } : {};
  const server = await ServerProcess.start<ProtocolServerReady>(`Gatehouse (${storage}, memory)`, 'gatehouse.ts', { args, env: { GATEHOUSE_PASSWORD_COST: 'low' }, exposeGc: true });
  try {
    const usage = () => server.call<NodeJS.MemoryUsage>('memory');
    const rss = async () => (await usage()).rss;
    const idle = await rss();
    await measureRequests(server.pid, server.ready.origin, {
      path: '/oidc/register', expectStatus: 201, json: { redirect_uris: [CALLBACK], client_name: 'Registered by the benchmark' },
    }, { ...context.settings.timing, connections: 8, amount: memoryItems });
    const applicationsUsage = await usage();
    const withApplications = applicationsUsage.rss;
    const redisBefore = redis ? await redisUsedMemory(redis.url) : 0;
    const http = new HttpClient(server.ready.origin, 8);
    const sessions = await measureTasks(server.pid, () => authorizationCodeFlow(http, server.ready, {
      client: server.ready.firstParty, audience: apiIdentifier('ES256'), skipTokenRequest: true,
    }), { ...context.settings.flowTiming, connections: 8, amount: memoryItems });
    http.close();
    const sessionsUsage = await usage();
    const withSessions = sessionsUsage.rss;
    const redisBytes = redis ? await redisUsedMemory(redis.url) - redisBefore : undefined;
    context.rows.push({
      scenario: '6', variant: `${formatNumber(memoryItems)} apps + ${formatNumber(sessions.operations)} sessions, ${storage === 'redis' ? 'Redis for sessions' : 'embedded store'}`,
      server: 'Gatehouse',
      ratio: withSessions / idle,
      figures: {
        rss_idle_mib: idle / MIB, rss_applications_mib: withApplications / MIB, rss_sessions_mib: withSessions / MIB,
        bytes_per_application: (withApplications - idle) / memoryItems, bytes_per_session: (withSessions - withApplications) / sessions.operations,
        // What the JavaScript heap still holds per session after a collection (the rest of the RSS growth is memory
        // the process keeps from its peak: V8's heap pages and the allocator's arenas).
        bytes_per_session_heap: (sessionsUsage.heapUsed - applicationsUsage.heapUsed) / sessions.operations,
        ...(redisBytes === undefined ? {} : { redis_bytes_per_session: redisBytes / sessions.operations }),
      },
      note: 'ratio: RSS at the end over RSS idle',
    });
  } finally {
    await stopServer(context, server);
  }
}

/** Issue 12's bound: stored applications live in the database file, not in the process. */
const STORED_APPLICATIONS_BUDGET_MIB = 64;

/**
 * Issue 12's bound: the resident size of a server whose embedded store holds many applications (each with a client
 * grant), after it has read every one of them through the application directory (the read cache then holds as many as
 * it keeps), against an empty server idle. The applications are stored by a first server, which then stops: a server
 * that populated its own store keeps the memory of that work (V8's heap pages, the allocator's arenas), which is not
 * what stored applications cost. Target: within 64 MiB.
 */
async function measureStoredApplications(context: BenchContext): Promise<void> {
  const { storedApplications } = context.settings;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-stored-'));
  const start = (name: string, args: ProtocolServerArgs) =>
    ServerProcess.start<ProtocolServerReady>(`Gatehouse (${name})`, 'gatehouse.ts', { args, exposeGc: true, timeoutMs: 600_000 });
  try {
    const empty = await start('empty, memory', {});
    const idle = (await empty.call<NodeJS.MemoryUsage>('memory')).rss;
    await stopServer(context, empty);
    const filler = await start('storing applications', { dataDir });
    await filler.call('populate', { total: storedApplications });
    await stopServer(context, filler);
    const server = await start('stored applications, memory', { dataDir });
    try {
      const { rss: stored, heapUsed: heapStored } = await server.call<NodeJS.MemoryUsage>('memory');
      const read = await server.call<number>('readApplications', { count: storedApplications });
      const { rss: after, heapUsed: heapAfter } = await server.call<NodeJS.MemoryUsage>('memory');
      context.rows.push({
        scenario: '6', variant: `${formatNumber(storedApplications)} apps + grants stored, ${formatNumber(read)} read through the directory, embedded store`,
        server: 'Gatehouse', ratio: after / idle,
        figures: {
          rss_idle_mib: idle / MIB, rss_stored_mib: stored / MIB, rss_applications_mib: after / MIB,
          // What the JavaScript heap still holds after a collection (the read cache, bounded), against the RSS's growth.
          heap_held_mib: (heapAfter - heapStored) / MIB,
        },
        note: `ratio: RSS at the end over the RSS of an empty server idle; target: at most ${STORED_APPLICATIONS_BUDGET_MIB} MiB above it`,
      });
      context.notes.push(`Stored applications: with ${formatNumber(storedApplications)} applications and their client grants in the embedded store, all read once, `
        + `the server's RSS is ${formatNumber((after - idle) / MIB)} MiB above an empty server's idle RSS (target: within ${STORED_APPLICATIONS_BUDGET_MIB} MiB), `
        + `${formatNumber((stored - idle) / MIB)} MiB before any was read; the JavaScript heap holds ${formatNumber((heapAfter - heapStored) / MIB)} MiB more after reading them.`);
    } finally {
      await stopServer(context, server);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function memoryScenario(context: BenchContext): Promise<void> {
  await measureStoredApplications(context);
  await measureMemory(context, 'embedded');
  if (context.redis) await measureMemory(context, 'redis');
  else context.notes.push(`Memory with Redis skipped: ${context.redisUnavailable}.`);
}
