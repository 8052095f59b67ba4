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
import { areaOf, frameKey, selfTimes, type CpuProfile, type ProfileNode } from './lib/cpu-profile.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, match: { type: 'string' }, callers: { type: 'string' }, skip: { type: 'string' }, inclusive: { type: 'boolean' } } });
const file = positionals[0];
if (!file) throw new Error('usage: node scripts/bench/profile.ts FILE.cpuprofile [--top N] [--match TEXT]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// `--skip S`: samples of the first S seconds (start-up, fixtures) are left out.
const { byNode: self, areas, functions, busy, idle } = selfTimes(profile, Number(values.skip ?? 0) * 1e6);
const percent = (time: number) => `${((100 * time) / busy).toFixed(1).padStart(5)} %`;
const top = Number(values.top ?? 30);
process.stdout.write(`busy ${(busy / 1e6).toFixed(2)} s of the main thread (idle ${(idle / 1e6).toFixed(2)} s)\n\nself time by area\n`);
for (const [area, time] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${percent(time)}  ${area}\n`);
process.stdout.write('\nheaviest functions (self time)\n');
const shown = [...functions].filter(([key]) => !values.match || key.includes(values.match)).sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [key, time] of shown) process.stdout.write(`${percent(time)}  ${key}\n`);

const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

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
