import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import path from 'node:path';
import type { Measurement } from './load.ts';
import { NODE_BINARY, REPO_ROOT } from './processes.ts';

/** Scenario ids as issue 9 numbers them; `ceiling` is the physical limit the others are compared with. */
export const SCENARIOS = {
  '1': 'Client-credentials token',
  '1l': 'Client-credentials token, tenant log on vs off',
  '2': 'Dynamic registration',
  '3': 'Login: authorization code + PKCE',
  '4b': 'Refresh with rotation',
  '4': 'Access-token verification',
  '5': 'Cost growth',
  '6': 'Memory',
  '12': 'Storage: SQLite store against the JSON-lines journal',
  gap: 'Profile of the gap to the bare library',
  ceiling: 'Ceiling on one core',
} as const;
export type ScenarioId = keyof typeof SCENARIOS;

/** One line of the table: one server's run, or a set of figures (memory, ceilings). */
export interface Row {
  scenario: ScenarioId;
  /** What was measured, e.g. "ES256", "third-party app, 10k applications". */
  variant: string;
  /** Who served it: "Gatehouse", "bare oidc-provider", "jose jwtVerify"… */
  server: string;
  measurement?: Measurement;
  /** Per CPU-second, against the baseline row of the same variant (the baseline's own row says 1). */
  ratio?: number;
  /** Other numbers, by name (units in the name: `_mib`, `_bytes`, `_per_cpu_s`). */
  figures?: Record<string, number>;
  note?: string;
}

/** One server's side of a profiled run (scenario `gap`), per operation. */
export interface GapSide {
  server: string;
  operations: number;
  per_cpu_s: number;
  /** CPU time of the main thread (from /proc), per operation. */
  main_thread_us_per_op: number;
  /** What the profiler saw the main thread busy with (its samples can also fall in time the thread waited in a system call). */
  profiled_us_per_op: number;
}

/** Self time per operation of one area (or function) on both sides. */
export interface GapEntry {
  name: string;
  subject_us: number;
  baseline_us: number;
}

/** Where Gatehouse's time per operation differs most from the bare library's, for one workload. */
export interface Gap {
  workload: string;
  subject: GapSide;
  baseline: GapSide;
  /** By area (our files, each package, Node's internals, GC), largest differences first. */
  areas: GapEntry[];
  /** By function, likewise. */
  functions: GapEntry[];
}

export interface Machine {
  cpus: number;
  cpu_model: string;
  memory_gib: number;
  node: string;
  oidc_provider: string;
  autocannon: string;
  redis: string;
  mongodb: string;
}

export interface Report {
  mode: 'full' | 'quick';
  started_at: string;
  seconds: number;
  machine: Machine;
  method: string;
  rows: Row[];
  gaps: Gap[];
  notes: string[];
}

const packageVersion = (name: string) =>
  (JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

export function describeMachine(redis: string): Machine {
  const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  return {
    cpus: availableParallelism(),
    cpu_model: cpuModel,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: execFileSync(NODE_BINARY, ['--version'], { encoding: 'utf8' }).trim(),
    oidc_provider: packageVersion('oidc-provider'),
    autocannon: packageVersion('autocannon'),
    redis,
    mongodb: 'not measured: mongod cannot be installed on this machine',
  };
}

/** 3 significant digits, thousands separated: 12,300 / 45.6 / 0.789. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return Math.round(Number(value.toPrecision(3))).toLocaleString('en-US');
  return String(Number(value.toPrecision(3)));
}

const FIGURE_LABELS: Record<string, string> = {
  writes_per_refresh: 'storage writes per refresh',
  rss_idle_mib: 'RSS idle MiB',
  rss_applications_mib: 'RSS with apps MiB',
  rss_stored_mib: 'RSS with apps stored, none read MiB',
  rss_without_apps_mib: 'RSS without apps MiB',
  rss_idle_before_requests_mib: 'RSS without apps, before any request MiB',
  rss_stored_before_requests_mib: 'RSS with apps stored, before any request MiB',
  heap_held_mib: 'JS heap held after reading them MiB',
  rss_sessions_mib: 'RSS with apps + sessions MiB',
  bytes_per_application: 'B per app',
  bytes_per_session: 'B per session (process)',
  bytes_per_session_heap: 'B per session (JS heap)',
  redis_bytes_per_session: 'B per session (Redis)',
  per_cpu_s: 'ops per CPU-s',
  fraction_of_ceiling: 'token endpoint as fraction of it',
  kdf_fraction: 'fraction of the KDF ceiling',
};

function describeFigures(figures: Record<string, number> | undefined): string {
  if (!figures) return '';
  return Object.entries(figures).map(([name, value]) => `${FIGURE_LABELS[name] ?? name} ${formatNumber(value)}`).join('; ');
}

/** The table as Markdown: readable on a terminal, and pasted as is into docs/PERFORMANCE.md. */
export function markdownTable(rows: Row[]): string {
  const header = ['#', 'Scenario', 'Variant', 'Server', 'ops/s', 'p50 ms', 'p99 ms', 'Server CPU-s', 'ops per CPU-s', 'Ratio', 'Main thread µs per op', 'Other'];
  const lines = [header, header.map(() => '---')];
  for (const row of rows) {
    const m = row.measurement;
    lines.push([
      row.scenario, SCENARIOS[row.scenario], row.variant, row.server,
      formatNumber(m?.perSecond), formatNumber(m?.p50Ms), formatNumber(m?.p99Ms), formatNumber(m?.serverCpuSeconds),
      formatNumber(m?.perCpuSecond), row.ratio === undefined ? '' : `${formatNumber(row.ratio)}x`,
      formatNumber(m && m.operations > 0 ? (1e6 * m.mainThreadCpuSeconds) / m.operations : undefined),
      [describeFigures(row.figures), m?.failures ? `${m.failures} failed` : '', row.note ?? ''].filter(Boolean).join('; '),
    ]);
  }
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const micros = (value: number) => `${value.toFixed(1)}`;
const signed = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(1)}`;

/** Each workload's gap as Markdown: the main thread per operation on both sides, then the areas and functions that differ most. */
export function markdownGaps(gaps: Gap[]): string {
  return gaps.map((gap) => {
    const { subject, baseline } = gap;
    const table = (title: string, entries: GapEntry[]) => [
      `| ${title} | ${subject.server} µs per op | ${baseline.server} µs per op | Difference |`,
      '| --- | --- | --- | --- |',
      ...entries.map((entry) => `| ${entry.name.replaceAll('|', '\\|')} | ${micros(entry.subject_us)} | ${micros(entry.baseline_us)} | ${signed(entry.subject_us - entry.baseline_us)} |`),
    ].join('\n');
    return [
      `**${gap.workload}**: main thread ${micros(subject.main_thread_us_per_op)} µs per operation for ${subject.server}, `
        + `${micros(baseline.main_thread_us_per_op)} µs for ${baseline.server} (${formatNumber(subject.main_thread_us_per_op / baseline.main_thread_us_per_op)}x); `
        + `profiled busy time ${micros(subject.profiled_us_per_op)} and ${micros(baseline.profiled_us_per_op)} µs; `
        + `${formatNumber(subject.operations)} and ${formatNumber(baseline.operations)} operations, profiler on.`,
      '',
      table('Area (self time)', gap.areas),
      '',
      table('Function (self time)', gap.functions),
    ].join('\n');
  }).join('\n\n');
}

export function machineLine(machine: Machine): string {
  return `${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gib} GiB; Node ${machine.node}; oidc-provider ${machine.oidc_provider}; `
    + `autocannon ${machine.autocannon}; Redis ${machine.redis}; MongoDB ${machine.mongodb}`;
}
