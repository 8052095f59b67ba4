import { conflict, notFound } from '../domain/errors.ts';
import { DuplicateKeyError, type Collection, type Filter } from '../store/ports.ts';

export const now = () => new Date().toISOString();

export async function getOrThrow<T>(collection: Collection<T>, key: string, errorCode: string, message: string): Promise<T> {
  const found = await collection.get(key);
  if (!found) throw notFound(errorCode, message);
  return found;
}

/** Runs an insert or replace, turning a unique-constraint violation into Auth0's 409. */
export async function writeUnique(write: () => Promise<unknown>, conflictMessage: string, errorCode?: string): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (err instanceof DuplicateKeyError) throw conflict(conflictMessage, errorCode);
    throw err;
  }
}

/** Drops filter fields that were not asked for: some backends would match an undefined value against null. */
export function compact<T>(filter: Filter<T>): Filter<T> {
  return Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)) as Filter<T>;
}

/**
 * Auth0's pagination: offset (`page` counts from 0, `per_page`), or, where Auth0's API has it, checkpoint pagination:
 * `take` results after `from` (the `next` of the previous page). Sending `from` or `take` asks for the latter.
 */
export interface PageRequest {
  page: number;
  per_page: number;
  include_totals: boolean;
  from?: string;
  /** Results of a checkpoint page; `per_page` (Auth0's same default) when only `from` is sent. */
  take?: number;
}

export type Page<T> =
  | { items: T[]; start: number; limit: number; /** Counted only when the caller asked for totals. */ total?: number }
  /** `next` is the `from` of the following page, absent on the last one. */
  | { items: T[]; checkpoint: true; next?: string };

/** One page of a collection; `key` (the collection's key field) enables checkpoint pagination, where `next` is a key. */
export async function findPage<T>(collection: Collection<T>, filter: Filter<T>, request: PageRequest, key?: keyof T & string): Promise<Page<T>> {
  const wanted = compact(filter);
  if (key && (request.from !== undefined || request.take !== undefined)) {
    const take = request.take ?? request.per_page;
    // One more than asked, to know whether another page follows.
    const found = await collection.find(wanted, { limit: take + 1, ...(request.from === undefined ? {} : { after: request.from }) });
    const items = found.slice(0, take);
    const last = items.at(-1);
    return { items, checkpoint: true, ...(found.length > take && last ? { next: String(last[key]) } : {}) };
  }
  const start = request.page * request.per_page;
  const [items, total] = await Promise.all([
    collection.find(wanted, { skip: start, limit: request.per_page }),
    request.include_totals ? collection.count(wanted) : undefined,
  ]);
  return { items, start, limit: request.per_page, ...(total === undefined ? {} : { total }) };
}
