import { notFound } from '../domain/errors.ts';
import { checkCheckpoint, checkSearchWindow, logProjection, parseLogQuery, sortOrder } from '../domain/log-query.ts';
import type { LogEvent } from '../domain/model.ts';
import type { DurableStore, Filter } from '../store/ports.ts';
import type { Page, PageRequest } from './entities.ts';

export interface LogSearch extends PageRequest {
  q?: string;
  sort?: string;
  fields?: string;
  include_fields: boolean;
}

/** Auth0's search: `q` (field:value terms joined by AND), newest first unless `sort=date:1`, the first 1,000 results. */
export async function searchLogs(store: DurableStore, search: LogSearch, scope: Filter<LogEvent> = {}): Promise<Page<Partial<LogEvent>>> {
  const filter = { ...parseLogQuery(search.q), ...scope } as Filter<LogEvent>;
  const order = sortOrder(search.sort);
  const project = logProjection(search.fields, search.include_fields);
  checkSearchWindow(search.page, search.per_page);
  const start = search.page * search.per_page;
  const [events, total] = await Promise.all([
    store.logs.find(filter, { order, skip: start, limit: search.per_page }),
    search.include_totals ? store.logs.count(filter) : undefined,
  ]);
  return { items: project ? events.map(project) : events, start, limit: search.per_page, ...(total === undefined ? {} : { total }) };
}

/** How a checkpoint read may be narrowed (Gatehouse's addition): Auth0 ignores `q` and `sort` there. */
export interface CheckpointSearch {
  q?: string;
  sort?: string;
}

/**
 * Auth0's checkpoints: the events written after `from` (or the oldest kept, without it), in the order they were written,
 * `take` at most. Their last log_id is the next checkpoint. Gatehouse's addition: `q` narrows them, and `sort=date:-1`
 * reads backwards (the events written before `from`, newest first; the newest ones without it), so that a search can be
 * paged through to its end.
 */
export async function logsAfter(store: DurableStore, from: string | undefined, take: number, search: CheckpointSearch = {}): Promise<LogEvent[]> {
  if (from !== undefined) checkCheckpoint(from);
  const filter = parseLogQuery(search.q) as Filter<LogEvent>;
  const order = search.sort === undefined ? 'asc' : sortOrder(search.sort);
  return store.logs.find(filter, { order, limit: take, ...(from ? { after: from } : {}) });
}

export async function findLog(store: DurableStore, id: string): Promise<LogEvent> {
  const event = await store.logs.get(id);
  if (!event) throw notFound('inexistent_log', `The log event ${id} does not exist`);
  return event;
}
