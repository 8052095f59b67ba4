import { checkoutCommit, JOURNAL_STORE_COMMIT } from '../lib/previous.ts';
import { ServerProcess } from '../lib/processes.ts';
import type { ProtocolServerReady } from '../servers/fixtures.ts';
import type { Measurement } from '../lib/load.ts';
import { addComparison, measureServer, medianRun, stopServer, tokenRequest, type BenchContext, type ProtocolServer } from './context.ts';
import { refreshRun, REGISTRATION_REQUEST } from './protocol.ts';

/** Runs of each workload on each side, in turn (odd: the median is a run). */
const ROUNDS = 3;

/** One measured run, with the figures it reports beside the rate. */
interface Run {
  measurement: Measurement;
  figures?: Record<string, number>;
}

/**
 * 12. Today's Gatehouse (SQLite embedded store, read cache) against the last version whose embedded store was the
 * JSON-lines journal held in memory (JOURNAL_STORE_COMMIT, its files taken from git into a temporary folder and run
 * with its own benchmark server), in the same run: client-credentials tokens, refresh with rotation, registration, each
 * measured three times on each side in turn, the median run of each side compared.
 * The tenant log did not exist then: today's server runs with it off, so that the store is what differs, along with
 * everything else that changed since (listed in docs/PERFORMANCE.md).
 */
export async function previousStoreScenario(context: BenchContext): Promise<void> {
  const checkout = checkoutCommit(JOURNAL_STORE_COMMIT);
  if ('unavailable' in checkout) {
    context.notes.push(`Scenario 12 skipped: ${checkout.unavailable}.`);
    return;
  }
  const env = { GATEHOUSE_PASSWORD_COST: 'low' };
  let today: ProtocolServer | undefined;
  let previous: ProtocolServer | undefined;
  try {
    [today, previous] = await Promise.all([
      ServerProcess.start<ProtocolServerReady>('Gatehouse (SQLite)', 'gatehouse.ts', { args: { tenantLog: false }, env }),
      ServerProcess.start<ProtocolServerReady>(`Gatehouse at ${JOURNAL_STORE_COMMIT} (journal)`, 'gatehouse.ts', { env, root: checkout.root }),
    ]);
    const subject = { server: 'Gatehouse, SQLite store' };
    const baseline = { server: `Gatehouse at ${JOURNAL_STORE_COMMIT}, JSON-lines journal` };
    const servers = { today, previous };
    const workloads: [string, (server: ProtocolServer) => Promise<Run>][] = [
      ['client-credentials token (ES256)', async (server) => ({ measurement: await measureServer(context, server, tokenRequest(server.ready, 'ES256'), 'ES256') })],
      ['refresh with rotation', async (server) => {
        const { measurement, writesPerRefresh } = await refreshRun(context, server);
        return { measurement, figures: { writes_per_refresh: writesPerRefresh } };
      }],
      ['open registration', async (server) => ({ measurement: await measureServer(context, server, REGISTRATION_REQUEST) })],
    ];
    // Each workload ROUNDS times on each server, in turn: a ratio of a few percent is otherwise decided by whichever
    // run the machine disturbed.
    for (const [workload, run] of workloads) {
      const runs = { today: [] as Run[], previous: [] as Run[] };
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const side of ['today', 'previous'] as const) runs[side].push(await run(servers[side]));
      }
      const kept = (side: 'today' | 'previous') => medianRun(runs[side], (r) => r.measurement.perCpuSecond);
      addComparison(context, '12', `${workload}, median of ${ROUNDS} runs`, { ...subject, ...kept('today') }, { ...baseline, ...kept('previous') });
    }
  } finally {
    await Promise.all([today, previous].map((server) => server && stopServer(context, server)));
    checkout.remove();
  }
}
