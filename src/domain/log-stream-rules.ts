import { invalidBody } from './errors.ts';
import { timeOrderedIdAt } from './ids.ts';
import { categoryOf, LOG_CATEGORIES } from './log-events.ts';
import type { LogEvent, LogStream, LogStreamContentFormat, LogStreamStatus } from './model.ts';

/**
 * Log streams (Auth0's `/api/v2/log-streams`, type `http`): what an administrator may create and change, which events
 * a stream takes, how a batch is sent, and when a failing stream waits or is suspended.
 */

export interface LogStreamSinkInput {
  httpEndpoint?: string;
  httpContentType?: string;
  httpContentFormat?: LogStreamContentFormat;
  httpAuthorization?: string;
  httpCustomHeaders?: { header: string; value: string }[];
}

export interface LogStreamCreate {
  name: string;
  type: 'http';
  sink: LogStreamSinkInput & { httpEndpoint: string };
  filters?: { type: 'category'; name: string }[];
  isPriority?: boolean;
  /** Deliver events from this time on (Auth0's starting cursor); from creation by default. */
  startFrom?: string;
}

export interface LogStreamPatch {
  name?: string;
  status?: LogStreamStatus;
  sink?: LogStreamSinkInput;
  filters?: { type: 'category'; name: string }[];
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Where events may go: https, or plain http to this machine (development and tests). */
export function checkEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalidBody(`sink.httpEndpoint must be an absolute URL (got ${JSON.stringify(endpoint.slice(0, 100))})`);
  }
  if (url.username || url.password) throw invalidBody('sink.httpEndpoint must not carry credentials: use sink.httpAuthorization');
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return;
  throw invalidBody('sink.httpEndpoint must be an https URL (plain http only to a loopback host)');
}

/** Headers Gatehouse sets itself, or that HTTP reserves: a custom header may not replace them. */
const RESERVED_HEADERS = new Set(['authorization', 'content-type', 'content-length', 'host', 'transfer-encoding', 'connection', 'expect', 'te', 'upgrade']);

function checkHeaders(headers: { header: string; value: string }[]): void {
  const seen = new Set<string>();
  for (const { header, value } of headers) {
    const name = header.toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) throw invalidBody(`sink.httpCustomHeaders: ${JSON.stringify(header)} is not a valid header name`);
    if (RESERVED_HEADERS.has(name)) throw invalidBody(`sink.httpCustomHeaders may not set ${header}${name === 'authorization' ? ': use sink.httpAuthorization' : ''}`);
    if (seen.has(name)) throw invalidBody(`sink.httpCustomHeaders names ${header} twice`);
    if (/[\r\n\0]/.test(value)) throw invalidBody(`sink.httpCustomHeaders: the value of ${header} must be one line`);
    seen.add(name);
  }
}

function checkFilters(filters: { type: 'category'; name: string }[]): void {
  const known = new Set<string>(LOG_CATEGORIES);
  const unknown = filters.find((filter) => !known.has(filter.name));
  if (unknown) throw invalidBody(`filters: ${JSON.stringify(unknown.name)} is not a category (one of ${LOG_CATEGORIES.join(', ')})`);
}

function applySink(stream: LogStream, sink: LogStreamSinkInput): LogStream {
  const next: LogStream = { ...stream, sink: { ...stream.sink } };
  if (sink.httpEndpoint !== undefined) {
    checkEndpoint(sink.httpEndpoint);
    next.sink.httpEndpoint = sink.httpEndpoint;
  }
  if (sink.httpContentType !== undefined) next.sink.httpContentType = sink.httpContentType;
  if (sink.httpContentFormat !== undefined) next.sink.httpContentFormat = sink.httpContentFormat;
  if (sink.httpAuthorization !== undefined) {
    if (/[\r\n\0]/.test(sink.httpAuthorization)) throw invalidBody('sink.httpAuthorization must be one line');
    if (sink.httpAuthorization) next.http_authorization = sink.httpAuthorization;
    else delete next.http_authorization;
  }
  if (sink.httpCustomHeaders !== undefined) {
    checkHeaders(sink.httpCustomHeaders);
    if (sink.httpCustomHeaders.length) next.http_custom_headers = sink.httpCustomHeaders;
    else delete next.http_custom_headers;
  }
  return next;
}

export function draftLogStream(input: LogStreamCreate, id: string, now: Date): LogStream {
  const start = input.startFrom ? Date.parse(input.startFrom) : now.getTime();
  if (!Number.isFinite(start)) throw invalidBody('startFrom must be a date-time');
  if (start > now.getTime()) throw invalidBody('startFrom must not be in the future');
  checkFilters(input.filters ?? []);
  const created = now.toISOString();
  const empty: LogStream = {
    id, name: input.name, type: input.type, status: 'active', isPriority: input.isPriority ?? false, filters: input.filters ?? [],
    sink: { httpEndpoint: input.sink.httpEndpoint, httpContentType: 'application/json', httpContentFormat: 'JSONARRAY' },
    created_at: created, updated_at: created,
    // Events are delivered from `startFrom` (or now) on: every id made since sorts after this one.
    cursor: timeOrderedIdAt(start), lease: '', failures: 0, retry_at: 0,
  };
  return applySink(empty, input.sink);
}

/** Setting `active` again (after a pause or a suspension) resumes where delivery stopped, failures forgotten. */
export function patchLogStream(existing: LogStream, patch: LogStreamPatch, now: Date): LogStream {
  let next: LogStream = { ...existing, updated_at: now.toISOString() };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.filters !== undefined) {
    checkFilters(patch.filters);
    next.filters = patch.filters;
  }
  if (patch.sink !== undefined) next = applySink(next, patch.sink);
  if (patch.status !== undefined && patch.status !== existing.status) {
    next.status = patch.status;
    delete next.status_reason;
    next.failures = 0;
    next.retry_at = 0;
  }
  return next;
}

/** A stream as the Management API returns it: its credentials and its delivery state stay inside. */
export function publicLogStream(stream: LogStream) {
  const { http_authorization: _authorization, http_custom_headers: headers, cursor: _cursor, lease: _lease, failures: _failures, retry_at: _retry, ...shown } = stream;
  return { ...shown, sink: { ...stream.sink, ...(headers ? { httpCustomHeaders: headers } : {}) } };
}

/** Whether a stream takes events of this type: every type without filters, else those of the listed categories. */
export const streamAccepts = (stream: Pick<LogStream, 'filters'>, type: string) =>
  !stream.filters.length || stream.filters.some((filter) => filter.name === categoryOf(type));

/** One delivered event, as Auth0's streams send it. */
const deliveredItem = (event: LogEvent) => ({ log_id: event.log_id, data: event });

/** The request bodies a batch is sent in: one JSON array, JSON lines, or one JSON object per request. */
export function deliveryBodies(events: readonly LogEvent[], format: LogStreamContentFormat): string[] {
  if (!events.length) return [];
  const items = events.map(deliveredItem);
  switch (format) {
    case 'JSONARRAY': return [JSON.stringify(items)];
    case 'JSONLINES': return [`${items.map((item) => JSON.stringify(item)).join('\n')}\n`];
    case 'JSONOBJECT': return items.map((item) => JSON.stringify(item));
  }
}

export interface DeliveryPolicy {
  /** Wait after the first failure; doubled after each further one. */
  retry_base_ms: number;
  retry_max_ms: number;
  /** Consecutive failures after which the stream is suspended until an administrator sets it active again. */
  suspend_after_failures: number;
}

/** What a stream becomes after a failed delivery: a later retry (exponential backoff), or suspended, saying why. */
export function afterFailure(stream: Pick<LogStream, 'failures'>, reason: string, policy: DeliveryPolicy, now: number): Pick<LogStream, 'failures' | 'retry_at' | 'status' | 'status_reason'> {
  const failures = stream.failures + 1;
  if (failures >= policy.suspend_after_failures) {
    return { failures, retry_at: 0, status: 'suspended', status_reason: `Suspended after ${failures} failed deliveries in a row; the last: ${reason} (${new Date(now).toISOString()})` };
  }
  const wait = Math.min(policy.retry_base_ms * 2 ** (failures - 1), policy.retry_max_ms);
  return { failures, retry_at: now + wait, status: 'active', status_reason: `Retrying after ${failures} failed deliveries; the last: ${reason}` };
}

/** A lease (`<holder>:<expiry ms>`) that still keeps other processes away. */
export function leaseHeld(lease: string, now: number): boolean {
  const expiry = Number(lease.slice(lease.lastIndexOf(':') + 1));
  return lease !== '' && Number.isFinite(expiry) && expiry > now;
}

export const newLease = (holder: string, now: number, durationMs: number) => `${holder}:${now + durationMs}`;
