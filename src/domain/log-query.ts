import { invalidQuery } from './errors.ts';
import type { LogEvent } from './model.ts';

/**
 * How `/api/v2/logs` is searched: Auth0's `q` in Lucene query syntax, reduced to what the store answers from its
 * indexes: `field:value` terms joined with `AND`, each field at most once, values exact (quoted when they hold spaces or
 * special characters: `user_id:"auth0|abc"`, or with backslash escapes).
 */

/** The fields `q` may name (each indexed in the `logs` collection). */
export const LOG_SEARCH_FIELDS = ['type', 'client_id', 'user_id', 'user_name', 'connection', 'ip', 'audience'] as const;
export type LogSearchField = (typeof LOG_SEARCH_FIELDS)[number];
export type LogFilter = Partial<Record<LogSearchField, string>>;

/** Every field an event may have: what `fields` may list. */
export const LOG_EVENT_FIELDS = [
  'log_id', 'date', 'type', 'description', 'ip', 'user_agent', 'hostname', 'client_id', 'client_name', 'user_id', 'user_name',
  'connection', 'audience', 'scope', 'details',
] as const satisfies readonly (keyof LogEvent)[];

const SEARCHABLE = new Set<string>(LOG_SEARCH_FIELDS);
/**
 * Lucene's special characters that a bare value may only hold escaped. `-`, `+`, `|` and `&` are operators only at the
 * start of a term or doubled, so values such as `Username-Password-Authentication` and `auth0|abc` are taken as they are.
 */
const SPECIAL = new Set([...'(){}[]^"~*?:\\/!']);

/** Reads one value at `start` (quoted or bare, with backslash escapes); returns it and where it ends. */
function readValue(q: string, start: number): { value: string; end: number } {
  let value = '';
  if (q[start] === '"') {
    for (let i = start + 1; i < q.length; i += 1) {
      const c = q[i] as string;
      if (c === '\\' && i + 1 < q.length) value += q[(i += 1)];
      else if (c === '"') return { value, end: i + 1 };
      else value += c;
    }
    throw invalidQuery(`unterminated quoted value in q at position ${start + 1}`);
  }
  let i = start;
  for (; i < q.length && !/\s/.test(q[i] as string); i += 1) {
    const c = q[i] as string;
    if (c === '\\' && i + 1 < q.length) {
      value += q[(i += 1)];
      continue;
    }
    if (c === '*' || c === '?') throw invalidQuery('wildcards (* and ?) are not supported in q: values match exactly');
    if (c === '[' || c === '{') throw invalidQuery('ranges are not supported in q; use from/take checkpoints to read by time');
    if (SPECIAL.has(c)) throw invalidQuery(`the character ${c} must be escaped (\\${c}) or the value quoted in q`);
    value += c;
  }
  return { value, end: i };
}

/**
 * `q` as an equality filter. Refused with a 400 that says why: an unknown field, OR/NOT/parentheses (only AND joins
 * terms), wildcards, ranges, a field named twice, an empty value.
 */
export function parseLogQuery(q: string | undefined): LogFilter {
  const filter: LogFilter = {};
  if (q === undefined || q.trim() === '') return filter;
  let i = 0;
  let expectTerm = true;
  const skipSpace = () => {
    while (i < q.length && /\s/.test(q[i] as string)) i += 1;
  };
  skipSpace();
  while (i < q.length) {
    if (!expectTerm) {
      const word = /^\S+/.exec(q.slice(i))?.[0] ?? '';
      if (word !== 'AND') {
        if (word === 'OR' || word === 'NOT' || word === '||' || word === '&&') throw invalidQuery(`${word} is not supported in q: join terms with AND`);
        throw invalidQuery(`expected AND between terms in q, found ${JSON.stringify(word.slice(0, 40))}`);
      }
      i += word.length;
      skipSpace();
      expectTerm = true;
      continue;
    }
    const word = /^\S+/.exec(q.slice(i))?.[0] ?? '';
    if (['AND', 'OR', 'NOT', '&&', '||'].includes(word)) throw invalidQuery(`expected field:value in q, found ${word}: join field:value terms with AND`);
    if (q[i] === '(' || q[i] === '-' || q[i] === '+' || q[i] === '!') throw invalidQuery('parentheses and +, -, ! operators are not supported in q: join field:value terms with AND');
    const colon = q.indexOf(':', i);
    const field = colon < 0 ? '' : q.slice(i, colon);
    if (!/^[a-z_]+$/.test(field)) throw invalidQuery(`expected field:value in q at position ${i + 1}`);
    if (!SEARCHABLE.has(field)) throw invalidQuery(`q cannot search ${field}: use ${LOG_SEARCH_FIELDS.join(', ')}`);
    if (filter[field as LogSearchField] !== undefined) throw invalidQuery(`q names ${field} more than once: ask for one value per field`);
    const { value, end } = readValue(q, colon + 1);
    if (!value) throw invalidQuery(`q gives ${field} no value`);
    filter[field as LogSearchField] = value;
    i = end;
    expectTerm = false;
    skipSpace();
  }
  if (expectTerm) throw invalidQuery('q ends with AND');
  return filter;
}

/** `sort`: by date, `date:1` oldest first or `date:-1` newest first (the default). */
export function sortOrder(sort: string | undefined): 'asc' | 'desc' {
  if (sort === undefined || sort === 'date:-1') return 'desc';
  if (sort === 'date:1') return 'asc';
  throw invalidQuery('sort must be date:1 (oldest first) or date:-1 (newest first)');
}

/** `fields` and `include_fields`: which fields each returned event keeps. */
export function logProjection(fields: string | undefined, include: boolean): ((event: LogEvent) => Partial<LogEvent>) | undefined {
  if (!fields) return undefined;
  const names = fields.split(',').map((name) => name.trim()).filter(Boolean);
  const known = new Set<string>(LOG_EVENT_FIELDS);
  const unknown = names.find((name) => !known.has(name));
  if (unknown) throw invalidQuery(`fields names ${unknown}, which no log event has (one of ${LOG_EVENT_FIELDS.join(', ')})`);
  const listed = new Set(names);
  return (event) => Object.fromEntries(Object.entries(event).filter(([name]) => listed.has(name) === include)) as Partial<LogEvent>;
}

/** Auth0 pages through at most the first 1,000 results of a search; checkpoints (`from`, `take`) read everything. */
export const MAX_SEARCH_RESULTS = 1000;

export function checkSearchWindow(page: number, perPage: number): void {
  if ((page + 1) * perPage > MAX_SEARCH_RESULTS) {
    throw invalidQuery(`a search pages through its first ${MAX_SEARCH_RESULTS} results only; read further with from and take (checkpoints)`);
  }
}

/** A checkpoint is a log_id: 32 lower-case hex digits (`newTimeOrderedId`). */
export function checkCheckpoint(from: string): void {
  if (!/^[0-9a-f]{32}$/.test(from)) throw invalidQuery('from must be a log_id (32 hexadecimal digits), as returned in a log event');
}
