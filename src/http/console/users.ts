import type { Request, Response, Router } from 'express';
import type { Connection, UserGrant } from '../../domain/model.ts';
import { OPERATOR_CONNECTION } from '../../domain/operators.ts';
import { can, checked, contextOf, everyItem, formErrors, renderConsole, type ConsoleKit } from './kit.ts';
import { ok } from './management-client.ts';

interface PublicUser {
  user_id: string;
  email: string;
  name?: string;
  connection: string;
  blocked: boolean;
  email_verified: boolean;
  logins_count: number;
  last_login?: string;
  created_at: string;
}
/** A consent, with how the application used it (absent until it got a token). */
type Consent = Omit<UserGrant, 'oidc_grant_ids'> & { activity?: { last_used_at: string; tokens_issued: number } };
interface Paged<T> { items: T[]; page: number; pages: number; total: number }

const PER_PAGE = 50;
const paged = <T>(result: unknown, plural: string, page: number): Paged<T> => {
  const { total, [plural]: items } = result as { total: number } & Record<string, T[]>;
  return { items: items ?? [], page, pages: Math.max(1, Math.ceil(total / PER_PAGE)), total };
};
const pageNumber = (value: unknown) => Math.max(0, Number.parseInt(String(value ?? '0'), 10) || 0);

/** Consents, with the names of their applications and APIs (looked up once per page). */
async function describeConsents(req: Request, consents: Consent[]) {
  const { api } = contextOf(req);
  const names = new Map<string, string>();
  for (const clientId of new Set(consents.map((c) => c.clientID))) {
    const found = await api.GET('/api/v2/clients/{id}', { params: { path: { id: clientId } } });
    names.set(clientId, found.data?.name ?? clientId);
  }
  return consents.map((consent) => ({ ...consent, appName: names.get(consent.clientID) ?? consent.clientID }));
}

/** Users: search by email, create, block and unblock, change a password, see and revoke their consents, delete. */
export function userPages(router: Router, kit: ConsoleKit): void {
  const base = `${kit.root}/users`;
  const findUser = (req: Request) => ok(contextOf(req).api.GET('/api/v2/users/{id}', { params: { path: { id: String(req.params.id) } } })) as Promise<PublicUser>;

  router.get('/users', async (req, res) => {
    const email = String(req.query.email ?? '').trim();
    const page = pageNumber(req.query.page);
    const result = await ok(contextOf(req).api.GET('/api/v2/users', {
      params: { query: { page, per_page: PER_PAGE, include_totals: true, ...(email ? { q: `email:"${email.replaceAll('"', '')}"` } : {}) } },
    }));
    await renderConsole(kit, req, res, 'users', 'Users', 'users', { users: paged<PublicUser>(result, 'users', page), email, operatorConnection: OPERATOR_CONNECTION });
  });

  const databaseConnections = async (req: Request) => (await everyItem<Connection>('connections', (query) => ok(contextOf(req).api.GET('/api/v2/connections', { params: { query } }))))
    .filter((connection) => connection.strategy === 'auth0' && connection.name !== OPERATOR_CONNECTION);
  const showCreate = async (req: Request, res: Response, form: Record<string, unknown>, errors: Record<string, string> = {}) =>
    renderConsole(kit, req, res, 'user-new', 'Create user', 'users', { form, errors, connections: await databaseConnections(req) }, Object.keys(errors).length ? 400 : 200);
  router.get('/users/new', (req, res) => showCreate(req, res, { email: '', name: '', connection: '' }));
  router.post('/users', async (req, res) => {
    const form = { email: String(req.body.email ?? '').trim(), name: String(req.body.name ?? '').trim(), connection: String(req.body.connection ?? '') };
    try {
      const user = await ok(contextOf(req).api.POST('/api/v2/users', {
        body: { connection: form.connection, email: form.email, password: String(req.body.password ?? ''), ...(form.name ? { name: form.name } : {}) },
      })) as PublicUser;
      return res.redirect(303, `${base}/${encodeURIComponent(user.user_id)}?saved=created`);
    } catch (err) {
      return showCreate(req, res, form, formErrors(err, ['email', 'password', 'name', 'connection'], { email: ['user already exists'] }));
    }
  });

  async function showUser(req: Request, res: Response, user: PublicUser, errors: Record<string, string> = {}, saved = '') {
    const { api } = contextOf(req);
    const consents = await ok(api.GET('/api/v2/grants', { params: { query: { user_id: user.user_id, per_page: 100 } } })) as Consent[];
    const blocks = await ok(api.GET('/api/v2/user-blocks/{id}', { params: { path: { id: user.user_id }, query: {} } })) as { blocked_for: unknown[] };
    await renderConsole(kit, req, res, 'user', user.email, 'users', {
      user, errors, saved, consents: await describeConsents(req, consents), lockedOut: blocks.blocked_for.length > 0,
      operator: user.connection === OPERATOR_CONNECTION,
      editable: can(req, 'update:users') && user.connection !== OPERATOR_CONNECTION,
      revocable: can(req, 'delete:grants'), deletable: can(req, 'delete:users') && user.connection !== OPERATOR_CONNECTION,
    }, Object.keys(errors).length ? 400 : 200);
  }

  router.get('/users/:id', async (req, res) => showUser(req, res, await findUser(req), {}, String(req.query.saved ?? '')));

  router.post('/users/:id/blocked', async (req, res) => {
    const user = await findUser(req);
    await ok(contextOf(req).api.PATCH('/api/v2/users/{id}', { params: { path: { id: user.user_id } }, body: { blocked: checked(req.body.blocked) } }));
    return res.redirect(303, `${base}/${encodeURIComponent(user.user_id)}?saved=${checked(req.body.blocked) ? 'blocked' : 'unblocked'}`);
  });

  router.post('/users/:id/unlock', async (req, res) => {
    const user = await findUser(req);
    await ok(contextOf(req).api.DELETE('/api/v2/user-blocks/{id}', { params: { path: { id: user.user_id } } }));
    return res.redirect(303, `${base}/${encodeURIComponent(user.user_id)}?saved=unlocked`);
  });

  router.post('/users/:id/password', async (req, res) => {
    const user = await findUser(req);
    try {
      await ok(contextOf(req).api.PATCH('/api/v2/users/{id}', { params: { path: { id: user.user_id } }, body: { password: String(req.body.password ?? ''), connection: user.connection } }));
    } catch (err) {
      return showUser(req, res, user, formErrors(err, ['password']));
    }
    return res.redirect(303, `${base}/${encodeURIComponent(user.user_id)}?saved=password`);
  });

  router.post('/users/:id/consents/:grant/revoke', async (req, res) => {
    const user = await findUser(req);
    await ok(contextOf(req).api.DELETE('/api/v2/grants/{id}', { params: { path: { id: String(req.params.grant) } } }));
    return res.redirect(303, `${base}/${encodeURIComponent(user.user_id)}?saved=revoked`);
  });

  router.post('/users/:id/delete', async (req, res) => {
    const user = await findUser(req);
    await ok(contextOf(req).api.DELETE('/api/v2/users/{id}', { params: { path: { id: user.user_id } } }));
    await renderConsole(kit, req, res, 'done', `${user.email} deleted`, 'users', {
      message: `${user.email}, their consents and the tokens issued under them are deleted.`, back: { href: base, label: 'Back to users' },
    });
  });
}

/** Consents: what people agreed to, by application, API or user; revoking one revokes its tokens. */
export function consentPages(router: Router, kit: ConsoleKit): void {
  const base = `${kit.root}/consents`;
  router.get('/consents', async (req, res) => {
    const filters = { client_id: String(req.query.client_id ?? '').trim(), audience: String(req.query.audience ?? '').trim(), user_id: String(req.query.user_id ?? '').trim() };
    const page = pageNumber(req.query.page);
    const result = await ok(contextOf(req).api.GET('/api/v2/grants', {
      params: { query: { page, per_page: PER_PAGE, include_totals: true, ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value)) } },
    }));
    const consents = paged<Consent>(result, 'grants', page);
    await renderConsole(kit, req, res, 'consents', 'Consents', 'consents', {
      consents: { ...consents, items: await describeConsents(req, consents.items) }, filters, revocable: can(req, 'delete:grants'), revoked: req.query.revoked === '1',
      query: new URLSearchParams(Object.entries(filters).filter(([, value]) => value)).toString(),
    });
  });
  router.post('/consents/:grant/revoke', async (req, res) => {
    await ok(contextOf(req).api.DELETE('/api/v2/grants/{id}', { params: { path: { id: String(req.params.grant) } } }));
    return res.redirect(303, `${base}?revoked=1`);
  });
}
