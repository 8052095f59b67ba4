import { afterEach, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { createAuditLog, type AuditLog } from '../../src/services/audit.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import type { DurableStore } from '../../src/store/ports.ts';

const settings = { enabled: true, retention_days: 30, to_stdout: false, queue_size: 10_000, batch_size: 100, flush_interval_ms: 3_600_000, acl_summary_minutes: 60 };

describe('the tenant log under a steady stream of events', () => {
  let log: AuditLog | undefined;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await log?.close();
    await close?.();
  });

  it('writes what was queued when a flush started in one transaction, and leaves what arrives meanwhile to the next flush', async () => {
    const embedded = openEmbeddedStore({ dataDir: null, graceSeconds: 0 });
    close = () => embedded.close();
    let transactions = 0;
    const store: DurableStore = { ...embedded, transaction: (record) => { transactions += 1; return embedded.transaction(record); } };
    log = createAuditLog({ store, logger: pino({ level: 'silent' }), settings });

    for (let i = 0; i < 10; i += 1) log.record('seccft', { client_id: `app_${i}` }, {});
    // Requests record an event on every turn of the event loop while the flush writes (fewer than a batch in all).
    const STREAM = 50;
    const streamed = new Promise<void>((resolve) => {
      let produced = 0;
      const produce = () => {
        log?.record('seccft', { client_id: 'app_stream' }, {});
        produced += 1;
        if (produced < STREAM) setImmediate(produce);
        else resolve();
      };
      setImmediate(produce);
    });
    await log.flush();
    expect(transactions).toBe(1);
    expect(await embedded.logs.count({})).toBe(10);

    await streamed;
    expect(log.queued).toBe(STREAM);
    await log.flush();
    expect(transactions).toBe(2);
    expect(await embedded.logs.count({})).toBe(10 + STREAM);
  });
});
