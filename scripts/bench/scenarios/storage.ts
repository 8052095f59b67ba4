import { checkoutCommit, JOURNAL_STORE_COMMIT } from '../lib/previous.ts';
import { ServerProcess } from '../lib/processes.ts';
import type { ProtocolServerReady } from '../servers/fixtures.ts';
import { addComparison, measureServer, stopServer, tokenRequest, type BenchContext, type ProtocolServer } from './context.ts';
import { refreshRun, REGISTRATION_REQUEST } from './protocol.ts';

/**
 * 12. Today's Gatehouse (SQLite embedded store, read cache) against the last version whose embedded store was the
 * JSON-lines journal held in memory (JOURNAL_STORE_COMMIT, its files taken from git into a temporary folder and run
 * with its own benchmark server), in the same run: client-credentials tokens, refresh with rotation, registration.
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
    addComparison(context, '12', 'client-credentials token (ES256)',
      { ...subject, measurement: await measureServer(context, today, tokenRequest(today.ready, 'ES256'), 'ES256') },
      { ...baseline, measurement: await measureServer(context, previous, tokenRequest(previous.ready, 'ES256'), 'ES256') });
    const refreshed = await refreshRun(context, today);
    const refreshedBefore = await refreshRun(context, previous);
    addComparison(context, '12', 'refresh with rotation',
      { ...subject, measurement: refreshed.measurement, figures: { writes_per_refresh: refreshed.writesPerRefresh } },
      { ...baseline, measurement: refreshedBefore.measurement, figures: { writes_per_refresh: refreshedBefore.writesPerRefresh } });
    addComparison(context, '12', 'open registration',
      { ...subject, measurement: await measureServer(context, today, REGISTRATION_REQUEST) },
      { ...baseline, measurement: await measureServer(context, previous, REGISTRATION_REQUEST) });
  } finally {
    await Promise.all([today, previous].map((server) => server && stopServer(context, server)));
    checkout.remove();
  }
}
