import { selfTimes, type CpuProfile } from '../lib/cpu-profile.ts';
import { measureRequests, type LoadRequest, type Measurement } from '../lib/load.ts';
import type { Gap, GapSide } from '../lib/report.ts';
import { addComparison, preflight, startProtocolServers, stopServer, tokenRequest, type BenchContext, type ProtocolServer } from './context.ts';
import { loginRun, refreshRun, REGISTRATION_REQUEST } from './protocol.ts';

/** Areas listed per workload: those whose cost differs most between the two servers. */
const AREAS_SHOWN = 14;
/** Functions listed per workload, likewise. */
const FUNCTIONS_SHOWN = 12;

/** A measured run that calls `beforeMeasured` once its warm-up is over. */
type MeasuredRun = (server: ProtocolServer, beforeMeasured: () => Promise<unknown>) => Promise<Measurement>;

const requestRun = (context: BenchContext, requestFor: (server: ProtocolServer) => LoadRequest, expectAlg?: string): MeasuredRun => async (server, beforeMeasured) => {
  const request = requestFor(server);
  await preflight(server.ready.origin, request, expectAlg);
  return measureRequests(server.pid, server.ready.origin, request, { ...context.settings.timing, beforeMeasured });
};

/** One server's measured run with its main thread profiled over exactly that run: self time per operation, by area and function. */
async function profiledRun(name: string, server: ProtocolServer, run: MeasuredRun): Promise<{ measurement: Measurement; side: GapSide; areas: Map<string, number>; functions: Map<string, number> }> {
  const measurement = await run(server, () => server.call('profile_start'));
  const times = selfTimes(await server.call<CpuProfile>('profile_stop'));
  const perOperation = (totals: Map<string, number>) => new Map([...totals].map(([key, micros]) => [key, micros / measurement.operations]));
  return {
    measurement,
    side: {
      server: name,
      operations: measurement.operations,
      per_cpu_s: measurement.perCpuSecond,
      main_thread_us_per_op: (1e6 * measurement.mainThreadCpuSeconds) / measurement.operations,
      profiled_us_per_op: times.busy / measurement.operations,
    },
    areas: perOperation(times.areas),
    functions: perOperation(times.functions),
  };
}

/** The entries of two per-operation maps whose values differ most (subject minus baseline), largest first. */
function largestDifferences(subject: Map<string, number>, baseline: Map<string, number>, count: number) {
  return [...new Set([...subject.keys(), ...baseline.keys()])]
    .map((name) => ({ name, subject_us: subject.get(name) ?? 0, baseline_us: baseline.get(name) ?? 0 }))
    .sort((a, b) => Math.abs(b.subject_us - b.baseline_us) - Math.abs(a.subject_us - a.baseline_us))
    .slice(0, count);
}

/**
 * gap. Where Gatehouse's time per operation goes beyond the bare library's, for the workloads whose target (≥ 1.0x)
 * is not met: the same measured runs as scenarios 1 (ES256; RS256 differs by its signature, made off the main thread),
 * 4b, 2 and 3 (first-party), on fresh servers, with the main thread's CPU profile taken over exactly the measured run,
 * and self time per operation compared by area (our files, each package, Node, GC) and by function. The profiler
 * costs both sides a few percent: these rates are not the other scenarios'. Passwords are hashed at the low cost (the
 * Argon2id check runs in libuv's pool on both sides, not on the main thread profiled here).
 */
export async function gapScenario(context: BenchContext): Promise<void> {
  const refresh: MeasuredRun = async (server, beforeMeasured) => (await refreshRun(context, server, beforeMeasured)).measurement;
  const workloads: [string, MeasuredRun, 'memory' | 'redis'][] = [
    ['client-credentials token (ES256)', requestRun(context, (server) => tokenRequest(server.ready, 'ES256'), 'ES256'), 'memory'],
    ['refresh with rotation (embedded store / in-memory adapter)', refresh, 'memory'],
    ...(context.redis ? [['refresh with rotation (Redis)', refresh, 'redis'] as [string, MeasuredRun, 'redis']] : []),
    ['open registration', requestRun(context, () => REGISTRATION_REQUEST), 'memory'],
    ['login, first-party app (no consent page)', (server, beforeMeasured) => loginRun(context, server, 'firstParty', beforeMeasured), 'memory'],
  ];
  for (const [workload, run, storage] of workloads) {
    const { gatehouse, bare } = await startProtocolServers(context, storage, { GATEHOUSE_PASSWORD_COST: 'low' });
    try {
      const subject = await profiledRun('Gatehouse', gatehouse, run);
      const baseline = await profiledRun('bare oidc-provider', bare, run);
      const gap: Gap = {
        workload,
        subject: subject.side,
        baseline: baseline.side,
        areas: largestDifferences(subject.areas, baseline.areas, AREAS_SHOWN),
        functions: largestDifferences(subject.functions, baseline.functions, FUNCTIONS_SHOWN),
      };
      context.gaps.push(gap);
      addComparison(context, 'gap', workload, { server: subject.side.server, measurement: subject.measurement, note: 'profiler on' },
        { server: baseline.side.server, measurement: baseline.measurement, note: 'profiler on' });
    } finally {
      await Promise.all([stopServer(context, gatehouse), stopServer(context, bare)]);
    }
  }
}
