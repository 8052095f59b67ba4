import type { LogEvent } from '../../domain/model.ts';
import { findLog, logsAfter, searchLogs, type LogSearch } from '../../services/logs.ts';
import { findUser } from '../../services/users.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, listReply, reply, type ListQuery, type Operation } from './operation.ts';
import { listResponse, logEventResponse, logListQuery, userLogListQuery } from './schemas.ts';

const tag = 'Logs';

type LogQuery = LogSearch & { from?: string; take?: number };

/** The Link of the next checkpoint read: after the last event returned (the same URL when there was none), same search. */
function nextCheckpoint(issuer: string, query: LogQuery, take: number, events: readonly LogEvent[]): string {
  const after = events.at(-1)?.log_id ?? query.from;
  const next = new URLSearchParams({
    ...(after ? { from: after } : {}), take: String(take), ...(query.q ? { q: query.q } : {}), ...(query.sort ? { sort: query.sort } : {}),
  });
  return `<${issuer}/api/v2/logs?${next}>; rel="next"`;
}

/** The tenant log, as Auth0 serves it: search (`q`, pages, sort, fields) or checkpoints (`from`, `take`). */
export function logOperations(stores: Stores, issuer: string): Operation[] {
  const { durable } = stores;
  return [
    defineOperation<LogQuery>({
      method: 'get', path: '/logs', scope: 'read:logs', tag, summary: 'Search the tenant log, or read it from a checkpoint',
      query: logListQuery, response: { status: 200, description: 'Log events', schema: listResponse('logs', logEventResponse) }, errors: [],
      handle: async ({ query }) => {
        if (query.from !== undefined || query.take !== undefined) {
          const take = query.take ?? 50;
          const events = await logsAfter(durable, query.from, take, query);
          return { ...reply(events), headers: { Link: nextCheckpoint(issuer, query, take, events) } };
        }
        return listReply('logs', await searchLogs(durable, query), (event) => event);
      },
    }),
    defineOperation({
      method: 'get', path: '/logs/:id', scope: 'read:logs', tag, summary: 'Get one log event',
      response: { status: 200, description: 'The log event', schema: logEventResponse }, errors: [404],
      handle: async ({ params }) => reply(await findLog(durable, params.id)),
    }),
    defineOperation<ListQuery & Pick<LogSearch, 'sort' | 'fields' | 'include_fields'>>({
      method: 'get', path: '/users/:id/logs', scope: 'read:logs', tag: 'Users', summary: 'Get the log events of a user',
      query: userLogListQuery, response: { status: 200, description: 'Log events', schema: listResponse('logs', logEventResponse) }, errors: [404],
      handle: async ({ params, query }) => {
        await findUser(durable, params.id);
        return listReply('logs', await searchLogs(durable, query, { user_id: params.id }), (event) => event);
      },
    }),
  ];
}
