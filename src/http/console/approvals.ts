import type { Request, Router } from 'express';
import { redirectDestination } from '../../domain/applications.ts';
import { clientIdentity, type KnownAgent } from '../../domain/known-agents.ts';
import type { Application, Trust, UserGrant } from '../../domain/model.ts';
import { isSelfRegistered, trustOf } from '../../domain/trust.ts';
import { can, contextOf, everyItem, renderConsole, type ConsoleKit } from './kit.ts';
import { ok } from './management-client.ts';

type App = Omit<Application, 'client_secret_hash'>;

const PER_PAGE = 50;
const TRUST_LEVELS: readonly Trust[] = ['trusted', 'pending', 'blocked'];

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/**
 * What an operator needs to decide about a self-registered application (undefined for the others): how it registered
 * (dynamic registration, or the URL and host of its metadata document), where it sends people, what software it says
 * it is, and whether its URL is a known agent's (verified) or its name only reads like one.
 */
export function selfRegistration(app: App, agents: readonly KnownAgent[]) {
  if (!isSelfRegistered(app)) return undefined;
  const identity = clientIdentity(app, agents);
  const metadata = app.registration_metadata ?? {};
  const destinations = new Map(app.callbacks.map((uri) => [redirectDestination(uri).host, redirectDestination(uri)]));
  return {
    trust: trustOf(app),
    path: app.external_metadata_type === 'cimd' ? 'cimd' as const : 'dcr' as const,
    documentUrl: app.external_client_id,
    documentHost: identity.documentHost,
    importedByAdministrator: app.external_metadata_created_by === 'admin',
    destinations: [...destinations.values()],
    softwareId: text(metadata.software_id),
    softwareVersion: text(metadata.software_version),
    homepage: text(metadata.client_uri),
    contacts: Array.isArray(metadata.contacts) ? metadata.contacts.filter((c): c is string => typeof c === 'string') : [],
    verified: identity.verified,
    imitates: identity.imitates,
    publicClient: app.token_endpoint_auth_method === 'none',
  };
}

/** Users among consents: how many people a revocation touches. */
const usersOf = (consents: readonly Pick<UserGrant, 'user_id'>[]) => new Set(consents.map((consent) => consent.user_id)).size;

/**
 * The queue of self-registered applications waiting for an operator (the trust ladder), approving and blocking them
 * (from the queue or an application's page), and "revoke every connection" of any application.
 */
export function approvalPages(router: Router, kit: ConsoleKit): void {
  const findApp = (req: Request) => ok(contextOf(req).api.GET('/api/v2/clients/{id}', { params: { path: { id: String(req.params.id) } } })) as Promise<App>;

  router.get('/pending', async (req, res) => {
    const page = Math.max(0, Number.parseInt(String(req.query.page ?? '0'), 10) || 0);
    const result = await ok(contextOf(req).api.GET('/api/v2/clients', {
      params: { query: { trust: 'pending', page, per_page: PER_PAGE, include_totals: true } },
    })) as { total: number; clients: App[] };
    const changedId = typeof req.query.changed === 'string' ? req.query.changed : undefined;
    const changed = changedId ? (await contextOf(req).api.GET('/api/v2/clients/{id}', { params: { path: { id: changedId } } })).data as App | undefined : undefined;
    await renderConsole(kit, req, res, 'pending', 'Waiting for approval', 'pending', {
      clients: result.clients.map((app) => ({ app, registration: selfRegistration(app, kit.knownAgents) })),
      list: { page, pages: Math.max(1, Math.ceil(result.total / PER_PAGE)), total: result.total },
      changed: changed && { name: changed.name, client_id: changed.client_id, trust: trustOf(changed) },
      decidable: can(req, 'update:clients'),
    });
  });

  router.post('/applications/:id/trust', async (req, res) => {
    const app = await findApp(req);
    const trust = String(req.body.trust) as Trust;
    if (!TRUST_LEVELS.includes(trust)) return res.redirect(303, `${kit.root}/applications/${encodeURIComponent(app.client_id)}`);
    await ok(contextOf(req).api.POST('/api/v2/clients/{id}/trust', { params: { path: { id: app.client_id } }, body: { trust } }));
    // Back to where the decision was made: the queue, or the application's page (never a URL taken from the form).
    return res.redirect(303, req.body.back === 'pending'
      ? `${kit.root}/pending?changed=${encodeURIComponent(app.client_id)}`
      : `${kit.root}/applications/${encodeURIComponent(app.client_id)}?saved=trust`);
  });

  const consentsOf = (req: Request, clientId: string) => everyItem<UserGrant>('grants', (query) => ok(contextOf(req).api.GET('/api/v2/grants', {
    params: { query: { ...query, client_id: clientId } },
  })));

  router.get('/applications/:id/connections/revoke', async (req, res) => {
    const app = await findApp(req);
    const consents = await consentsOf(req, app.client_id);
    return renderConsole(kit, req, res, 'revoke-connections', `Revoke every connection of ${app.name}?`, 'applications', {
      app, consents: consents.length, users: usersOf(consents), revocable: can(req, 'delete:grants'),
    });
  });

  router.post('/applications/:id/connections/revoke', async (req, res) => {
    const app = await findApp(req);
    const users = usersOf(await consentsOf(req, app.client_id));
    await ok(contextOf(req).api.DELETE('/api/v2/grants', { params: { query: { client_id: app.client_id } } }));
    return renderConsole(kit, req, res, 'done', `Every connection of ${app.name} is revoked`, 'applications', {
      message: `${users} ${users === 1 ? 'person is' : 'people are'} no longer connected to ${app.name}: their consents, and the refresh tokens and codes issued under them, are revoked. The application itself is kept.`,
      back: { href: `${kit.root}/applications/${encodeURIComponent(app.client_id)}`, label: `Back to ${app.name}` },
    });
  });
}
