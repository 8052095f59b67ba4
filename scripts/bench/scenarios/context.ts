import { HttpClient } from '../lib/browser.ts';
import { measureRequests, type LoadRequest, type Measurement, type Timing } from '../lib/load.ts';
import { deleteRedisKeys, ServerProcess, type RedisServer } from '../lib/processes.ts';
import { SCENARIOS, type Gap, type Row, type ScenarioId } from '../lib/report.ts';
import { API_SCOPES, apiIdentifier, type BenchAlg, type ProtocolServerArgs, type ProtocolServerReady } from '../servers/fixtures.ts';

export interface Settings {
  quick: boolean;
  /** Request scenarios (tokens, registration, refresh, verification, growth). */
  timing: Timing;
  /** Login flows: fewer workers, as each one waits on the password KDF. */
  flowTiming: Timing;
  growthSizes: number[];
  /** Applications registered and sessions opened in the memory scenario. */
  memoryItems: number;
  /** Applications (with client grants) stored for the memory bound of the embedded store. */
  storedApplications: number;
}

export interface Ceiling {
  signatures: Record<string, number>;
  passwordVerifications: number;
}

export interface BenchContext {
  settings: Settings;
  /** Whether a scenario was asked for (all, unless --only). */
  selected(id: ScenarioId): boolean;
  redis: RedisServer | undefined;
  /** Why Redis variants are skipped, when they are. */
  redisUnavailable: string | undefined;
  ceiling: Ceiling | undefined;
  rows: Row[];
  /** Profiles of the gap to the bare library (scenario `gap`). */
  gaps: Gap[];
  notes: string[];
}

/** Runs one scenario, saying on stderr how long it took (a full run lasts minutes). */
export async function timed(id: ScenarioId, run: () => Promise<void>): Promise<void> {
  const begin = Date.now();
  await run();
  process.stderr.write(`bench: ${id} ${SCENARIOS[id]}: ${((Date.now() - begin) / 1000).toFixed(1)} s\n`);
}

export interface Contender {
  server: string;
  measurement: Measurement;
  figures?: Record<string, number>;
  note?: string;
}

/** Two rows, Gatehouse's and the baseline's, with Gatehouse's rate per CPU-second as a ratio of the baseline's. */
export function addComparison(context: BenchContext, scenario: ScenarioId, variant: string, subject: Contender, baseline: Contender): void {
  const ratio = subject.measurement.perCpuSecond / baseline.measurement.perCpuSecond;
  context.rows.push({ scenario, variant, ...subject, ratio }, { scenario, variant, ...baseline, ratio: 1 });
}

export type ProtocolServer = ServerProcess<ProtocolServerReady>;

/** Gatehouse and the bare oidc-provider on the same kind of storage: in memory (embedded), or Redis for short-lived artifacts. */
export async function startProtocolServers(context: BenchContext, storage: 'memory' | 'redis', env: NodeJS.ProcessEnv): Promise<{ gatehouse: ProtocolServer; bare: ProtocolServer }> {
  const redisArgs = (name: string): ProtocolServerArgs => (storage === 'redis' && context.redis
    ? { redisUrl: context.redis.url, redisKeyPrefix: `gatehouse-bench-${name}-${process.pid}:` }
    : {});
  const [gatehouse, bare] = await Promise.all([
    ServerProcess.start<ProtocolServerReady>(`Gatehouse (${storage})`, 'gatehouse.ts', { args: redisArgs('gatehouse'), env }),
    ServerProcess.start<ProtocolServerReady>(`bare oidc-provider (${storage})`, 'bare.ts', { args: redisArgs('bare'), env }),
  ]);
  return { gatehouse, bare };
}

/** Stops a server and removes what it wrote to a shared Redis. */
export async function stopServer(context: BenchContext, server: ProtocolServer): Promise<void> {
  await server.stop();
  if (context.redis && server.ready.redisKeyPrefix) await deleteRedisKeys(context.redis.url, server.ready.redisKeyPrefix);
}

/** A client-credentials request as each server expects it (Gatehouse fills the scope from the client grant, Auth0-style). */
export function tokenRequest(server: ProtocolServerReady, alg: BenchAlg): LoadRequest {
  return {
    path: '/oauth/token',
    form: {
      grant_type: 'client_credentials', ...server.machine, [server.audienceParameter]: apiIdentifier(alg),
      ...(server.audienceParameter === 'resource' ? { scope: API_SCOPES.join(' ') } : {}),
    },
  };
}

const jwtHeader = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as { alg?: string };

/** One request before a run, so that a misconfigured scenario fails loudly instead of measuring errors. */
export async function preflight(origin: string, request: LoadRequest, expectAlg?: string): Promise<string> {
  const http = new HttpClient(origin, 1);
  try {
    const res = await http.send(request.method ?? (request.form || request.json !== undefined ? 'POST' : 'GET'), request.path, {
      headers: { ...request.headers, ...(request.json === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(request.form ? { form: request.form } : {}),
      ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
    });
    if (res.status !== (request.expectStatus ?? 200)) throw new Error(`${origin}${request.path.split('?')[0]} answered ${res.status}: ${res.body.slice(0, 400)}`);
    if (expectAlg) {
      const token = (JSON.parse(res.body) as { access_token: string }).access_token;
      if (jwtHeader(token).alg !== expectAlg) throw new Error(`expected an ${expectAlg} access token, got ${jwtHeader(token).alg}`);
    }
    return res.body;
  } finally {
    http.close();
  }
}

/** A checked request, then a measured run of it against one server. */
export async function measureServer(context: BenchContext, server: ServerProcess<{ origin: string }>, request: LoadRequest, expectAlg?: string): Promise<Measurement> {
  await preflight(server.ready.origin, request, expectAlg);
  return measureRequests(server.pid, server.ready.origin, request, context.settings.timing);
}

/** The median of an odd number of runs by their rate: one run disturbed by the shared machine does not decide. */
export const medianRun = <T>(runs: T[], rateOf: (run: T) => number): T =>
  runs.toSorted((a, b) => rateOf(a) - rateOf(b))[Math.floor(runs.length / 2)] as T;

/** Sum of storage writes between two snapshots of a server's counters. */
export function writesBetween(before: Record<string, number>, after: Record<string, number>): number {
  return Object.entries(after).reduce((sum, [name, count]) => sum + count - (before[name] ?? 0), 0);
}
