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
  const header = ['#', 'Scenario', 'Variant', 'Server', 'ops/s', 'p50 ms', 'p99 ms', 'Server CPU-s', 'ops per CPU-s', 'Ratio', 'Other'];
  const lines = [header, header.map(() => '---')];
  for (const row of rows) {
    const m = row.measurement;
    lines.push([
      row.scenario, SCENARIOS[row.scenario], row.variant, row.server,
      formatNumber(m?.perSecond), formatNumber(m?.p50Ms), formatNumber(m?.p99Ms), formatNumber(m?.serverCpuSeconds),
      formatNumber(m?.perCpuSecond), row.ratio === undefined ? '' : `${formatNumber(row.ratio)}x`,
      [describeFigures(row.figures), m?.failures ? `${m.failures} failed` : '', row.note ?? ''].filter(Boolean).join('; '),
    ]);
  }
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function machineLine(machine: Machine): string {
  return `${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gib} GiB; Node ${machine.node}; oidc-provider ${machine.oidc_provider}; `
    + `autocannon ${machine.autocannon}; Redis ${machine.redis}; MongoDB ${machine.mongodb}`;
}
