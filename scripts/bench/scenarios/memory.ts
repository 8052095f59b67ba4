import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { authorizationCodeFlow, HttpClient } from '../lib/browser.ts';
import { measureRequests, measureTasks } from '../lib/load.ts';
import { redisUsedMemory, ServerProcess } from '../lib/processes.ts';
import { formatNumber } from '../lib/report.ts';
import { apiIdentifier, CALLBACK, type Credentials, type ProtocolServerArgs, type ProtocolServerReady } from '../servers/fixtures.ts';
import { stopServer, tokenRequest, type BenchContext } from './context.ts';

const MIB = 2 ** 20;

/** Issue 12's bound: stored applications live in the database file, not in the process. */
const STORED_APPLICATIONS_BUDGET_MIB = 64;

/**
 * Client-credentials tokens at full load for the timing's duration: the work any server in service does, so that both
 * sides of a comparison have compiled and cached what serving takes. (Under such a load V8 also grows its young
 * generation to two semi-spaces of 64 MiB; memoryAfterGc's last-resort collection gives those pages back.)
 */
async function serveTokens(context: BenchContext, server: ServerProcess<ProtocolServerReady>, credentials: Credentials): Promise<void> {
  await measureRequests(server.pid, server.ready.origin, tokenRequest({ ...server.ready, machine: credentials }, 'ES256'), context.settings.timing);
}

/**
 * 6. What registered applications and live sessions (signed-in users with a code issued) cost a Gatehouse process, on
 * the embedded store and with Redis for sessions. The server first serves a token load, so that what follows is not
 * V8 growing its heap to its working size (see serveTokens); the sessions are opened in two rounds, and the second
 * round's growth is what a live session costs once the process is at its working size. The password cost is lowered
 * here: it changes how long a login takes, not what a session stores.
 */
async function measureMemory(context: BenchContext, storage: 'embedded' | 'redis'): Promise<void> {
  const { memoryItems } = context.settings;
  const redis = storage === 'redis' ? context.redis : undefined;
  const args = redis ? { redisUrl: redis.url, redisKeyPrefix: `gatehouse-bench-memory-${process.pid}:` } : {};
  const server = await ServerProcess.start<ProtocolServerReady>(`Gatehouse (${storage}, memory)`, 'gatehouse.ts', { args, env: { GATEHOUSE_PASSWORD_COST: 'low' }, exposeGc: true });
  try {
    const usage = () => server.call<NodeJS.MemoryUsage>('memory');
    await serveTokens(context, server, server.ready.machine);
    const idle = (await usage()).rss;
    await measureRequests(server.pid, server.ready.origin, {
      path: '/oidc/register', expectStatus: 201, json: { redirect_uris: [CALLBACK], client_name: 'Registered by the benchmark' },
    }, { ...context.settings.timing, connections: 8, amount: memoryItems });
    const withApplications = (await usage()).rss;
    const http = new HttpClient(server.ready.origin, 8);
    const openSessions = (amount: number) => measureTasks(server.pid, () => authorizationCodeFlow(http, server.ready, {
      client: server.ready.firstParty, audience: apiIdentifier('ES256'), skipTokenRequest: true,
    }), { ...context.settings.flowTiming, connections: 8, amount });
    const firstRound = await openSessions(memoryItems);
    const firstUsage = await usage();
    const redisBefore = redis ? await redisUsedMemory(redis.url) : 0;
    const sessions = await openSessions(memoryItems);
    http.close();
    const sessionsUsage = await usage();
    const withSessions = sessionsUsage.rss;
    const redisBytes = redis ? await redisUsedMemory(redis.url) - redisBefore : undefined;
    context.rows.push({
      scenario: '6', variant: `${formatNumber(memoryItems)} apps + ${formatNumber(firstRound.operations + sessions.operations)} sessions, ${storage === 'redis' ? 'Redis for sessions' : 'embedded store'}`,
      server: 'Gatehouse',
      ratio: withSessions / idle,
      figures: {
        rss_idle_mib: idle / MIB, rss_applications_mib: withApplications / MIB, rss_sessions_mib: withSessions / MIB,
        bytes_per_application: (withApplications - idle) / memoryItems, bytes_per_session: (withSessions - firstUsage.rss) / sessions.operations,
        // What the JavaScript heap still holds per session after a collection (the rest of the RSS growth is memory
        // the process keeps from its peak: V8's heap pages and the allocator's arenas).
        bytes_per_session_heap: (sessionsUsage.heapUsed - firstUsage.heapUsed) / sessions.operations,
        ...(redisBytes === undefined ? {} : { redis_bytes_per_session: redisBytes / sessions.operations }),
      },
      note: 'idle: after a token load; per session: the second round of sessions; ratio: RSS at the end over RSS idle',
    });
  } finally {
    await stopServer(context, server);
  }
}

/**
 * Issue 12's bound: what applications stored in the embedded store cost the process. Two servers do the same work
 * (a load of client-credentials tokens) and idle: one on a store with the benchmark's fixtures only, one on a store
 * holding many applications (each with a client grant) that then reads every one of them through the application
 * directory (the read cache then holds as many as it keeps). Target: the second within 64 MiB of the first. The
 * applications are stored by a third server, which then stops: a server that populated its own store keeps the memory
 * of that work, which is not what stored applications cost. The RSS of both before any request is reported beside it.
 */
async function measureStoredApplications(context: BenchContext): Promise<void> {
  const { storedApplications } = context.settings;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-stored-'));
  const start = (name: string, args: ProtocolServerArgs) =>
    ServerProcess.start<ProtocolServerReady>(`Gatehouse (${name})`, 'gatehouse.ts', { args, exposeGc: true, timeoutMs: 600_000 });
  const memory = (server: ServerProcess<ProtocolServerReady>) => server.call<NodeJS.MemoryUsage>('memory');
  try {
    const empty = await start('empty, memory', {});
    const { rss: idleCold, heapTotal: heapCommittedCold } = await memory(empty);
    await serveTokens(context, empty, empty.ready.machine);
    const { rss: idle, heapTotal: heapCommitted } = await memory(empty);
    await stopServer(context, empty);
    const filler = await start('storing applications', { dataDir });
    await filler.call('populate', { total: storedApplications });
    const { machine } = filler.ready; // the stored fixtures keep only a hash of its secret
    await stopServer(context, filler);
    const server = await start('stored applications, memory', { dataDir });
    try {
      const storedCold = (await memory(server)).rss;
      await serveTokens(context, server, machine);
      const { rss: stored, heapUsed: heapStored } = await memory(server);
      const read = await server.call<number>('readApplications', { count: storedApplications });
      const { rss: after, heapUsed: heapAfter } = await memory(server);
      context.rows.push({
        scenario: '6', variant: `${formatNumber(storedApplications)} apps + grants stored, ${formatNumber(read)} read through the directory, embedded store`,
        server: 'Gatehouse', ratio: after / idle,
        figures: {
          rss_idle_before_requests_mib: idleCold / MIB, rss_stored_before_requests_mib: storedCold / MIB,
          rss_without_apps_mib: idle / MIB, rss_stored_mib: stored / MIB, rss_applications_mib: after / MIB,
          // What the JavaScript heap still holds after a collection (the read cache, bounded), against the RSS's growth.
          heap_held_mib: (heapAfter - heapStored) / MIB,
        },
        note: `both servers after the same token load; ratio: RSS at the end over the RSS of the server without them; target: at most ${STORED_APPLICATIONS_BUDGET_MIB} MiB above it`,
      });
      context.notes.push(`Stored applications: with ${formatNumber(storedApplications)} applications and their client grants in the embedded store, all read once, `
        + `the server's RSS is ${formatNumber((after - idle) / MIB)} MiB above that of a server without them after the same token load (target: within ${STORED_APPLICATIONS_BUDGET_MIB} MiB), `
        + `${formatNumber((stored - idle) / MIB)} MiB before any was read; the JavaScript heap holds ${formatNumber((heapAfter - heapStored) / MIB)} MiB more after reading them. `
        + `Before serving any request the two servers' RSS were ${formatNumber(idleCold / MIB)} and ${formatNumber(storedCold / MIB)} MiB: the token load alone grows a server by `
        + `${formatNumber((idle - idleCold) / MIB)} MiB, of which ${formatNumber((heapCommitted - heapCommittedCold) / MIB)} MiB is V8's heap `
        + 'and the rest native memory (compiled code, caches, allocator arenas).');
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
