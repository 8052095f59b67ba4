import type { Change, Filter } from './ports.ts';

type Doc = Record<string, unknown>;

/** Whether a document matches a filter: equality on each field; on an array field, "contains". */
export function matches(doc: Doc, filter: Doc): boolean {
  return Object.entries(filter).every(([field, wanted]) => {
    if (wanted === undefined) return true;
    const actual = doc[field];
    return Array.isArray(actual) ? actual.includes(wanted) : actual === wanted;
  });
}

/** A change applied to a copy of a document, for backends that apply changes themselves. */
export function applyChange<T>(doc: T, change: Change<T>): T {
  const out = { ...doc } as Doc;
  Object.assign(out, change.set);
  for (const field of change.unset ?? []) delete out[field];
  for (const [field, amount] of Object.entries(change.inc ?? {}) as [string, number][]) out[field] = ((out[field] as number | undefined) ?? 0) + amount;
  for (const [field, values] of Object.entries(change.addToSet ?? {}) as [string, unknown[]][]) {
    const current = (out[field] as unknown[] | undefined) ?? [];
    out[field] = [...current, ...values.filter((value, i) => !current.includes(value) && values.indexOf(value) === i)];
  }
  for (const [field, values] of Object.entries(change.pull ?? {}) as [string, unknown[]][]) {
    out[field] = ((out[field] as unknown[] | undefined) ?? []).filter((value) => !values.includes(value));
  }
  return out as T;
}

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/** The change that turns `before` into `after`, field by field: what a rule-checked edit writes atomically. */
export function changeBetween<T extends object>(before: T, after: T): Change<T> {
  const set: Doc = {};
  const unset: string[] = [];
  for (const [field, value] of Object.entries(after)) {
    if (value === undefined) continue;
    if (!same((before as Doc)[field], value)) set[field] = value;
  }
  for (const field of Object.keys(before)) {
    if ((before as Doc)[field] !== undefined && (after as Doc)[field] === undefined) unset.push(field);
  }
  return { ...(Object.keys(set).length ? { set: set as Partial<T> } : {}), ...(unset.length ? { unset: unset as (keyof T & string)[] } : {}) };
}

/** Drops filter fields that were not asked for: some backends would match an undefined value against null. */
export function definedFields<T>(filter: Filter<T>): Filter<T> {
  return Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)) as Filter<T>;
}
