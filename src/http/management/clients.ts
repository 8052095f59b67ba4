import type { ApplicationCreate, ApplicationPatch } from '../../domain/application-rules.ts';
import type { AppType } from '../../domain/model.ts';
import {
  createApplication, deleteApplication, findApplication, listApplications, rotateApplicationSecret, updateApplication,
} from '../../services/applications.ts';
import type { Stores } from '../../store/index.ts';
import { defineOperation, listReply, noContentAfter, reply, replyWithSecret, type ListQuery, type Operation } from './operation.ts';
import { clientCreateBody, clientListQuery, clientPatchBody, clientResponse, listResponse } from './schemas.ts';
import { publicApplication } from './serialize.ts';

const tag = 'Clients';

export function clientOperations(stores: Stores): Operation[] {
  const { durable } = stores;
  return [
    defineOperation<Record<string, never>, ApplicationCreate>({
      method: 'post', path: '/clients', scope: 'create:clients', tag, summary: 'Create an application',
      body: clientCreateBody, response: { status: 201, description: 'The application, with its secret when confidential', schema: clientResponse }, errors: [],
      handle: async ({ body }) => {
        const { application, secret } = await createApplication(durable, body);
        return replyWithSecret(publicApplication(application, secret), secret !== undefined, 201);
      },
    }),
    defineOperation<ListQuery & { is_first_party?: boolean; app_type?: AppType }>({
      method: 'get', path: '/clients', scope: 'read:clients', tag, summary: 'List applications',
      query: clientListQuery, response: { status: 200, description: 'Applications', schema: listResponse('clients', clientResponse) }, errors: [],
      handle: async ({ query }) => {
        const { is_first_party, app_type, ...page } = query;
        return listReply('clients', await listApplications(durable, { is_first_party, app_type }, page), (app) => publicApplication(app));
      },
    }),
    defineOperation({
      method: 'get', path: '/clients/:id', scope: 'read:clients', tag, summary: 'Get an application',
      response: { status: 200, description: 'The application', schema: clientResponse }, errors: [404],
      handle: async ({ params }) => reply(publicApplication(await findApplication(durable, params.id))),
    }),
    defineOperation<Record<string, never>, ApplicationPatch>({
      method: 'patch', path: '/clients/:id', scope: 'update:clients', tag, summary: 'Update an application',
      body: clientPatchBody, response: { status: 200, description: 'The updated application', schema: clientResponse }, errors: [404],
      handle: async ({ params, body }) => reply(publicApplication(await updateApplication(durable, params.id, body))),
    }),
    defineOperation({
      method: 'delete', path: '/clients/:id', scope: 'delete:clients', tag,
      summary: 'Delete an application, its client grants, and the consents users gave it (with their tokens)',
      response: { status: 204, description: 'Deleted' }, errors: [404],
      handle: ({ params }) => noContentAfter(deleteApplication(stores, params.id)),
    }),
    defineOperation({
      method: 'post', path: '/clients/:id/rotate-secret', scope: 'update:client_keys', tag, summary: 'Rotate an application\'s secret',
      response: { status: 200, description: 'The application with its new secret', schema: clientResponse }, errors: [404],
      handle: async ({ params }) => {
        const { application, secret } = await rotateApplicationSecret(durable, params.id);
        return replyWithSecret(publicApplication(application, secret), secret !== undefined);
      },
    }),
  ];
}
