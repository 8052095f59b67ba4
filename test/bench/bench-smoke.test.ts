import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from '@jest/globals';
import { NODE_BINARY, REPO_ROOT } from '../../scripts/bench/lib/processes.ts';
import { SCENARIOS, type Report } from '../../scripts/bench/lib/report.ts';

/**
 * Keeps `npm run bench` working: the quick mode runs every scenario, and the report has the right shape. Timings are
 * never asserted here (they depend on the machine and its load); speed targets live in the benchmark only.
 */
describe('npm run bench -- --quick', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reports every scenario, with finite positive rates and ratios', async () => {
    const out = path.join(dir, 'quick.json');
    await promisify(execFile)(NODE_BINARY, ['scripts/bench.ts', '--quick', '--out', out], { cwd: REPO_ROOT, timeout: 110_000 });
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;

    expect(report.mode).toBe('quick');
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(new Set(report.rows.map((row) => row.scenario))).toEqual(new Set(Object.keys(SCENARIOS)));
    for (const row of report.rows) {
      const where = `${row.scenario} ${row.variant} (${row.server})`;
      if (row.measurement) {
        const { operations, perSecond, serverCpuSeconds, perCpuSecond, p50Ms, p99Ms } = row.measurement;
        for (const value of [operations, perSecond, serverCpuSeconds, perCpuSecond]) expect([where, Number.isFinite(value) && value > 0]).toEqual([where, true]);
        for (const value of [p50Ms, p99Ms]) expect([where, Number.isFinite(value) && value >= 0]).toEqual([where, true]);
      }
      if (row.ratio !== undefined) expect([where, Number.isFinite(row.ratio) && row.ratio > 0]).toEqual([where, true]);
      for (const [name, value] of Object.entries(row.figures ?? {})) {
        // Byte deltas of a small quick run can be swallowed by the noise of RSS; everything else is a positive rate or size.
        const sane = name.startsWith('bytes_per') ? Number.isFinite(value) : Number.isFinite(value) && value > 0;
        expect([where, name, sane]).toEqual([where, name, true]);
      }
      expect([where, Boolean(row.measurement ?? row.figures)]).toEqual([where, true]);
    }
    // The profile of the gap: per workload, both sides measured and their time per operation split by area and function.
    expect(report.gaps.map((gap) => gap.workload)).toHaveLength(4); // the quick mode has no Redis variant
    for (const gap of report.gaps) {
      for (const side of [gap.subject, gap.baseline]) {
        expect([gap.workload, side.operations > 0 && side.main_thread_us_per_op > 0 && side.profiled_us_per_op > 0]).toEqual([gap.workload, true]);
      }
      expect(gap.areas.length).toBeGreaterThan(3);
      expect(gap.functions.length).toBeGreaterThan(3);
      const listed = gap.areas.reduce((sum, area) => sum + area.subject_us, 0);
      expect([gap.workload, listed > 0 && listed <= gap.subject.profiled_us_per_op * 1.0001]).toEqual([gap.workload, true]);
    }
  }, 120_000);
});
