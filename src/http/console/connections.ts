import type { Request, Response, Router } from 'express';
import type { Application, Connection } from '../../domain/model.ts';
import { can, checked, contextOf, everyItem, formErrors, renderConsole, type ConsoleKit } from './kit.ts';
import { ok } from './management-client.ts';

type App = Omit<Application, 'client_secret_hash'>;

/**
 * Connections: list, create a database connection, promote to the domain level, choose the applications that use it.
 * The pages show what the Management API returns for any strategy; only database connections are created here.
 */
export function connectionPages(router: Router, kit: ConsoleKit): void {
  const base = `${kit.root}/connections`;
  const findConnection = (req: Request) => ok(contextOf(req).api.GET('/api/v2/connections/{id}', { params: { path: { id: String(req.params.id) } } })) as Promise<Connection>;

  router.get('/connections', async (req, res) => {
    const connections = await everyItem<Connection>('connections', (query) => ok(contextOf(req).api.GET('/api/v2/connections', { params: { query } })));
    await renderConsole(kit, req, res, 'connections', 'Connections', 'connections', { connections: connections.sort((a, b) => a.name.localeCompare(b.name)) });
  });

  const showCreate = (req: Request, res: Response, form: Record<string, unknown>, errors: Record<string, string> = {}) =>
    renderConsole(kit, req, res, 'connection-new', 'Create database connection', 'connections', { form, errors }, Object.keys(errors).length ? 400 : 200);
  router.get('/connections/new', (req, res) => showCreate(req, res, { name: '', display_name: '', is_domain_connection: false }));
  router.post('/connections', async (req, res) => {
    const form = { name: String(req.body.name ?? '').trim(), display_name: String(req.body.display_name ?? '').trim(), is_domain_connection: checked(req.body.is_domain_connection) };
    try {
      const connection = await ok(contextOf(req).api.POST('/api/v2/connections', {
        body: { name: form.name, strategy: 'auth0', is_domain_connection: form.is_domain_connection, ...(form.display_name ? { display_name: form.display_name } : {}) },
      })) as Connection;
      return res.redirect(303, `${base}/${encodeURIComponent(connection.id)}`);
    } catch (err) {
      return showCreate(req, res, form, formErrors(err, ['name', 'display_name', 'is_domain_connection']));
    }
  });

  async function showConnection(req: Request, res: Response, connection: Connection, errors: Record<string, string> = {}, saved = false) {
    const apps = await everyItem<App>('clients', (query) => ok(contextOf(req).api.GET('/api/v2/clients', { params: { query: { ...query, is_first_party: true } } })));
    await renderConsole(kit, req, res, 'connection', connection.display_name ?? connection.name, 'connections', {
      connection, errors, saved,
      apps: apps.filter((app) => app.registration_type !== 'system').sort((a, b) => a.name.localeCompare(b.name))
        .map((app) => ({ client_id: app.client_id, name: app.name, enabled: connection.enabled_clients.includes(app.client_id) })),
      editable: can(req, 'update:connections'),
      deletable: can(req, 'delete:connections'),
    }, Object.keys(errors).length ? 400 : 200);
  }

  router.get('/connections/:id', async (req, res) => showConnection(req, res, await findConnection(req), {}, req.query.saved === '1'));

  router.post('/connections/:id', async (req, res) => {
    const connection = await findConnection(req);
    const form = req.body as Record<string, unknown>;
    const patch = {
      display_name: String(form.display_name ?? '').trim() || connection.name,
      is_domain_connection: checked(form.is_domain_connection),
      enabled_clients: [form.enabled_clients ?? []].flat().map(String),
    };
    try {
      await ok(contextOf(req).api.PATCH('/api/v2/connections/{id}', { params: { path: { id: connection.id } }, body: patch }));
      return res.redirect(303, `${base}/${encodeURIComponent(connection.id)}?saved=1`);
    } catch (err) {
      return showConnection(req, res, { ...connection, ...patch }, formErrors(err, ['display_name', 'is_domain_connection', 'enabled_clients']));
    }
  });

  router.get('/connections/:id/delete', async (req, res) => {
    const connection = await findConnection(req);
    await renderConsole(kit, req, res, 'connection-delete', `Delete ${connection.name}?`, 'connections', { connection });
  });

  router.post('/connections/:id/delete', async (req, res) => {
    const connection = await findConnection(req);
    await ok(contextOf(req).api.DELETE('/api/v2/connections/{id}', { params: { path: { id: connection.id } } }));
    await renderConsole(kit, req, res, 'done', `${connection.name} deleted`, 'connections', {
      message: `The connection ${connection.name}, its users and their consents are deleted.`, back: { href: base, label: 'Back to connections' },
    });
  });
}
