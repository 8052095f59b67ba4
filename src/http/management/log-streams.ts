import type { LogStreamCreate, LogStreamPatch } from '../../domain/log-stream-rules.ts';
import { publicLogStream } from '../../domain/log-stream-rules.ts';
import { createLogStream, deleteLogStream, findLogStream, listLogStreams, updateLogStream } from '../../services/log-streams.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, noContentAfter, reply, type Operation } from './operation.ts';
import { logStreamCreateBody, logStreamPatchBody, logStreamResponse } from './schemas.ts';

const tag = 'Log streams';

/** Auth0's log streams, type `http`: where the tenant log is delivered (src/services/log-streams.ts delivers). */
export function logStreamOperations(stores: Stores): Operation[] {
  const { durable } = stores;
  return [
    defineOperation({
      method: 'get', path: '/log-streams', scope: 'read:log_streams', tag, summary: 'List the log streams',
      response: { status: 200, description: 'Log streams', schema: { type: 'array', items: logStreamResponse } }, errors: [],
      handle: async () => reply((await listLogStreams(durable)).map(publicLogStream)),
    }),
    defineOperation<Record<string, never>, LogStreamCreate>({
      method: 'post', path: '/log-streams', scope: 'create:log_streams', tag, summary: 'Create a log stream',
      body: logStreamCreateBody, response: { status: 201, description: 'Created', schema: logStreamResponse }, errors: [],
      handle: async ({ body }) => reply(publicLogStream(await createLogStream(durable, body)), 201),
    }),
    defineOperation({
      method: 'get', path: '/log-streams/:id', scope: 'read:log_streams', tag, summary: 'Get a log stream',
      response: { status: 200, description: 'The log stream', schema: logStreamResponse }, errors: [404],
      handle: async ({ params }) => reply(publicLogStream(await findLogStream(durable, params.id))),
    }),
    defineOperation<Record<string, never>, LogStreamPatch>({
      method: 'patch', path: '/log-streams/:id', scope: 'update:log_streams', tag, summary: 'Change a log stream (status active resumes delivery)',
      body: logStreamPatchBody, response: { status: 200, description: 'Changed', schema: logStreamResponse }, errors: [404, 409],
      handle: async ({ params, body }) => reply(publicLogStream(await updateLogStream(durable, params.id, body))),
    }),
    defineOperation({
      method: 'delete', path: '/log-streams/:id', scope: 'delete:log_streams', tag, summary: 'Delete a log stream',
      response: { status: 204, description: 'Deleted' }, errors: [404],
      handle: ({ params }) => noContentAfter(deleteLogStream(durable, params.id)),
    }),
  ];
}
