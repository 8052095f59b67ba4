import { ServerProcess } from '../lib/processes.ts';
import type { BenchContext, Ceiling } from './context.ts';

/**
 * The ceilings, measured first in a process of their own: raw signatures per algorithm and Argon2id verifications at
 * Keycloak's cost, per CPU-second of one core. Scenarios 1 and 3 report their rates as a fraction of these.
 */
export async function measureCeiling(context: BenchContext): Promise<void> {
  const probe = await ServerProcess.start<Ceiling>('ceiling probe', 'ceiling.ts', {
    args: { seconds: context.settings.quick ? 0.3 : 2 }, env: { GATEHOUSE_PASSWORD_COST: 'keycloak' },
  });
  await probe.stop();
  context.ceiling = probe.ready;
  for (const [alg, perCpuSecond] of Object.entries(probe.ready.signatures)) {
    context.rows.push({ scenario: 'ceiling', variant: `${alg} signature (node:crypto)`, server: 'one core', figures: { per_cpu_s: perCpuSecond } });
  }
  context.rows.push({
    scenario: 'ceiling', variant: 'Argon2id verification, 7 MiB, 5 passes', server: 'one core', figures: { per_cpu_s: probe.ready.passwordVerifications },
  });
}
