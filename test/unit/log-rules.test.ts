import { describe, expect, it } from '@jest/globals';
import { connectionActivityId, lastUse, unusedFor } from '../../src/domain/connection-activity.ts';
import { RuleError } from '../../src/domain/errors.ts';
import { newTimeOrderedId, timeOrderedIdAt } from '../../src/domain/ids.ts';
import {
  applicationKind, buildLogEvent, categoryOf, LOG_CATEGORIES, LOG_EVENT_TYPES, tokenExchangeType, withoutSecrets,
} from '../../src/domain/log-events.ts';
import { checkSearchWindow, logProjection, parseLogQuery, sortOrder } from '../../src/domain/log-query.ts';
import {
  afterFailure, checkEndpoint, deliveryBodies, draftLogStream, leaseHeld, newLease, patchLogStream, publicLogStream, streamAccepts,
} from '../../src/domain/log-stream-rules.ts';
import type { LogEvent } from '../../src/domain/model.ts';
import { lastUsedWords } from '../../src/http/pages/apps.ts';

const now = new Date('2026-03-01T12:00:00.000Z');
const DAY = 86_400_000;

describe('the event vocabulary', () => {
  it('puts every type in one of Auth0\'s log stream categories, and describes it', () => {
    for (const [type, definition] of Object.entries(LOG_EVENT_TYPES)) {
      expect([type, LOG_CATEGORIES.includes(definition.category), definition.description.length > 0]).toEqual([type, true, true]);
    }
    expect(categoryOf('seccft')).toBe('auth.token_exchange.success');
    expect(categoryOf('unknown_type')).toBe('other');
  });

  it('names token exchanges by grant type, Auth0\'s way, with a type of its own for other grants', () => {
    expect([tokenExchangeType('authorization_code', true), tokenExchangeType('authorization_code', false)]).toEqual(['seacft', 'feacft']);
    expect([tokenExchangeType('client_credentials', true), tokenExchangeType('client_credentials', false)]).toEqual(['seccft', 'feccft']);
    expect([tokenExchangeType('refresh_token', true), tokenExchangeType('refresh_token', false)]).toEqual(['sertft', 'fertft']);
    expect([tokenExchangeType('password', true), tokenExchangeType('password', false)]).toEqual(['sepft', 'fepft']);
    expect(tokenExchangeType('urn:ietf:params:oauth:grant-type:device_code', true)).toBe('sede');
    expect([tokenExchangeType('urn:example:other', true), tokenExchangeType(undefined, false)]).toEqual(['token_exchange_succeeded', 'token_exchange_failed']);
  });

  it('tells the kind of an application', () => {
    expect(applicationKind({ is_first_party: true, registration_type: 'management_api' })).toBe('first_party');
    expect(applicationKind({ is_first_party: false, registration_type: 'management_api' })).toBe('third_party');
    expect(applicationKind({ is_first_party: false, registration_type: 'dynamic' })).toBe('dynamic');
  });

  it('builds an event with the fields of its type only, the request\'s facts, and no credential anywhere in its details', () => {
    const event = buildLogEvent('sapi', {
      client_id: 'app1', scope: 'not a field of sapi', audience: 'nor this',
      details: { request: { body: { name: 'x', client_secret: 's', password: 'p', nested: { refresh_token: 'r', access_token: 'a', code: 'c' } } }, token_endpoint_auth_method: 'none' },
    }, { ip: '192.0.2.1', user_agent: 'x'.repeat(600), hostname: 'id.example.com' }, now);
    expect(event).toEqual({
      date: now.toISOString(), type: 'sapi', description: 'Success API Operation', client_id: 'app1', ip: '192.0.2.1', user_agent: 'x'.repeat(512),
      hostname: 'id.example.com', details: { request: { body: { name: 'x', nested: {} } }, token_endpoint_auth_method: 'none' },
    });
    expect(buildLogEvent('s', { description: 'Said otherwise', user_id: '' }, {}, now)).toEqual({ date: now.toISOString(), type: 's', description: 'Said otherwise' });
  });

  it('drops credential-like keys at any depth and bounds what it keeps', () => {
    expect(withoutSecrets({ Authorization: 'x', api_key: 'k', 'X-Api-Key': 'k', cookie: 'c', private_key: 'p', id_token: 't', token: 't', tokens_issued: 3 })).toEqual({ tokens_issued: 3 });
    expect(withoutSecrets({ list: Array.from({ length: 60 }, (_, i) => ({ i, secret: 's' })) })).toEqual({ list: Array.from({ length: 50 }, (_, i) => ({ i })) });
    expect((withoutSecrets({ text: 'y'.repeat(2000) }) as { text: string }).text).toHaveLength(1001);
  });
});

describe('the log search (q)', () => {
  const refused = (q: string) => {
    try {
      parseLogQuery(q);
    } catch (err) {
      expect(err).toBeInstanceOf(RuleError);
      expect((err as RuleError).errorCode).toBe('invalid_query_string');
      return (err as Error).message;
    }
    throw new Error(`accepted ${q}`);
  };

  it('reads field:value terms joined with AND, quoted or escaped values, and nothing as everything', () => {
    expect(parseLogQuery(undefined)).toEqual({});
    expect(parseLogQuery('   ')).toEqual({});
    expect(parseLogQuery('type:s')).toEqual({ type: 's' });
    expect(parseLogQuery('type:fp AND user_id:"auth0|abc def" AND connection:Username-Password-Authentication AND ip:2001\\:db8\\:\\:1')).toEqual({
      type: 'fp', user_id: 'auth0|abc def', connection: 'Username-Password-Authentication', ip: '2001:db8::1',
    });
    expect(parseLogQuery('client_id:"a \\"quoted\\" id"  AND   audience:https\\:\\/\\/api.example.com\\/')).toEqual({ client_id: 'a "quoted" id', audience: 'https://api.example.com/' });
  });

  it.each([
    ['type:s OR type:f', 'OR is not supported'], ['type:s || type:f', '|| is not supported'], ['NOT type:s', 'found NOT'], ['-type:s', 'operators are not supported'],
    ['(type:s)', 'parentheses'], ['type:s AND', 'ends with AND'], ['type:s type:f', 'expected AND'], ['type', 'expected field:value'],
    ['scope:openid', 'cannot search scope'], ['type:s*', 'wildcards'], ['type:[a TO b]', 'ranges'], ['type:"s', 'unterminated'],
    ['type:', 'no value'], ['type:s AND type:f', 'more than once'], ['ip:2001:db8::1', 'must be escaped'],
  ])('refuses %s, saying %s', (q, reason) => {
    expect(refused(q)).toContain(reason);
  });

  it('sorts by date either way, projects fields, and pages through the first 1,000 results only', () => {
    expect([sortOrder(undefined), sortOrder('date:-1'), sortOrder('date:1')]).toEqual(['desc', 'desc', 'asc']);
    expect(() => sortOrder('type:1')).toThrow(RuleError);
    const event: LogEvent = { log_id: 'a', date: 'd', type: 's', description: 'x', ip: '1.2.3.4' };
    expect(logProjection('log_id, type', true)?.(event)).toEqual({ log_id: 'a', type: 's' });
    expect(logProjection('ip', false)?.(event)).toEqual({ log_id: 'a', date: 'd', type: 's', description: 'x' });
    expect(logProjection(undefined, true)).toBeUndefined();
    expect(() => logProjection('password', true)).toThrow(/fields names password/);
    expect(() => checkSearchWindow(9, 100)).not.toThrow();
    expect(() => checkSearchWindow(10, 100)).toThrow(/first 1000 results/);
  });
});

describe('log streams', () => {
  const stream = draftLogStream({
    name: 'SIEM', type: 'http', sink: { httpEndpoint: 'https://logs.example.com/in', httpAuthorization: 'Bearer k', httpCustomHeaders: [{ header: 'X-Key', value: 'v' }] },
    filters: [{ type: 'category', name: 'auth.login.fail' }],
  }, 'lst_1', now);

  it('start delivering from their creation (or startFrom), JSON arrays by default, credentials kept apart and never shown', () => {
    expect(stream).toMatchObject({
      status: 'active', cursor: timeOrderedIdAt(now.getTime()), lease: '', failures: 0, retry_at: 0, http_authorization: 'Bearer k',
      http_custom_headers: [{ header: 'X-Key', value: 'v' }], sink: { httpContentType: 'application/json', httpContentFormat: 'JSONARRAY' },
    });
    expect(newTimeOrderedId(now.getTime()) > stream.cursor).toBe(true);
    expect(newTimeOrderedId(now.getTime() - 1) < stream.cursor).toBe(true);
    const earlier = draftLogStream({ name: 'Back', type: 'http', sink: { httpEndpoint: 'https://x.example/' }, startFrom: '2026-02-01T00:00:00Z' }, 'lst_2', now);
    expect(earlier.cursor).toBe(timeOrderedIdAt(Date.parse('2026-02-01T00:00:00Z')));
    const shown = publicLogStream(stream);
    expect(JSON.stringify(shown)).not.toContain('Bearer k');
    expect(shown).not.toHaveProperty('cursor');
    expect(shown).not.toHaveProperty('lease');
    expect(shown.sink).toEqual({ httpEndpoint: 'https://logs.example.com/in', httpContentType: 'application/json', httpContentFormat: 'JSONARRAY', httpCustomHeaders: [{ header: 'X-Key', value: 'v' }] });
  });

  it('accept https endpoints, and plain http to a loopback host only', () => {
    for (const ok of ['https://logs.example.com/in', 'http://127.0.0.1:8080/in', 'http://localhost/in', 'http://[::1]:9/in']) expect(() => checkEndpoint(ok)).not.toThrow();
    for (const bad of ['http://logs.example.com/in', 'ftp://x/', 'not a url', 'https://u:p@x.example/']) expect(() => checkEndpoint(bad)).toThrow(RuleError);
  });

  it('resume where they stopped when set active again, and drop a credential set to ""', () => {
    const suspended = { ...stream, status: 'suspended' as const, status_reason: 'down', failures: 10, cursor: 'c1' };
    expect(patchLogStream(suspended, { status: 'active' }, now)).toMatchObject({ status: 'active', failures: 0, retry_at: 0, cursor: 'c1' });
    expect(patchLogStream(suspended, { status: 'active' }, now)).not.toHaveProperty('status_reason');
    expect(patchLogStream(stream, { sink: { httpAuthorization: '' } }, now)).not.toHaveProperty('http_authorization');
    expect(patchLogStream(stream, { name: 'Renamed' }, now)).toMatchObject({ name: 'Renamed', status: 'active', http_authorization: 'Bearer k' });
    expect(() => patchLogStream(stream, { sink: { httpCustomHeaders: [{ header: 'Content-Type', value: 'x' }] } }, now)).toThrow(/may not set Content-Type/);
    expect(() => patchLogStream(stream, { sink: { httpCustomHeaders: [{ header: 'X-A', value: 'a\r\nX-B: b' }] } }, now)).toThrow(/one line/);
  });

  it('take the categories they filter on, or everything', () => {
    expect(streamAccepts(stream, 'fp')).toBe(true);
    expect(streamAccepts(stream, 'seccft')).toBe(false);
    expect(streamAccepts({ filters: [] }, 'seccft')).toBe(true);
  });

  it('send a batch as one JSON array, JSON lines, or one object per request, each event as { log_id, data }', () => {
    const events: LogEvent[] = [{ log_id: 'a', date: 'd', type: 's', description: 'x' }, { log_id: 'b', date: 'd', type: 'f', description: 'y' }];
    expect(JSON.parse(deliveryBodies(events, 'JSONARRAY')[0] as string)).toEqual([{ log_id: 'a', data: events[0] }, { log_id: 'b', data: events[1] }]);
    expect((deliveryBodies(events, 'JSONLINES')[0] as string).split('\n')).toEqual([JSON.stringify({ log_id: 'a', data: events[0] }), JSON.stringify({ log_id: 'b', data: events[1] }), '']);
    expect(deliveryBodies(events, 'JSONOBJECT').map((body) => JSON.parse(body).log_id)).toEqual(['a', 'b']);
    expect(deliveryBodies([], 'JSONARRAY')).toEqual([]);
  });

  it('wait longer after each failure, and are suspended after too many, saying why', () => {
    const policy = { retry_base_ms: 1000, retry_max_ms: 5000, suspend_after_failures: 5 };
    const t = now.getTime();
    expect(afterFailure({ failures: 0 }, 'HTTP 500', policy, t)).toMatchObject({ failures: 1, retry_at: t + 1000, status: 'active' });
    expect(afterFailure({ failures: 2 }, 'HTTP 500', policy, t)).toMatchObject({ failures: 3, retry_at: t + 4000 });
    expect(afterFailure({ failures: 3 }, 'HTTP 500', policy, t)).toMatchObject({ failures: 4, retry_at: t + 5000 });
    expect(afterFailure({ failures: 4 }, 'HTTP 500', policy, t)).toMatchObject({ failures: 5, status: 'suspended', status_reason: expect.stringContaining('Suspended after 5 failed deliveries in a row; the last: HTTP 500') });
  });

  it('are held by one process at a time, until the lease runs out', () => {
    const lease = newLease('holder', 1000, 500);
    expect([leaseHeld(lease, 1499), leaseHeld(lease, 1500), leaseHeld('', 0), leaseHeld('garbage', 0)]).toEqual([true, false, false, false]);
  });
});

describe('connection activity', () => {
  it('has one id per user, application and API, whoever computes it', () => {
    expect(connectionActivityId('u', 'c', 'a')).toBe(connectionActivityId('u', 'c', 'a'));
    expect(connectionActivityId('u', 'c', 'a')).not.toBe(connectionActivityId('u', 'ca', ''));
  });

  it('counts an application unused for N days when it got no token for that long and is older than that', () => {
    const t = now.getTime();
    const old = new Date(t - 90 * DAY).toISOString();
    const recent = new Date(t - 5 * DAY).toISOString();
    expect(unusedFor({ created_at: old }, [], 30, t)).toBe(true);
    expect(unusedFor({ created_at: recent }, [], 30, t)).toBe(false);
    expect(unusedFor({ created_at: old, last_used_at: recent }, [], 30, t)).toBe(false);
    expect(unusedFor({ created_at: old }, [{ last_used_at: recent }], 30, t)).toBe(false);
    expect(unusedFor({ created_at: old, last_used_at: new Date(t - 40 * DAY).toISOString() }, [{ last_used_at: old }], 30, t)).toBe(true);
    expect(lastUse([{ last_used_at: old }, { last_used_at: recent }])).toBe(recent);
    expect(lastUse([])).toBeUndefined();
  });

  it('says when a connection was last used in words', () => {
    const t = now.getTime();
    expect(lastUsedWords(now.toISOString(), t)).toBe('today');
    expect(lastUsedWords(new Date(t - DAY).toISOString(), t)).toBe('yesterday');
    expect(lastUsedWords(new Date(t - 3 * DAY).toISOString(), t)).toBe('3 days ago');
    expect(lastUsedWords('2025-12-01T10:00:00.000Z', t)).toBe('on 2025-12-01');
  });
});
