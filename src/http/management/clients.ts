import type { ApplicationCreate, ApplicationPatch } from '../../domain/application-rules.ts';
import type { AppType, Trust } from '../../domain/model.ts';
import {
  createApplication, deleteApplication, findApplication, listApplications, rotateApplicationSecret, updateApplication,
} from '../../services/applications.ts';
import type { ClientMetadataDocuments } from '../../services/client-metadata-documents.ts';
import { changeTrust } from '../../services/trust.ts';
import type { Stores } from '../../store/index.ts';
import { ApiError } from '../errors.ts';
import { defineOperation, listReply, noContentAfter, reply, replyWithSecret, type ListQuery, type Operation } from './operation.ts';
import {
  cimdBody, cimdPreviewResponse, cimdRegisterResponse, clientCreateBody, clientListQuery, clientPatchBody, clientResponse, clientTrustBody, listResponse,
} from './schemas.ts';
import { publicApplication } from './serialize.ts';

const tag = 'Clients';

export function clientOperations(stores: Stores, documents: ClientMetadataDocuments): Operation[] {
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
    defineOperation<ListQuery & { is_first_party?: boolean; app_type?: AppType; trust?: Trust }>({
      method: 'get', path: '/clients', scope: 'read:clients', tag, summary: 'List applications (trust=pending: those awaiting approval)',
      query: clientListQuery, response: { status: 200, description: 'Applications', schema: listResponse('clients', clientResponse) }, errors: [],
      handle: async ({ query }) => {
        const { is_first_party, app_type, trust, ...page } = query;
        return listReply('clients', await listApplications(durable, { is_first_party, app_type, trust }, page), (app) => publicApplication(app));
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
    defineOperation<Record<string, never>, { external_client_id: string }>({
      method: 'post', path: '/clients/cimd/preview', scope: ['create:clients', 'update:clients'], tag,
      summary: 'Fetch and check a client metadata document without creating anything',
      body: cimdBody, response: { status: 200, description: 'What the document maps to and how it fared, or why it could not be fetched', schema: cimdPreviewResponse }, errors: [],
      handle: async ({ body }) => reply(await documents.preview(body.external_client_id)),
    }),
    defineOperation<Record<string, never>, { external_client_id: string }>({
      method: 'post', path: '/clients/cimd/register', scope: ['create:clients', 'update:clients'], tag,
      summary: 'Register a client from its metadata document, or fetch an existing one\'s document again (201 created, 200 updated)',
      body: cimdBody, response: { status: 201, description: 'The application created (201) or brought in line with its document (200)', schema: cimdRegisterResponse }, errors: [],
      handle: async ({ body, scopes }) => {
        // Auth0: creating needs create:clients, updating update:clients; which one is known once the URL is looked up.
        const { created, application, report } = await documents.registerByAdministrator(body.external_client_id, (creating) => {
          const needed = creating ? 'create:clients' : 'update:clients';
          if (!scopes.has(needed)) throw new ApiError(403, 'insufficient_scope', `Insufficient scope, expected any of: ${needed}`);
        });
        return reply({ client_id: application.client_id, ...report }, created ? 201 : 200);
      },
    }),
    defineOperation<Record<string, never>, { trust: Trust }>({
      method: 'post', path: '/clients/:id/trust', scope: 'update:clients', tag,
      summary: 'Approve (trusted), hold (pending) or block a self-registered application; blocking revokes its consents and refresh tokens at once',
      body: clientTrustBody, response: { status: 200, description: 'The application', schema: clientResponse }, errors: [404],
      handle: async ({ params, body }) => reply(publicApplication(await changeTrust(stores, params.id, body.trust))),
    }),
  ];
}
