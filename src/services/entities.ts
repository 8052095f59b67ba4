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

/** Auth0's offset pagination: `page` counts from 0. */
export interface PageRequest {
  page: number;
  per_page: number;
  include_totals: boolean;
}

export interface Page<T> {
  items: T[];
  start: number;
  limit: number;
  /** Counted only when the caller asked for totals. */
  total?: number;
}

export async function findPage<T>(collection: Collection<T>, filter: Filter<T>, request: PageRequest): Promise<Page<T>> {
  const wanted = compact(filter);
  const start = request.page * request.per_page;
  const [items, total] = await Promise.all([
    collection.find(wanted, { skip: start, limit: request.per_page }),
    request.include_totals ? collection.count(wanted) : undefined,
  ]);
  return { items, start, limit: request.per_page, ...(total === undefined ? {} : { total }) };
}
