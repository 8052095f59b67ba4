import { conflict, notFound, type RuleError } from '../domain/errors.ts';
import { changeBetween, definedFields } from '../store/changes.ts';
import { DuplicateKeyError, type Collection, type Filter } from '../store/ports.ts';

export const now = () => new Date().toISOString();

/** How an entity that does not exist is reported: Auth0's error code and message. */
export type Missing = () => RuleError;
export const missing = (errorCode: string, message: string): Missing => () => notFound(errorCode, message);

export async function getOrThrow<T>(collection: Collection<T>, key: string, whenMissing: Missing): Promise<T> {
  const found = await collection.get(key);
  if (!found) throw whenMissing();
  return found;
}

/** Runs an insert or replace, turning a unique-constraint violation into Auth0's 409. */
export async function writeUnique<R>(write: () => Promise<R>, conflictMessage: string | (() => string), errorCode?: string): Promise<R> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof DuplicateKeyError) throw conflict(typeof conflictMessage === 'string' ? conflictMessage : conflictMessage(), errorCode);
    throw err;
  }
}

const EDIT_ATTEMPTS = 3;

/**
 * A rule-checked edit of a stored entity: `edit` computes the new document from the one read (applying the domain's
 * rules to the whole of it), and only the fields that changed are written, on condition that nobody wrote the entity
 * in between (its `updated_at` is unchanged); otherwise it is read and edited again. Concurrent writers of other
 * fields (a sign-in counting logins) are never undone.
 */
export async function editEntity<T extends { updated_at: string }>(
  collection: Collection<T>, key: string, whenMissing: Missing, edit: (existing: T) => T | Promise<T>,
): Promise<T> {
  for (let attempt = 0; attempt < EDIT_ATTEMPTS; attempt += 1) {
    const existing = await collection.get(key);
    if (!existing) throw whenMissing();
    const next = await edit(existing);
    const change = changeBetween(existing, next);
    const changed = Object.keys(change.set ?? {}).some((field) => field !== 'updated_at') || change.unset;
    if (!changed) return existing;
    const updated = await collection.update(key, change, { updated_at: existing.updated_at } as Filter<T>);
    if (updated) return updated;
  }
  throw conflict('The resource was changed by another request at the same time; try again');
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
  const wanted = definedFields(filter);
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
