import autocannon from 'autocannon';
import { cpuSeconds, mainThreadCpuSeconds } from './processes.ts';

/** One measured run against one server process. */
export interface Measurement {
  /** Successful operations (requests with the expected status, or completed flows). */
  operations: number;
  /** Failed operations (other statuses, socket errors, timeouts, broken flows). */
  failures: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time the server process used during the run (user + system, all its threads). */
  serverCpuSeconds: number;
  /** The part of it spent on the main thread, the one that runs the JavaScript. */
  mainThreadCpuSeconds: number;
  /** The headline figure: successful operations per CPU-second of the server. */
  perCpuSecond: number;
}

export interface Timing {
  warmupSeconds: number;
  seconds: number;
  connections: number;
  /** Run this many operations instead of running for `seconds` (no warm-up then). */
  amount?: number;
}

export interface RunTiming extends Timing {
  /** Called after the warm-up, right before the measured run (e.g. to snapshot counters). */
  beforeMeasured?: () => Promise<unknown>;
}

/** The server's CPU time so far: all threads, and the main thread. */
const cpuOf = (pid: number) => ({ all: cpuSeconds(pid), main: mainThreadCpuSeconds(pid) });

function measurement(operations: number, failures: number, seconds: number, p50Ms: number, p99Ms: number, before: ReturnType<typeof cpuOf>, after: ReturnType<typeof cpuOf>): Measurement {
  const serverCpu = after.all - before.all;
  return {
    operations, failures, seconds, perSecond: operations / seconds, p50Ms, p99Ms, serverCpuSeconds: serverCpu, mainThreadCpuSeconds: after.main - before.main,
    perCpuSecond: serverCpu > 0 ? operations / serverCpu : Number.NaN,
  };
}

export interface LoadRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
  json?: unknown;
  /** The status a successful answer has (default 200). */
  expectStatus?: number;
  /** For request chains (refresh rotation): builds each request body, and reads each answer. */
  nextForm?: () => Record<string, string> | undefined;
  onAnswer?: (status: number, body: string) => void;
}

function autocannonOptions(origin: string, request: LoadRequest, connections: number): autocannon.Options {
  const url = new URL(request.path, origin);
  if (url.hostname !== '127.0.0.1') throw new Error(`the benchmark only talks to 127.0.0.1, not ${url.hostname}`);
  const body = request.form ? new URLSearchParams(request.form).toString() : request.json === undefined ? undefined : JSON.stringify(request.json);
  const contentType = request.form || request.nextForm ? 'application/x-www-form-urlencoded' : request.json === undefined ? undefined : 'application/json';
  const { nextForm, onAnswer } = request;
  return {
    url: url.toString(),
    connections,
    // autocannon checks for the end of a run once per sample: sample often, so that short runs last what they should.
    sampleInt: 100,
    method: request.method ?? (body === undefined && !nextForm ? 'GET' : 'POST'),
    headers: { ...request.headers, ...(contentType ? { 'content-type': contentType } : {}) },
    ...(body === undefined ? {} : { body }),
    ...(nextForm || onAnswer ? {
      requests: [{
        ...(nextForm ? {
          setupRequest: (req: autocannon.Request) => {
            const form = nextForm();
            return form ? { ...req, body: new URLSearchParams(form).toString() } : req;
          },
        } : {}),
        ...(onAnswer ? { onResponse: (status: number, answer: string) => onAnswer(status, answer) } : {}),
      }],
    } : {}),
  };
}

const runCannon = (options: autocannon.Options) => new Promise<autocannon.Result>((resolve, reject) => {
  autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
});

/**
 * autocannon (closed model, keep-alive, no pipelining) against a server on loopback: a warm-up, then a measured run
 * during which the server's CPU time is read from /proc. `amount` runs a fixed number of requests instead of a duration.
 */
export async function measureRequests(pid: number, origin: string, request: LoadRequest, timing: RunTiming): Promise<Measurement> {
  const options = autocannonOptions(origin, request, timing.connections);
  if (timing.warmupSeconds > 0 && timing.amount === undefined) await runCannon({ ...options, duration: timing.warmupSeconds });
  await timing.beforeMeasured?.();
  const cpuBefore = cpuOf(pid);
  const result = await runCannon(timing.amount === undefined ? { ...options, duration: timing.seconds } : { ...options, amount: timing.amount });
  const cpuAfter = cpuOf(pid);
  const expected = request.expectStatus ?? 200;
  const operations = (result.statusCodeStats as Record<string, { count: number }> | undefined)?.[String(expected)]?.count ?? 0;
  const failures = result.requests.total - operations + result.errors + result.timeouts;
  return measurement(operations, failures, result.duration, result.latency.p50, result.latency.p99, cpuBefore, cpuAfter);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

/**
 * A closed loop of `connections` workers running a multi-request task (a login flow) until the time is up or
 * `amount` tasks have run; latency is that of the whole task.
 */
export async function measureTasks(pid: number, task: () => Promise<unknown>, timing: RunTiming): Promise<Measurement> {
  const loop = async (seconds: number, amount: number) => {
    const deadline = Date.now() + seconds * 1000;
    const latencies: number[] = [];
    let started = 0;
    let failures = 0;
    let firstError: Error | undefined;
    const worker = async () => {
      while (Date.now() < deadline && started < amount) {
        started += 1;
        const begin = performance.now();
        try {
          await task();
          latencies.push(performance.now() - begin);
        } catch (err) {
          failures += 1;
          firstError ??= err as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: timing.connections }, worker));
    if (latencies.length === 0 && firstError) throw firstError;
    return { latencies, failures };
  };
  if (timing.warmupSeconds > 0 && timing.amount === undefined) await loop(timing.warmupSeconds, Number.POSITIVE_INFINITY);
  await timing.beforeMeasured?.();
  const cpuBefore = cpuOf(pid);
  const begin = performance.now();
  const { latencies, failures } = await loop(timing.amount === undefined ? timing.seconds : 3600, timing.amount ?? Number.POSITIVE_INFINITY);
  const seconds = (performance.now() - begin) / 1000;
  const cpuAfter = cpuOf(pid);
  latencies.sort((a, b) => a - b);
  return measurement(latencies.length, failures, seconds, percentile(latencies, 0.5), percentile(latencies, 0.99), cpuBefore, cpuAfter);
}
