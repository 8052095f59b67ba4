/**
 * `npm run bench`: Gatehouse's speed and memory, each figure per CPU-second of the server process and as a ratio
 * against a baseline measured in the same run (docs/PERFORMANCE.md explains the method and keeps the latest table).
 *
 *   npm run bench                    full run (~10 min): table on stdout, bench/results/latest.json
 *   npm run bench -- --quick         under a minute, small sizes (bench/results/quick.json); the smoke test runs it
 *   npm run bench -- --only 1,4b     some scenarios only (ids as in SCENARIOS)
 *   npm run bench -- --out FILE      write the JSON elsewhere
 *   npm run bench -- --write-docs    also replace the latest table in docs/PERFORMANCE.md
 *   npm run bench -- --profile DIR   V8 CPU profiles of every server child in DIR (read them with scripts/bench/profile.ts)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { profileServersInto, REPO_ROOT, startRedis } from './bench/lib/processes.ts';
import { describeMachine, machineLine, markdownGaps, markdownTable, SCENARIOS, type Report, type ScenarioId } from './bench/lib/report.ts';
import { measureCeiling } from './bench/scenarios/ceiling.ts';
import { gapScenario } from './bench/scenarios/gap.ts';
import { timed, type BenchContext, type Settings } from './bench/scenarios/context.ts';
import { memoryScenario } from './bench/scenarios/memory.ts';
import { inMemoryScenarios, redisScenarios } from './bench/scenarios/protocol.ts';
import { previousStoreScenario } from './bench/scenarios/storage.ts';

const FULL: Settings = {
  quick: false,
  timing: { warmupSeconds: 3, seconds: 10, connections: 50 },
  flowTiming: { warmupSeconds: 2, seconds: 10, connections: 8 },
  growthSizes: [100, 10_000, 100_000, 1_000_000],
  memoryItems: 10_000,
  storedApplications: 100_000,
};

/**
 * Small sizes and short runs: proves every scenario works; its numbers are rough. Runs count operations, not time, so
 * that a busy machine makes them slower, never empty.
 */
const QUICK: Settings = {
  quick: true,
  timing: { warmupSeconds: 0, seconds: 0.5, connections: 10, amount: 100 },
  flowTiming: { warmupSeconds: 0, seconds: 0.6, connections: 4, amount: 8 },
  growthSizes: [100, 1_000, 3_000],
  memoryItems: 100,
  storedApplications: 1_000,
};

const METHOD = 'autocannon, keep-alive, no pipelining, no TLS, loopback; load generator and servers share the machine\'s cores. '
  + 'Rates are successful operations per CPU-second of the server process (utime + stime of all its threads, from /proc). '
  + 'Ratios compare per-CPU-second rates with the baseline measured beside them in the same run.';

const DOCS_START = '<!-- bench:latest:start -->';
const DOCS_END = '<!-- bench:latest:end -->';

/** Each group of scenarios runs its own servers; `only` selects groups by the scenario ids they report. */
const GROUPS: { ids: ScenarioId[]; run: (context: BenchContext) => Promise<void> }[] = [
  { ids: ['ceiling'], run: (context) => timed('ceiling', () => measureCeiling(context)) },
  { ids: ['1', '1l', '3', '4b', '4', '5', '2'], run: inMemoryScenarios },
  { ids: ['4b'], run: redisScenarios },
  { ids: ['6'], run: (context) => timed('6', () => memoryScenario(context)) },
  { ids: ['12'], run: (context) => timed('12', () => previousStoreScenario(context)) },
  { ids: ['gap'], run: (context) => timed('gap', () => gapScenario(context)) },
];

function updateDocs(report: Report, table: string, gaps: string): void {
  const file = path.join(REPO_ROOT, 'docs/PERFORMANCE.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(DOCS_START);
  const end = text.indexOf(DOCS_END);
  if (start < 0 || end < start) throw new Error(`docs/PERFORMANCE.md has no ${DOCS_START} … ${DOCS_END} section`);
  const section = [
    DOCS_START,
    `Run of ${report.started_at} (${report.mode}, ${Math.round(report.seconds)} s) on ${machineLine(report.machine)}.`,
    '',
    table,
    '',
    ...report.notes.map((note) => `- ${note}`),
    ...(gaps ? ['', 'Profile of the gap to the bare library (scenario `gap`):', '', gaps] : []),
    DOCS_END,
  ].join('\n');
  writeFileSync(file, `${text.slice(0, start)}${section}${text.slice(end + DOCS_END.length)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' }, 'write-docs': { type: 'boolean' }, profile: { type: 'string' } },
  });
  if (values.profile) profileServersInto(path.resolve(values.profile));
  const settings = values.quick ? QUICK : FULL;
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  for (const id of only ?? []) if (!(id in SCENARIOS)) throw new Error(`unknown scenario ${id}: one of ${Object.keys(SCENARIOS).join(', ')}`);
  const started = new Date();
  const redis = settings.quick ? { unavailable: 'the quick mode leaves Redis variants to the full run' } : await startRedis();
  const context: BenchContext = {
    settings,
    selected: (id) => !only || only.has(id),
    redis: 'url' in redis ? redis : undefined,
    redisUnavailable: 'unavailable' in redis ? redis.unavailable : undefined,
    ceiling: undefined,
    rows: [],
    gaps: [],
    notes: ['MongoDB variants are not measured: mongod cannot be installed on this machine (durable entities stay in the embedded store).'],
  };
  try {
    for (const group of GROUPS) {
      // The ceiling is always measured: other scenarios report fractions of it.
      if (only && group.ids[0] !== 'ceiling' && !group.ids.some((id) => only.has(id))) continue;
      await group.run(context);
    }
  } finally {
    await context.redis?.stop();
  }
  const report: Report = {
    mode: settings.quick ? 'quick' : 'full',
    started_at: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: describeMachine(context.redis?.version ?? `not available (${context.redisUnavailable})`),
    method: METHOD,
    rows: context.rows,
    gaps: context.gaps,
    notes: context.notes,
  };
  const table = markdownTable(report.rows);
  const gaps = markdownGaps(report.gaps);
  process.stdout.write(`\n${machineLine(report.machine)}\n${METHOD}\n\n${table}\n\n${report.notes.map((note) => `- ${note}`).join('\n')}\n${gaps ? `\n${gaps}\n` : ''}`);
  const out = values.out ?? path.join(REPO_ROOT, 'bench/results', settings.quick ? 'quick.json' : 'latest.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nResults: ${path.relative(process.cwd(), out)} (${Math.round(report.seconds)} s)\n`);
  if (values['write-docs']) updateDocs(report, table, gaps);
}

await main();
