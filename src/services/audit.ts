import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import type { GatehouseConfig } from '../config/schema.ts';
import { newTimeOrderedId, timeOrderedIdAt } from '../domain/ids.ts';
import { buildLogEvent, LOG_EVENT_TYPES, type LogEventCode, type LogEventInput, type RequestFacts } from '../domain/log-events.ts';
import type { Application, LogEvent, NetworkAcl, User } from '../domain/model.ts';
import type { DurableStore } from '../store/ports.ts';

/** An event as recorded, before the log gives it its id. */
export type RecordedEvent = Omit<LogEvent, 'log_id'>;

/** The tenant log's settings (src/config/schema.ts, `logs`). */
export type AuditSettings = Omit<GatehouseConfig['logs'], 'streams'>;

export interface AuditLog {
  /**
   * Records an event: built at once (with the request's facts when called inside a request), written later, in a
   * batch, by a timer. Never throws and never waits: a full queue drops the event and counts it.
   */
  record(type: LogEventCode, input?: LogEventInput, facts?: RequestFacts): void;
  /** Like `record`, but logs at most one event per `key` and window; observers (metrics) still see every one. */
  recordOnce(key: string, windowMs: number, type: LogEventCode, input?: LogEventInput): void;
  /** Counts a network ACL rule's match, for the next `acls_summary`. */
  noteAclMatch(acl: Pick<NetworkAcl, 'id' | 'description' | 'priority' | 'rule'>): void;
  /** Writes the pending ACL summary and every queued event now. */
  flush(): Promise<void>;
  /** Deletes the events older than `retention_days` (every hour, and 10 s after start); says how many. */
  applyRetention(): Promise<number>;
  /** Stops the timers after a last flush. */
  close(): Promise<void>;
  /** Events waiting in memory, and events dropped since start because the queue was full (or could not be built). */
  readonly queued: number;
  readonly dropped: number;
}

/** Something that sees every event as it is recorded (metrics, connection activity), whether or not logs are kept. */
export type EventObserver = (event: RecordedEvent) => void;

export interface AuditOptions {
  store: DurableStore;
  logger: Logger;
  settings: AuditSettings;
  observers?: EventObserver[];
}

const DAY = 86_400_000;
const THROTTLE_KEYS = 10_000;

/** The tenant log: a bounded queue flushed in batches to the `logs` collection, off the request path. */
export function createAuditLog(options: AuditOptions): AuditLog {
  const { store, logger, settings } = options;
  const observers = options.observers ?? [];
  const keeping = settings.enabled || settings.to_stdout;
  let queue: RecordedEvent[] = [];
  let dropped = 0;
  let writing: Promise<void> = Promise.resolve();
  let failing = false;
  let flushSoon: NodeJS.Immediate | undefined;
  const throttled = new Map<string, number>();
  let aclWindowStart = new Date();
  const aclMatches = new Map<string, { acl_id: string; description: string; priority: number; action: NetworkAcl['rule']['action']; match: { success: number } }>();

  function drop(reason: string, err?: unknown): void {
    dropped += 1;
    if (dropped === 1 || dropped % 10_000 === 0) logger.warn({ err, dropped }, `tenant log events dropped: ${reason}`);
  }

  function enqueue(event: RecordedEvent): void {
    if (!keeping) return;
    if (queue.length >= settings.queue_size) return drop('the queue is full (the store is slow or down)');
    queue.push(event);
    if (queue.length >= settings.batch_size && !flushSoon) {
      flushSoon = setImmediate(() => {
        flushSoon = undefined;
        void flushQueue();
      });
    }
  }

  function build(type: LogEventCode, input: LogEventInput, facts: RequestFacts | undefined): RecordedEvent | undefined {
    try {
      const event = buildLogEvent(type, input, facts ?? currentFacts(), new Date());
      for (const observe of observers) observe(event);
      return event;
    } catch (err) {
      drop('an event could not be built', err);
      return undefined;
    }
  }

  /**
   * The names of the applications and users events refer to (and a user's connection), read once per batch when it is
   * written: off the request path.
   */
  async function withNames(batch: RecordedEvent[]): Promise<RecordedEvent[]> {
    const apps = new Map<string, Promise<Application | undefined>>();
    const users = new Map<string, Promise<User | undefined>>();
    const read = <T>(cache: Map<string, Promise<T | undefined>>, id: string, get: (id: string) => Promise<T | undefined>) => {
      if (!cache.has(id)) cache.set(id, get(id).catch(() => undefined));
      return cache.get(id) as Promise<T | undefined>;
    };
    return Promise.all(batch.map(async (event) => {
      const fields: readonly string[] = LOG_EVENT_TYPES[event.type as LogEventCode]?.fields ?? [];
      const app = fields.includes('client_name') && event.client_id && !event.client_name ? await read(apps, event.client_id, (id) => store.applications.get(id)) : undefined;
      const user = fields.includes('user_name') && event.user_id && (!event.user_name || !event.connection) ? await read(users, event.user_id, (id) => store.users.get(id)) : undefined;
      const user_name = event.user_name ?? user?.email ?? user?.name;
      const connection = event.connection ?? (fields.includes('connection') ? user?.connection : undefined);
      return { ...event, ...(app ? { client_name: app.name } : {}), ...(user_name ? { user_name } : {}), ...(connection ? { connection } : {}) };
    }));
  }

  /**
   * Ids are given at the moment of writing, so that they sort in the order events reach the store: a log stream that
   * delivered up to an id never misses an event written later (src/services/log-streams.ts).
   */
  async function write(batch: RecordedEvent[]): Promise<void> {
    const named = await withNames(batch);
    const docs: LogEvent[] = named.map((event) => ({ log_id: newTimeOrderedId(), ...event }));
    if (settings.enabled) await store.transaction((tx) => docs.forEach((doc) => tx.logs.insert(doc)));
    if (settings.to_stdout) for (const doc of docs) logger.info({ log_event: doc }, 'tenant log event');
  }

  /**
   * Writes the events queued when the flush starts, a batch at a time. Those that arrive meanwhile wait for the next flush
   * (a full batch, or the interval): draining them at once would, under a steady stream of requests, commit a few events
   * each turn of the event loop, one disk sync each.
   */
  function flushQueue(): Promise<void> {
    writing = writing.then(async () => {
      let due = queue.length;
      while (due > 0 && queue.length) {
        const batch = queue.slice(0, Math.min(settings.batch_size, due));
        queue = queue.slice(batch.length);
        due -= batch.length;
        try {
          await write(batch);
          if (failing) logger.info('tenant log: events are written again');
          failing = false;
        } catch (err) {
          // Kept for the next attempt (ahead of newer events), as far as the queue allows; the failure is told once.
          if (!failing) logger.error({ err }, 'tenant log: events could not be written; retrying, and dropping new ones once the queue is full');
          failing = true;
          const room = Math.max(0, settings.queue_size - queue.length);
          for (let i = room; i < batch.length; i += 1) drop('the store failed and the queue is full');
          queue = [...batch.slice(0, room), ...queue];
          return;
        }
      }
    });
    return writing;
  }

  function summarizeAcls(): void {
    const end = new Date();
    if (aclMatches.size) {
      const acls_summary = [...aclMatches.values()].sort((a, b) => a.priority - b.priority);
      const summary = build('acls_summary', { details: { acls_summary, start_time: aclWindowStart.toISOString(), end_time: end.toISOString() } }, {});
      if (summary) enqueue(summary);
    }
    aclMatches.clear();
    aclWindowStart = end;
  }

  async function applyRetention(): Promise<number> {
    if (!settings.enabled) return 0;
    try {
      return await store.logs.deleteBefore(timeOrderedIdAt(Date.now() - settings.retention_days * DAY));
    } catch (err) {
      logger.warn({ err }, 'tenant log: old events could not be deleted; retrying in an hour');
      return 0;
    }
  }

  const timers = [
    setInterval(() => void flushQueue(), settings.flush_interval_ms),
    setInterval(summarizeAcls, settings.acl_summary_minutes * 60_000),
    setInterval(() => void applyRetention(), 3_600_000),
  ];
  for (const timer of timers) timer.unref();
  setTimeout(() => void applyRetention(), 10_000).unref();

  const log: AuditLog = {
    record(type, input = {}, facts) {
      const event = build(type, input, facts);
      if (event) enqueue(event);
    },
    recordOnce(key, windowMs, type, input = {}) {
      const event = build(type, input, undefined);
      if (!event) return;
      const now = Date.now();
      if ((throttled.get(key) ?? 0) > now) return;
      if (throttled.size >= THROTTLE_KEYS) {
        for (const [k, until] of throttled) if (until <= now) throttled.delete(k);
        if (throttled.size >= THROTTLE_KEYS) throttled.clear();
      }
      throttled.set(key, now + windowMs);
      enqueue(event);
    },
    noteAclMatch(acl) {
      const counted = aclMatches.get(acl.id);
      if (counted) counted.match.success += 1;
      else aclMatches.set(acl.id, { acl_id: acl.id, description: acl.description, priority: acl.priority, action: acl.rule.action, match: { success: 1 } });
    },
    async flush() {
      summarizeAcls();
      await flushQueue();
    },
    applyRetention,
    async close() {
      for (const timer of timers) clearInterval(timer);
      if (flushSoon) clearImmediate(flushSoon);
      await log.flush();
    },
    get queued() {
      return queue.length;
    },
    get dropped() {
      return dropped;
    },
  };
  return log;
}

// ---- the request's audit context ---------------------------------------------------------------------------------

interface AuditScope {
  log: AuditLog;
  facts: () => RequestFacts;
}

const scope = new AsyncLocalStorage<AuditScope>();

const currentFacts = (): RequestFacts => scope.getStore()?.facts() ?? {};

/**
 * Runs a request's handling with its audit context: the log of the Gatehouse serving it, and how to read who is asking
 * (computed once, when the first event needs it). The HTTP layer opens it for every request (src/http/router.ts).
 */
export function withinRequest<T>(log: AuditLog, readFacts: () => RequestFacts, handle: () => T): T {
  let facts: RequestFacts | undefined;
  return scope.run({ log, facts: () => (facts ??= readFacts()) }, handle);
}

/**
 * Records an event in the tenant log of the Gatehouse serving the current request, with the request's facts: the one
 * line every emission point writes. Outside a request (a script, a test calling a service) it does nothing.
 */
export function recordEvent(type: LogEventCode, input: LogEventInput = {}): void {
  scope.getStore()?.log.record(type, input);
}

/** `recordEvent`, logged at most once per key and window (rate limits, blocked accounts); metrics count every call. */
export function recordEventOnce(key: string, windowMs: number, type: LogEventCode, input: LogEventInput = {}): void {
  scope.getStore()?.log.recordOnce(key, windowMs, type, input);
}

/** Counts a network ACL match for the `acls_summary` of the Gatehouse serving the current request. */
export function recordAclMatch(acl: Pick<NetworkAcl, 'id' | 'description' | 'priority' | 'rule'>): void {
  scope.getStore()?.log.noteAclMatch(acl);
}
