import type { Request, Response, Router } from 'express';
import { LOG_CATEGORIES, LOG_EVENT_TYPES, isLogEventCode, type LogCategory } from '../../domain/log-events.ts';
import type { LogSearchField } from '../../domain/log-query.ts';
import type { LogEvent, LogStream } from '../../domain/model.ts';
import { can, checked, contextOf, formErrors, lines, renderConsole, type ConsoleKit } from './kit.ts';
import { ok } from './management-client.ts';

/** Events shown per page of the log. */
const PAGE_SIZE = 50;

/** The log's filters, named as `q` names the fields they search, in the order the form shows them. */
const FILTERS = ['type', 'client_id', 'user_id', 'user_name', 'connection', 'ip'] as const satisfies readonly LogSearchField[];
type Filters = Record<(typeof FILTERS)[number] | 'q', string>;

/** A value of `q`, quoted, so that any value (a client id URL, `auth0|…`) is searched exactly. */
const quoted = (value: string) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/** The one `q` the filters and the free search stand for: each filter a term, joined with AND (the API says what it cannot read). */
export function logQuery(filters: Filters): string | undefined {
  const terms = FILTERS.filter((field) => filters[field]).map((field) => `${field}:${quoted(filters[field])}`);
  if (filters.q) terms.push(filters.q);
  return terms.length ? terms.join(' AND ') : undefined;
}

/** Every event type of the vocabulary, by log stream category: the type filter's options, and what each category holds. */
const TYPES_BY_CATEGORY = LOG_CATEGORIES.map((category) => ({
  category,
  types: Object.entries(LOG_EVENT_TYPES).filter(([, type]) => type.category === category).map(([code, type]) => ({ code, description: type.description, auth0: type.auth0 })),
}));

/** What the vocabulary says of an event's type (an unknown type, from an older version, says so). */
const typeOf = (code: string) => (isLogEventCode(code)
  ? { code, ...LOG_EVENT_TYPES[code] as { description: string; category: LogCategory; auth0: boolean } }
  : { code, description: 'A type this version of Gatehouse does not describe', category: 'other' as LogCategory, auth0: false });

/** An event's `details`, flattened into readable rows: `registration › redirect hosts` → `a.example, b.example`. */
export function detailRows(details: unknown, path: string[] = []): { name: string; value: string }[] {
  if (details === null || details === undefined) return path.length ? [{ name: path.join(' › '), value: '—' }] : [];
  if (Array.isArray(details)) {
    if (details.every((item) => item === null || typeof item !== 'object')) return [{ name: path.join(' › '), value: details.map(String).join(', ') || '(none)' }];
    return details.flatMap((item, i) => detailRows(item, [...path, String(i + 1)]));
  }
  if (typeof details === 'object') return Object.entries(details).flatMap(([key, value]) => detailRows(value, [...path, key.replaceAll('_', ' ')]));
  const value = typeof details === 'boolean' ? (details ? 'yes' : 'no') : String(details);
  return [{ name: path.join(' › ') || 'value', value }];
}

/** The form of a log stream: its fields named as the Management API names them (errors name them too). */
const STREAM_FIELDS = ['name', 'sink.httpEndpoint', 'sink.httpContentType', 'sink.httpContentFormat', 'sink.httpAuthorization', 'sink.httpCustomHeaders', 'filters'];
const FORMATS = [
  { value: 'JSONARRAY', label: 'JSON array', hint: 'One JSON array per batch (the default).' },
  { value: 'JSONLINES', label: 'JSON lines', hint: 'One event per line.' },
  { value: 'JSONOBJECT', label: 'JSON object', hint: 'One request per event.' },
];

interface StreamForm {
  name: string;
  endpoint: string;
  contentType: string;
  format: string;
  headers: string;
  filters: string[];
}

/** `Name: value` lines as custom headers, or the first line that is not one. */
function customHeaders(text: string): { headers: { header: string; value: string }[] } | { badLine: string } {
  const headers = [];
  for (const line of lines(text)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { badLine: line };
    headers.push({ header: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return { headers };
}

/** The tenant log (search by filters, newest first, older pages by checkpoint; one event's page) and log streams. */
export function logPages(router: Router, kit: ConsoleKit): void {
  const base = `${kit.root}/logs`;

  router.get('/logs', async (req, res) => {
    const filters = Object.fromEntries([...FILTERS, 'q'].map((name) => [name, String(req.query[name] ?? '').trim()])) as Filters;
    const from = typeof req.query.from === 'string' && req.query.from ? req.query.from : undefined;
    const q = logQuery(filters);
    let events: LogEvent[] = [];
    let errors: Record<string, string> = {};
    try {
      // One more than a page: whether older events match says whether to offer them.
      events = await ok(contextOf(req).api.GET('/api/v2/logs', {
        params: { query: { take: PAGE_SIZE + 1, sort: 'date:-1', ...(q ? { q } : {}), ...(from ? { from } : {}) } },
      })) as LogEvent[];
    } catch (err) {
      errors = formErrors(err, ['q', 'from']);
    }
    const shown = events.slice(0, PAGE_SIZE);
    const search = new URLSearchParams(Object.entries(filters).filter(([, value]) => value));
    const older = events.length > PAGE_SIZE ? `${base}?${new URLSearchParams([...search, ['from', shown.at(-1)?.log_id as string]])}` : undefined;
    await renderConsole(kit, req, res, 'logs', 'Logs', 'logs', {
      tab: 'events', filters, errors, typesByCategory: TYPES_BY_CATEGORY.filter((group) => group.types.length),
      events: shown.map((event) => ({ ...event, kind: typeOf(event.type) })),
      older, newest: from ? `${base}${search.size ? `?${search}` : ''}` : undefined, filtered: Boolean(q),
    }, Object.keys(errors).length ? 400 : 200);
  });

  router.get('/logs/:id', async (req, res) => {
    const event = await ok(contextOf(req).api.GET('/api/v2/logs/{id}', { params: { path: { id: String(req.params.id) } } })) as LogEvent;
    const kind = typeOf(event.type);
    const filterLink = (field: (typeof FILTERS)[number], value: string | undefined) => (value ? `${base}?${new URLSearchParams({ [field]: value })}` : undefined);
    await renderConsole(kit, req, res, 'log-event', `${kind.description} · ${event.date}`, 'logs', {
      event, kind, details: detailRows(event.details),
      links: {
        type: filterLink('type', event.type), application: filterLink('client_id', event.client_id), user: filterLink('user_id', event.user_id),
        userName: event.user_id ? undefined : filterLink('user_name', event.user_name), address: filterLink('ip', event.ip),
      },
      // Applications are named by their tpc_ id in the console; a client id URL (CIMD) has no page of that name.
      applicationPage: event.client_id && !/^https?:\/\//.test(event.client_id) ? `${kit.root}/applications/${encodeURIComponent(event.client_id)}` : undefined,
    });
  });

  // ---- log streams --------------------------------------------------------------------------------------------

  const streams = `${kit.root}/log-streams`;
  const categories = TYPES_BY_CATEGORY.map(({ category, types }) => ({ category, codes: types.map((type) => type.code) }));

  router.get('/log-streams', async (req, res) => {
    const list = await ok(contextOf(req).api.GET('/api/v2/log-streams')) as LogStream[];
    await renderConsole(kit, req, res, 'log-streams', 'Log streams', 'logs', { tab: 'streams', streams: list, deleted: req.query.deleted === '1' });
  });

  const showCreate = (req: Request, res: Response, form: StreamForm, errors: Record<string, string> = {}) =>
    renderConsole(kit, req, res, 'log-stream-new', 'Create log stream', 'logs', { tab: 'streams', form, errors, formats: FORMATS, categories }, Object.keys(errors).length ? 400 : 200);

  router.get('/log-streams/new', (req, res) => showCreate(req, res, { name: '', endpoint: '', contentType: '', format: 'JSONARRAY', headers: '', filters: [] }));

  router.post('/log-streams', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const form: StreamForm = {
      name: String(body.name ?? '').trim(), endpoint: String(body['sink.httpEndpoint'] ?? '').trim(), contentType: String(body['sink.httpContentType'] ?? '').trim(),
      format: String(body['sink.httpContentFormat'] ?? 'JSONARRAY'), headers: String(body['sink.httpCustomHeaders'] ?? ''), filters: [body.filters ?? []].flat().map(String),
    };
    const parsed = customHeaders(form.headers);
    if ('badLine' in parsed) return showCreate(req, res, form, { 'sink.httpCustomHeaders': `Write each header as "Name: value" (this line is not: ${parsed.badLine.slice(0, 60)})` });
    const authorization = String(body['sink.httpAuthorization'] ?? '').trim();
    try {
      const created = await ok(contextOf(req).api.POST('/api/v2/log-streams', {
        body: {
          name: form.name, type: 'http',
          sink: {
            httpEndpoint: form.endpoint, httpContentFormat: form.format as LogStream['sink']['httpContentFormat'],
            ...(form.contentType ? { httpContentType: form.contentType } : {}), ...(authorization ? { httpAuthorization: authorization } : {}),
            ...(parsed.headers.length ? { httpCustomHeaders: parsed.headers } : {}),
          },
          filters: form.filters.map((name) => ({ type: 'category' as const, name: name as LogCategory })),
        },
      })) as LogStream;
      return res.redirect(303, `${streams}/${encodeURIComponent(created.id)}?saved=created`);
    } catch (err) {
      // The authorization is never sent back to the browser, not even to correct it.
      return showCreate(req, res, form, formErrors(err, STREAM_FIELDS));
    }
  });

  const findStream = (req: Request) => ok(contextOf(req).api.GET('/api/v2/log-streams/{id}', { params: { path: { id: String(req.params.id) } } })) as Promise<LogStream>;

  router.get('/log-streams/:id', async (req, res) => {
    const stream = await findStream(req);
    await renderConsole(kit, req, res, 'log-stream', stream.name, 'logs', {
      tab: 'streams', stream, saved: String(req.query.saved ?? ''), headerNames: (stream.sink as { httpCustomHeaders?: { header: string }[] }).httpCustomHeaders?.map((h) => h.header) ?? [],
      changeable: can(req, 'update:log_streams'), deletable: can(req, 'delete:log_streams'),
    });
  });

  router.post('/log-streams/:id/status', async (req, res) => {
    const stream = await findStream(req);
    const status = checked(req.body.active) ? 'active' : 'paused';
    await ok(contextOf(req).api.PATCH('/api/v2/log-streams/{id}', { params: { path: { id: stream.id } }, body: { status } }));
    return res.redirect(303, `${streams}/${encodeURIComponent(stream.id)}?saved=${status === 'active' ? 'resumed' : 'paused'}`);
  });

  router.post('/log-streams/:id/delete', async (req, res) => {
    const stream = await findStream(req);
    await ok(contextOf(req).api.DELETE('/api/v2/log-streams/{id}', { params: { path: { id: stream.id } } }));
    return res.redirect(303, `${streams}?deleted=1`);
  });
}
