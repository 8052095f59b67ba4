import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatehouseConfig } from '../config/schema.ts';
import { newId, timeOrderedIdAt } from '../domain/ids.ts';
import {
  afterFailure, deliveryBodies, draftLogStream, leaseHeld, newLease, patchLogStream, streamAccepts, type LogStreamCreate, type LogStreamPatch,
} from '../domain/log-stream-rules.ts';
import type { LogEvent, LogStream } from '../domain/model.ts';
import type { DurableStore } from '../store/ports.ts';
import { editEntity, getOrThrow, missing } from './entities.ts';

const noSuchStream = (id: string) => missing('inexistent_log_stream', `The log stream ${id} does not exist`);

export async function createLogStream(store: DurableStore, input: LogStreamCreate): Promise<LogStream> {
  const stream = draftLogStream(input, newId('lst_'), new Date());
  await store.logStreams.insert(stream);
  return stream;
}

export const listLogStreams = (store: DurableStore) => store.logStreams.find();

export const findLogStream = (store: DurableStore, id: string) => getOrThrow(store.logStreams, id, noSuchStream(id));

/** Delivery state is written by the delivery alone (atomic updates of its own fields): an edit never undoes it. */
export const updateLogStream = (store: DurableStore, id: string, patch: LogStreamPatch) =>
  editEntity(store.logStreams, id, noSuchStream(id), (existing) => patchLogStream(existing, patch, new Date()));

export async function deleteLogStream(store: DurableStore, id: string): Promise<void> {
  await findLogStream(store, id);
  await store.logStreams.delete(id);
}

/** How streams are delivered (src/config/schema.ts, `logs.streams`). */
export type StreamDeliverySettings = GatehouseConfig['logs']['streams'];

export interface StreamDelivery {
  /** One round: every active stream that is due gets what it has not had yet (several batches if need be). */
  deliverNow(): Promise<void>;
  close(): Promise<void>;
}

/** Events read after a stream's cursor per batch, and the most sent in one batch. */
const READ_LIMIT = 1000;
const BATCH_EVENTS = { JSONARRAY: 100, JSONLINES: 100, JSONOBJECT: 20 } as const;
/** Batches one stream gets per round before the others have their turn. */
const BATCHES_PER_ROUND = 10;

export interface DeliveryObserver {
  /** After a batch: how many events went out, and how many were still waiting (counted up to the read limit). */
  delivered(stream: LogStream, events: number, waiting: number): void;
  failed(stream: LogStream): void;
}

/** What a receiver is told in an error, without the query string of its URL (which may carry a key). */
const endpointName = (endpoint: string) => {
  const url = new URL(endpoint);
  return `${url.origin}${url.pathname}`;
};

async function post(stream: LogStream, body: string, timeoutMs: number): Promise<void> {
  const headers: Record<string, string> = { 'content-type': stream.sink.httpContentType, 'user-agent': 'Gatehouse log stream' };
  for (const { header, value } of stream.http_custom_headers ?? []) headers[header] = value;
  if (stream.http_authorization) headers.authorization = stream.http_authorization;
  let res: Response;
  try {
    res = await fetch(stream.sink.httpEndpoint, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new Error(`${endpointName(stream.sink.httpEndpoint)} could not be reached (${cause})`);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new Error(`${endpointName(stream.sink.httpEndpoint)} answered HTTP ${res.status}`);
}

/**
 * Delivers the tenant log to http log streams, at least once, in batches, from every process. A process claims a
 * stream with a lease (a conditioned update: the stream as it read it, nobody delivering), sends what follows the
 * stream's cursor, then moves the cursor and releases the lease in one conditioned update. So in the normal case each
 * event reaches a receiver once, whichever process sends it. The edge: when a lease runs out while its holder still
 * sends (a receiver slower than the lease, a process paused that long) or the cursor cannot be written after a
 * successful send, the next holder sends the batch again; receivers should deduplicate by `log_id`.
 */
export function createStreamDelivery(store: DurableStore, settings: StreamDeliverySettings, logger: Logger, observer?: DeliveryObserver): StreamDelivery {
  const holder = randomBytes(8).toString('hex');
  let rounds: Promise<void> = Promise.resolve();
  let waiting = 0;
  let storeFailing = false;

  /** One batch for one stream; says whether more is waiting. */
  async function deliverBatch(stream: LogStream): Promise<boolean> {
    const now = Date.now();
    if (stream.status !== 'active' || stream.retry_at > now || leaseHeld(stream.lease, now)) return false;
    const { sink } = stream;
    const requests = sink.httpContentFormat === 'JSONOBJECT' ? BATCH_EVENTS.JSONOBJECT : 1;
    const lease = newLease(holder, now, settings.timeout_ms * (requests + 1) + 10_000);
    const claimed = await store.logStreams.update(stream.id, { set: { lease } }, { lease: stream.lease, cursor: stream.cursor, status: 'active' });
    if (!claimed) return false;
    const release = (change: Parameters<typeof store.logStreams.update>[1]) => store.logStreams.update(stream.id, change, { lease });
    const settledBefore = timeOrderedIdAt(now - settings.settle_ms + 1); // ids made up to settle_ms ago
    const read = (await store.logs.find({}, { after: claimed.cursor, order: 'asc', limit: READ_LIMIT })).filter((event) => event.log_id < settledBefore);
    const events: LogEvent[] = [];
    let end = claimed.cursor;
    for (const event of read) {
      if (streamAccepts(claimed, event.type)) {
        if (events.length === BATCH_EVENTS[sink.httpContentFormat]) break;
        events.push(event);
      }
      end = event.log_id;
    }
    if (end === claimed.cursor) {
      await release({ set: { lease: '' } });
      return false;
    }
    try {
      for (const body of deliveryBodies(events, sink.httpContentFormat)) await post(claimed, body, settings.timeout_ms);
    } catch (err) {
      const next = afterFailure(claimed, (err as Error).message, settings, Date.now());
      await release({ set: { ...next, lease: '' } });
      observer?.failed(claimed);
      if (next.status === 'suspended') logger.warn({ log_stream: stream.id, reason: next.status_reason }, 'log stream suspended');
      return false;
    }
    await release({ set: { cursor: end, lease: '', failures: 0, retry_at: 0 }, unset: ['status_reason'] });
    const remaining = read.length - read.findIndex((event) => event.log_id === end) - 1;
    observer?.delivered(claimed, events.length, remaining);
    return remaining > 0 || read.length === READ_LIMIT;
  }

  async function deliverStream(id: string): Promise<void> {
    for (let batch = 0; batch < BATCHES_PER_ROUND; batch += 1) {
      const stream = await store.logStreams.get(id);
      if (!stream || !(await deliverBatch(stream))) return;
    }
  }

  async function deliverAll(): Promise<void> {
    try {
      const streams = await store.logStreams.find({ status: 'active' });
      await Promise.all(streams.map((stream) => deliverStream(stream.id)));
      storeFailing = false;
    } catch (err) {
      if (!storeFailing) logger.error({ err }, 'log streams: delivery failed; retrying every round');
      storeFailing = true;
    }
  }

  /** Rounds run one after the other; the timer adds none while one is waiting. */
  const deliverNow = () => {
    waiting += 1;
    rounds = rounds.then(deliverAll).finally(() => {
      waiting -= 1;
    });
    return rounds;
  };
  const timer = setInterval(() => {
    if (!waiting) void deliverNow();
  }, settings.interval_ms);
  timer.unref();
  return {
    deliverNow,
    async close() {
      clearInterval(timer);
      await rounds;
    },
  };
}
