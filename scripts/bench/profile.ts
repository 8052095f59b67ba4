/**
 * Reads a V8 CPU profile (`npm run bench -- --profile DIR` writes one per server child) and prints where the time
 * went: self time by area (our src/ files, each package, Node's internals, GC) and the heaviest functions.
 *
 *   node scripts/bench/profile.ts DIR/gatehouse-….cpuprofile [--top 40] [--match src/] [--callers find] [--skip SECONDS]
 *
 * `--inclusive` lists functions by their total time (self and below) instead. `--callers NAME` says who calls the functions named NAME: their total time (self and below), by the stack of our own
 * frames (src/) above them.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives: one of our files, a package, Node itself, or V8's own work. */
function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const ours = /\/((?:src|scripts)\/.*)$/.exec(url);
  if (ours) return ours[1] as string;
  return url.startsWith('node:') ? 'node:internal' : url;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, match: { type: 'string' }, callers: { type: 'string' }, skip: { type: 'string' }, inclusive: { type: 'boolean' } } });
const file = positionals[0];
if (!file) throw new Error('usage: node scripts/bench/profile.ts FILE.cpuprofile [--top N] [--match TEXT]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<number, number>();
// `--skip S`: samples of the first S seconds (start-up, fixtures) are left out.
const skipMicros = Number(values.skip ?? 0) * 1e6;
let elapsed = 0;
profile.samples.forEach((id, i) => {
  elapsed += profile.timeDeltas[i] ?? 0;
  if (elapsed >= skipMicros) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((sum, [, t]) => sum + t, 0);
const busy = [...self.values()].reduce((sum, t) => sum + t, 0) - idle;

const areas = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, time] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  if (functionName === '(idle)') continue;
  const area = areaOf(url, functionName);
  areas.set(area, (areas.get(area) ?? 0) + time);
  const key = `${functionName || '(anonymous)'} ${area}:${lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + time);
}
const percent = (time: number) => `${((100 * time) / busy).toFixed(1).padStart(5)} %`;
const top = Number(values.top ?? 30);
process.stdout.write(`busy ${(busy / 1e6).toFixed(2)} s of the main thread (idle ${(idle / 1e6).toFixed(2)} s)\n\nself time by area\n`);
for (const [area, time] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${percent(time)}  ${area}\n`);
process.stdout.write('\nheaviest functions (self time)\n');
const shown = [...functions].filter(([key]) => !values.match || key.includes(values.match)).sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [key, time] of shown) process.stdout.write(`${percent(time)}  ${key}\n`);

const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const frameKey = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${areaOf(node.callFrame.url, node.callFrame.functionName)}:${node.callFrame.lineNumber + 1}`;

if (values.inclusive) {
  const totals = new Map<string, number>();
  for (const [id, time] of self) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(frameKey(byId.get(at)!));
    for (const key of seen) totals.set(key, (totals.get(key) ?? 0) + time);
  }
  process.stdout.write('\nheaviest functions (total time, self and below)\n');
  const listed = [...totals].filter(([key]) => !values.match || key.includes(values.match)).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, time] of listed) process.stdout.write(`${percent(time)}  ${key}\n`);
}

if (values.callers) {
  const stacks = new Map<string, number>();
  let total = 0;
  for (const [id, time] of self) {
    const frames: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) frames.push(byId.get(at)!);
    const hit = frames.findIndex((node) => node.callFrame.functionName === values.callers);
    if (hit < 0) continue;
    total += time;
    const ours = frames.slice(hit + 1).filter((node) => /\/src\//.test(node.callFrame.url))
      .map((node) => `${node.callFrame.functionName || '(anonymous)'} ${areaOf(node.callFrame.url, '')}:${node.callFrame.lineNumber + 1}`);
    const key = ours.slice(0, 4).join(' < ') || '(no frame of ours)';
    stacks.set(key, (stacks.get(key) ?? 0) + time);
  }
  process.stdout.write(`\n${values.callers}: ${percent(total)} in total, called from\n`);
  for (const [key, time] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${percent(time)}  ${key}\n`);
}
