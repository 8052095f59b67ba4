import { authorizationCodeFlow, HttpClient } from '../lib/browser.ts';
import { measureRequests, measureTasks } from '../lib/load.ts';
import { redisUsedMemory, ServerProcess } from '../lib/processes.ts';
import { formatNumber } from '../lib/report.ts';
import { apiIdentifier, CALLBACK, type ProtocolServerReady } from '../servers/fixtures.ts';
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
    const rss = async () => (await server.call<NodeJS.MemoryUsage>('memory')).rss;
    const idle = await rss();
    await measureRequests(server.pid, server.ready.origin, {
      path: '/oidc/register', expectStatus: 201, json: { redirect_uris: [CALLBACK], client_name: 'Registered by the benchmark' },
    }, { ...context.settings.timing, connections: 8, amount: memoryItems });
    const withApplications = await rss();
    const redisBefore = redis ? await redisUsedMemory(redis.url) : 0;
    const http = new HttpClient(server.ready.origin, 8);
    const sessions = await measureTasks(server.pid, () => authorizationCodeFlow(http, server.ready, {
      client: server.ready.firstParty, audience: apiIdentifier('ES256'), skipTokenRequest: true,
    }), { ...context.settings.flowTiming, connections: 8, amount: memoryItems });
    http.close();
    const withSessions = await rss();
    const redisBytes = redis ? await redisUsedMemory(redis.url) - redisBefore : undefined;
    context.rows.push({
      scenario: '6', variant: `${formatNumber(memoryItems)} apps + ${formatNumber(sessions.operations)} sessions, ${storage === 'redis' ? 'Redis for sessions' : 'embedded store'}`,
      server: 'Gatehouse',
      ratio: withSessions / idle,
      figures: {
        rss_idle_mib: idle / MIB, rss_applications_mib: withApplications / MIB, rss_sessions_mib: withSessions / MIB,
        bytes_per_application: (withApplications - idle) / memoryItems, bytes_per_session: (withSessions - withApplications) / sessions.operations,
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
 * Resident size with many applications (each with a client grant) in the embedded store, after the read cache has
 * been filled with as many of them as it keeps, against the same process idle. Target: within 64 MiB of idle.
 */
async function measureStoredApplications(context: BenchContext): Promise<void> {
  const { storedApplications } = context.settings;
  const server = await ServerProcess.start<ProtocolServerReady>('Gatehouse (stored applications, memory)', 'gatehouse.ts', { exposeGc: true });
  try {
    const rss = async () => (await server.call<NodeJS.MemoryUsage>('memory')).rss;
    const idle = await rss();
    await server.call('populate', { total: storedApplications });
    const read = await server.call<number>('readApplications', { count: storedApplications });
    const after = await rss();
    context.rows.push({
      scenario: '6', variant: `${formatNumber(storedApplications)} apps + grants stored, ${formatNumber(read)} read through the directory, embedded store`,
      server: 'Gatehouse', ratio: after / idle,
      figures: { rss_idle_mib: idle / MIB, rss_applications_mib: after / MIB },
      note: `ratio: RSS at the end over RSS idle; target: at most ${STORED_APPLICATIONS_BUDGET_MIB} MiB above idle`,
    });
    context.notes.push(`Stored applications: with ${formatNumber(storedApplications)} applications and their client grants in the embedded store (all read once), `
      + `the process grew ${formatNumber((after - idle) / MIB)} MiB over its idle RSS (target: within ${STORED_APPLICATIONS_BUDGET_MIB} MiB).`);
  } finally {
    await stopServer(context, server);
  }
}

export async function memoryScenario(context: BenchContext): Promise<void> {
  await measureStoredApplications(context);
  await measureMemory(context, 'embedded');
  if (context.redis) await measureMemory(context, 'redis');
  else context.notes.push(`Memory with Redis skipped: ${context.redisUnavailable}.`);
}
