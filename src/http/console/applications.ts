import type { Request, Response, Router } from 'express';
import { GRANT_TYPES, STRICT_THIRD_PARTY_PROPERTIES, type ApplicationSettings } from '../../domain/application-rules.ts';
import { isStrictThirdParty, permittedGrantTypes } from '../../domain/applications.ts';
import type { Application, AppType } from '../../domain/model.ts';
import { trustOf, isSelfRegistered } from '../../domain/trust.ts';
import { selfRegistration } from './approvals.ts';
import { can, checked, contextOf, everyItem, formErrors, integerField, lines, renderConsole, type ConsoleKit } from './kit.ts';
import { ok } from './management-client.ts';

/** How the console names application types (Auth0's Dashboard words). */
export const APP_TYPES: { value: AppType; label: string; hint: string }[] = [
  { value: 'regular_web', label: 'Regular web application', hint: 'A server-side application that keeps a secret.' },
  { value: 'spa', label: 'Single page application', hint: 'Runs in the browser; no secret.' },
  { value: 'native', label: 'Native', hint: 'A mobile or desktop application; no secret.' },
  { value: 'non_interactive', label: 'Machine to machine', hint: 'A service that calls APIs for itself (client credentials).' },
];
export const appTypeLabel = (type: string) => APP_TYPES.find((t) => t.value === type)?.label ?? type;

type App = Omit<Application, 'client_secret_hash'> & { client_secret?: string };

/** An application and its use, as `/api/v2/client-activity` lists it. */
interface ApplicationUsage {
  client_id: string;
  name: string;
  app_type: AppType;
  registration_type: Application['registration_type'];
  created_at: string;
  last_used_at?: string;
  connections: number;
}

/** What "unused lately" means when the operator has not said. */
const UNUSED_DAYS_DEFAULT = 30;

/** The settings form's fields, named as the Management API names them (errors name them too). */
const SETTINGS_FIELDS = [
  'name', 'description', 'logo_uri', 'callbacks', 'allowed_logout_urls', 'allowed_origins', 'web_origins', 'grant_types', 'token_endpoint_auth_method',
  'redirection_policy', 'refresh_token.rotation_type', 'refresh_token.expiration_type', 'refresh_token.token_lifetime', 'refresh_token.idle_token_lifetime',
  'refresh_token.leeway', 'refresh_token.infinite_token_lifetime', 'refresh_token.infinite_idle_token_lifetime',
] as const;
const ERROR_WORDS = { grant_types: ['Grant type', 'grant type'], token_endpoint_auth_method: ['token_endpoint_auth_method'] };

/** Whether the settings form shows a property: strict third-party applications have a curated list (one rule, in the domain). */
const offers = (app: App, property: keyof ApplicationSettings) => !isStrictThirdParty(app) || STRICT_THIRD_PARTY_PROPERTIES.has(property);

/** The PATCH a submitted settings form stands for: only the properties this application offers. */
function settingsPatch(app: App, form: Record<string, unknown>) {
  const refresh = {
    rotation_type: form['refresh_token.rotation_type'],
    expiration_type: form['refresh_token.expiration_type'],
    token_lifetime: integerField(form['refresh_token.token_lifetime']),
    idle_token_lifetime: integerField(form['refresh_token.idle_token_lifetime']),
    leeway: integerField(form['refresh_token.leeway']),
    infinite_token_lifetime: checked(form['refresh_token.infinite_token_lifetime']),
    infinite_idle_token_lifetime: checked(form['refresh_token.infinite_idle_token_lifetime']),
  };
  const patch: Record<string, unknown> = {
    name: String(form.name ?? ''),
    description: String(form.description ?? ''),
    callbacks: lines(form.callbacks),
    allowed_origins: lines(form.allowed_origins),
    web_origins: lines(form.web_origins),
    grant_types: [form.grant_types ?? []].flat().map(String),
    token_endpoint_auth_method: String(form.token_endpoint_auth_method ?? ''),
    refresh_token: Object.fromEntries(Object.entries(refresh).filter(([, value]) => value !== undefined)),
  };
  const logo = String(form.logo_uri ?? '').trim();
  if (logo) patch.logo_uri = logo;
  if (offers(app, 'allowed_logout_urls')) patch.allowed_logout_urls = lines(form.allowed_logout_urls);
  if (!app.is_first_party) patch.redirection_policy = checked(form.redirection_policy) ? 'open_redirect_protection' : 'allow_always';
  return patch;
}

/** Applications: list and search, create (with the third-party toggle), settings, credentials, deletion. */
export function applicationPages(router: Router, kit: ConsoleKit): void {
  const listAll = (req: Request) => everyItem<App>('clients', (query) => ok(contextOf(req).api.GET('/api/v2/clients', { params: { query } })));

  router.get('/applications', async (req, res) => {
    const q = String(req.query.q ?? '').trim();
    const type = String(req.query.type ?? '');
    const party = String(req.query.party ?? '');
    const apps = (await listAll(req)).filter((app) => (!q || app.name.toLowerCase().includes(q.toLowerCase()) || app.client_id === q)
      && (!type || app.app_type === type) && (!party || String(app.is_first_party) === String(party === 'first')));
    await renderConsole(kit, req, res, 'applications', 'Applications', 'applications', {
      apps: apps.sort((a, b) => a.name.localeCompare(b.name)).map((app) => ({
        ...app, typeLabel: appTypeLabel(app.app_type), party: app.is_first_party ? 'First-party' : `Third-party${app.third_party_security_mode ? ` (${app.third_party_security_mode})` : ''}`,
        trust: isSelfRegistered(app) ? trustOf(app) : undefined,
      })),
      filters: { q, type, party },
      types: APP_TYPES,
    });
  });

  router.get('/applications/unused', async (req, res) => {
    const days = String(req.query.unused_for_days ?? UNUSED_DAYS_DEFAULT).trim();
    const page = Math.max(0, Number.parseInt(String(req.query.page ?? '0'), 10) || 0);
    let result: { total: number; clients: ApplicationUsage[] } = { total: 0, clients: [] };
    let errors: Record<string, string> = {};
    try {
      result = await ok(contextOf(req).api.GET('/api/v2/client-activity', {
        params: { query: { unused_for_days: integerField(days) as number, page, per_page: 50, include_totals: true } },
      })) as typeof result;
    } catch (err) {
      errors = formErrors(err, ['unused_for_days']);
    }
    await renderConsole(kit, req, res, 'applications-unused', 'Applications nobody used lately', 'applications', {
      days, apps: result.clients, list: { page, pages: Math.max(1, Math.ceil(result.total / 50)), total: result.total }, errors,
      revocable: can(req, 'delete:grants'),
    }, Object.keys(errors).length ? 400 : 200);
  });

  const showCreate = (req: Request, res: Response, form: Record<string, unknown>, errors: Record<string, string> = {}) =>
    renderConsole(kit, req, res, 'application-new', 'Create application', 'applications', { form, errors, types: APP_TYPES }, Object.keys(errors).length ? 400 : 200);

  router.get('/applications/new', (req, res) => showCreate(req, res, { app_type: 'regular_web', third_party: false }));

  router.post('/applications', async (req, res) => {
    const form = { name: String(req.body.name ?? ''), app_type: String(req.body.app_type ?? ''), third_party: checked(req.body.third_party) };
    try {
      // The Dashboard's toggle: a third-party application made here is always strict (the tenant's default mode).
      const app = await ok(contextOf(req).api.POST('/api/v2/clients', {
        body: { name: form.name, app_type: form.app_type as AppType, ...(form.third_party ? { is_first_party: false } : {}) },
      })) as App;
      return renderConsole(kit, req, res, 'application-created', `${app.name} created`, 'applications', { app, typeLabel: appTypeLabel(app.app_type) }, 201);
    } catch (err) {
      return showCreate(req, res, form, formErrors(err, ['name', 'app_type']));
    }
  });

  const findApp = (req: Request) => ok(contextOf(req).api.GET('/api/v2/clients/{id}', { params: { path: { id: String(req.params.id) } } })) as Promise<App>;

  async function showSettings(req: Request, res: Response, app: App, options: { errors?: Record<string, string>; form?: App; saved?: boolean; trustChanged?: boolean; secret?: string } = {}) {
    const shown = options.form ?? app;
    const permitted = permittedGrantTypes(app);
    await renderConsole(kit, req, res, 'application', app.name, 'applications', {
      app: shown,
      clientId: app.client_id,
      typeLabel: appTypeLabel(app.app_type),
      strict: isStrictThirdParty(app),
      system: app.registration_type === 'system',
      editable: can(req, 'update:clients') && app.registration_type !== 'system',
      rotatable: can(req, 'update:client_keys') && app.registration_type !== 'system' && app.token_endpoint_auth_method !== 'none',
      deletable: can(req, 'delete:clients') && app.registration_type !== 'system',
      offersLogoutUrls: offers(app, 'allowed_logout_urls'),
      registration: selfRegistration(app, kit.knownAgents),
      decidable: can(req, 'update:clients'),
      revocable: can(req, 'delete:grants') && app.registration_type !== 'system',
      grantTypes: GRANT_TYPES.filter((grant) => permitted.has(grant)).map((value) => ({ value, checked: shown.grant_types.includes(value) })),
      errors: options.errors ?? {},
      saved: options.saved,
      trustChanged: options.trustChanged,
      secret: options.secret,
    }, options.errors && Object.keys(options.errors).length ? 400 : 200);
  }

  router.get('/applications/:id', async (req, res) => showSettings(req, res, await findApp(req), { saved: req.query.saved === '1', trustChanged: req.query.saved === 'trust' }));

  router.post('/applications/:id', async (req, res) => {
    const app = await findApp(req);
    const patch = settingsPatch(app, req.body);
    try {
      await ok(contextOf(req).api.PATCH('/api/v2/clients/{id}', { params: { path: { id: app.client_id } }, body: patch as never }));
      return res.redirect(303, `${kit.root}/applications/${encodeURIComponent(app.client_id)}?saved=1`);
    } catch (err) {
      const form = { ...app, ...patch, refresh_token: { ...app.refresh_token, ...(patch.refresh_token as object) } } as App;
      return showSettings(req, res, app, { errors: formErrors(err, SETTINGS_FIELDS, ERROR_WORDS), form });
    }
  });

  router.post('/applications/:id/rotate-secret', async (req, res) => {
    const rotated = await ok(contextOf(req).api.POST('/api/v2/clients/{id}/rotate-secret', { params: { path: { id: String(req.params.id) } } })) as App;
    return showSettings(req, res, rotated, { secret: rotated.client_secret });
  });

  /** What deleting an application takes with it, named before anything is deleted. */
  async function dependents(req: Request, app: App) {
    const { api } = contextOf(req);
    const grants = await ok(api.GET('/api/v2/client-grants', { params: { query: { client_id: app.client_id, per_page: 100 } } })) as { audience: string; subject_type: string }[];
    const consents = await ok(api.GET('/api/v2/grants', { params: { query: { client_id: app.client_id, per_page: 1, include_totals: true } } })) as { total: number };
    return { grants, consents: consents.total };
  }

  router.get('/applications/:id/delete', async (req, res) => {
    const app = await findApp(req);
    return renderConsole(kit, req, res, 'application-delete', `Delete ${app.name}?`, 'applications', { app, ...(await dependents(req, app)) });
  });

  router.post('/applications/:id/delete', async (req, res) => {
    const app = await findApp(req);
    await ok(contextOf(req).api.DELETE('/api/v2/clients/{id}', { params: { path: { id: app.client_id } } }));
    return renderConsole(kit, req, res, 'done', `${app.name} deleted`, 'applications', {
      message: `${app.name} (${app.client_id}), its client grants and the consents users gave it are deleted; the tokens issued under those consents are revoked.`,
      back: { href: `${kit.root}/applications`, label: 'Back to applications' },
    });
  });
}
