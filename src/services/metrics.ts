import type { Adapter } from 'oidc-provider';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { categoryOf, type LogEventCode } from '../domain/log-events.ts';
import type { LogStream } from '../domain/model.ts';
import { COLLECTION_NAMES } from '../store/collections.ts';
import type { Stores } from '../store/index.ts';
import type { Collection, DurableStore } from '../store/ports.ts';
import type { AuditLog, RecordedEvent } from './audit.ts';
import type { DeliveryObserver } from './log-streams.ts';

/** Sign-in outcomes, by the type of the event each records. */
const SIGN_IN_OUTCOMES: Partial<Record<LogEventCode, string>> = {
  s: 'success', fp: 'wrong_password', fu: 'unknown_user', f: 'refused', limit_wc: 'account_blocked', limit_mu: 'address_blocked',
};

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORE_SECONDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

export interface Metrics {
  readonly registry: Registry;
  /** Sees every tenant log event (src/services/audit.ts): tokens, registrations, sign-ins and rate limits are counted from them. */
  observeEvent(event: RecordedEvent): void;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** Reports the tenant log's queue (length, dropped events) at each scrape. */
  watchAudit(audit: AuditLog): void;
  /** Counts log stream deliveries and their backlog. */
  readonly streams: DeliveryObserver;
  /** The same stores, with the latency of every durable collection call and every protocol artifact call measured. */
  instrumentStores(stores: Stores): Stores;
}

/**
 * Gatehouse's Prometheus metrics, in a registry of its own (several Gatehouses may share a process): requests, tokens,
 * registrations, sign-ins, rate limits, store latency, log streams, and Node's own (event-loop lag, memory, GC).
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Histogram({
    name: 'gatehouse_http_request_duration_seconds', help: 'HTTP requests by route, method and status, and how long they took',
    labelNames: ['route', 'method', 'status'], buckets: SECONDS, registers: [registry],
  });
  const tokens = new Counter({
    name: 'gatehouse_tokens_issued_total', help: 'Token requests answered with tokens, by grant type and application kind (first_party, third_party, dynamic)',
    labelNames: ['grant_type', 'application_kind'], registers: [registry],
  });
  const tokenFailures = new Counter({
    name: 'gatehouse_token_requests_failed_total', help: 'Token requests refused, by grant type', labelNames: ['grant_type'], registers: [registry],
  });
  const registrations = new Counter({
    name: 'gatehouse_registrations_total', help: 'Dynamic client registrations: created, or refused by reason (disabled, acl, rate_limited, cap_reached, invalid_metadata)',
    labelNames: ['outcome'], registers: [registry],
  });
  const signIns = new Counter({ name: 'gatehouse_sign_ins_total', help: 'Email and password sign-ins by outcome', labelNames: ['outcome'], registers: [registry] });
  const rateLimits = new Counter({ name: 'gatehouse_rate_limit_hits_total', help: 'Requests refused by a rate limit, by limit', labelNames: ['limit'], registers: [registry] });
  const storeCalls = new Histogram({
    name: 'gatehouse_store_operation_duration_seconds', help: 'Store calls by store (durable collection or protocol model) and operation, and how long they took',
    labelNames: ['store', 'operation'], buckets: STORE_SECONDS, registers: [registry],
  });
  const deliveries = new Counter({
    name: 'gatehouse_log_stream_events_delivered_total', help: 'Tenant log events delivered, by log stream', labelNames: ['stream'], registers: [registry],
  });
  const deliveryFailures = new Counter({
    name: 'gatehouse_log_stream_delivery_failures_total', help: 'Failed log stream deliveries, by log stream', labelNames: ['stream'], registers: [registry],
  });
  const backlog = new Gauge({
    name: 'gatehouse_log_stream_backlog_events', help: 'Events waiting for a log stream after this process\'s last delivery to it (counted up to 1,000)',
    labelNames: ['stream'], registers: [registry],
  });

  const time = <R>(store: string, operation: string, call: () => Promise<R>): Promise<R> => {
    const end = storeCalls.startTimer({ store, operation });
    return call().finally(() => end());
  };
  const timedCollection = <T>(collection: Collection<T>, name: string): Collection<T> => ({
    get: (key) => time(name, 'get', () => collection.get(key)),
    find: (filter, page) => time(name, 'find', () => collection.find(filter, page)),
    count: (filter) => time(name, 'count', () => collection.count(filter)),
    insert: (doc) => time(name, 'insert', () => collection.insert(doc)),
    insertIfAbsent: (doc) => time(name, 'insertIfAbsent', () => collection.insertIfAbsent(doc)),
    update: (key, change, condition) => time(name, 'update', () => collection.update(key, change, condition)),
    delete: (key) => time(name, 'delete', () => collection.delete(key)),
    deleteMany: (filter) => time(name, 'deleteMany', () => collection.deleteMany(filter)),
    deleteBefore: (key) => time(name, 'deleteBefore', () => collection.deleteBefore(key)),
  });
  const ADAPTER_CALLS = ['upsert', 'find', 'findByUid', 'findByUserCode', 'consume', 'destroy', 'revokeByGrantId'] as const;
  const timedAdapter = (adapter: Adapter, model: string): Adapter => Object.fromEntries(ADAPTER_CALLS.map((call) => [
    call, (...args: unknown[]) => time(model, call, () => (adapter[call] as (...a: unknown[]) => Promise<unknown>).apply(adapter, args)),
  ])) as unknown as Adapter;

  return {
    registry,
    observeEvent(event) {
      const details = event.details ?? {};
      const category = categoryOf(event.type);
      const outcome = SIGN_IN_OUTCOMES[event.type as LogEventCode];
      if (outcome) signIns.inc({ outcome });
      else if (category === 'auth.token_exchange.success') tokens.inc({ grant_type: String(details.grant_type ?? 'unknown'), application_kind: String(details.application_kind ?? 'unknown') });
      else if (category === 'auth.token_exchange.fail') tokenFailures.inc({ grant_type: String(details.grant_type ?? 'unknown') });
      else if (event.type === 'client_registered') registrations.inc({ outcome: 'created' });
      else if (event.type === 'client_registration_failed') registrations.inc({ outcome: String(details.reason ?? 'unknown') });
      else if (event.type === 'api_limit') rateLimits.inc({ limit: String(details.limit ?? 'unknown') });
    },
    observeRequest(route, method, status, seconds) {
      requests.observe({ route, method, status: String(status) }, seconds);
    },
    watchAudit(audit) {
      new Gauge({ name: 'gatehouse_log_queue_events', help: 'Tenant log events waiting in memory to be written', registers: [registry], collect() { this.set(audit.queued); } });
      new Gauge({ name: 'gatehouse_log_events_dropped', help: 'Tenant log events dropped since start because the queue was full', registers: [registry], collect() { this.set(audit.dropped); } });
    },
    streams: {
      delivered(stream: LogStream, events: number, waiting: number) {
        deliveries.inc({ stream: stream.id }, events);
        backlog.set({ stream: stream.id }, waiting);
      },
      failed(stream: LogStream) {
        deliveryFailures.inc({ stream: stream.id });
      },
    },
    instrumentStores(stores) {
      const durable = { ...stores.durable } as DurableStore;
      const writable = durable as unknown as Record<string, unknown>;
      for (const name of COLLECTION_NAMES) writable[name] = timedCollection(stores.durable[name] as Collection<unknown>, name);
      durable.transaction = (record) => time('durable', 'transaction', () => stores.durable.transaction(record));
      const adapters = new Map<string, Adapter>();
      return {
        ...stores,
        durable,
        oidcAdapter(model) {
          let adapter = adapters.get(model);
          if (!adapter) adapters.set(model, (adapter = timedAdapter(stores.oidcAdapter(model), model)));
          return adapter;
        },
      };
    },
  };
}
