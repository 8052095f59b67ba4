import type { Request, Response, Router } from 'express';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { isThirdParty } from '../../domain/applications.ts';
import { issuerUrl } from '../../domain/issuer.ts';
import type { AccessPolicy, Application, ClientGrant, ResourceServer, SubjectType } from '../../domain/model.ts';
import { API_SIGNING_ALGS, TOKEN_DIALECTS } from '../management/schemas.ts';
import { appTypeLabel } from './applications.ts';
import { can, checked, contextOf, everyItem, formErrors, integerField, renderConsole, type ConsoleKit } from './kit.ts';
import { ok, type TokenAnswer } from './management-client.ts';

type Api = ResourceServer;
type App = Omit<Application, 'client_secret_hash'>;

const POLICY_LABELS: Record<AccessPolicy, string> = {
  allow_all: 'All apps allowed', require_client_grant: 'Per-app authorization', deny_all: 'No apps allowed',
};
/** Auth0's table: `allow_all` exists for user-delegated access only (the Management API refuses it for client access). */
const POLICIES: Record<SubjectType, AccessPolicy[]> = {
  user: ['allow_all', 'require_client_grant', 'deny_all'],
  client: ['require_client_grant', 'deny_all'],
};
const SUBJECTS: { value: SubjectType; label: string; hint: string }[] = [
  { value: 'user', label: 'User-delegated access', hint: 'Tokens for a signed-in person (authorization code, refresh tokens).' },
  { value: 'client', label: 'Client access', hint: 'Tokens an application gets for itself (client credentials).' },
];

const SETTINGS_FIELDS = ['name', 'token_lifetime', 'token_lifetime_for_web', 'signing_alg', 'token_dialect', 'allow_offline_access', 'subject_type_authorization.user', 'subject_type_authorization.client'];

/** The access an application (or, by default, every third-party application) has to an API for one subject type. */
interface AccessChoice {
  on: boolean;
  all: boolean;
  scopes: string[];
}

const choiceFrom = (form: Record<string, unknown>, prefix: string): AccessChoice => ({
  on: checked(form[`${prefix}.on`]),
  all: checked(form[`${prefix}.all`]),
  scopes: [form[`${prefix}.scope`] ?? []].flat().map(String),
});

/**
 * Makes one client grant match a choice through the Management API: created, changed (its scopes) or deleted. The
 * holder is an application (`client_id`) or every third-party application (`default_for`).
 */
async function applyChoice(req: Request, api: Api, holder: { client_id: string } | { default_for: 'third_party_clients' }, subject: SubjectType, existing: ClientGrant | undefined, choice: AccessChoice) {
  const client = contextOf(req).api;
  if (!choice.on) {
    if (existing) await ok(client.DELETE('/api/v2/client-grants/{id}', { params: { path: { id: existing.id } } }));
    return;
  }
  const scope = choice.all ? [] : choice.scopes;
  if (existing) {
    if (existing.allow_all_scopes === choice.all && existing.scope.join(' ') === scope.join(' ')) return;
    await ok(client.PATCH('/api/v2/client-grants/{id}', { params: { path: { id: existing.id } }, body: { scope, allow_all_scopes: choice.all } }));
    return;
  }
  await ok(client.POST('/api/v2/client-grants', { body: { ...holder, audience: api.identifier, subject_type: subject, scope, allow_all_scopes: choice.all } }));
}

/** APIs: create, settings (access policies, default permissions for third-party apps), permissions, application access, test. */
export function apiPages(router: Router, kit: ConsoleKit, issuer: string, tokenEndpoint: (form: Record<string, string>) => Promise<TokenAnswer>): void {
  const base = `${kit.root}/apis`;
  const findApi = (req: Request) => ok(contextOf(req).api.GET('/api/v2/resource-servers/{id}', { params: { path: { id: String(req.params.id) } } })) as Promise<Api>;
  const grantsOf = (req: Request, api: Api) =>
    everyItem<ClientGrant>('client_grants', (query) => ok(contextOf(req).api.GET('/api/v2/client-grants', { params: { query: { ...query, audience: api.identifier } } })));
  const applications = (req: Request) => everyItem<App>('clients', (query) => ok(contextOf(req).api.GET('/api/v2/clients', { params: { query } })));

  router.get('/apis', async (req, res) => {
    const apis = await everyItem<Api>('resource_servers', (query) => ok(contextOf(req).api.GET('/api/v2/resource-servers', { params: { query } })));
    await renderConsole(kit, req, res, 'apis', 'APIs', 'apis', { apis: apis.sort((a, b) => Number(b.is_system) - Number(a.is_system) || a.name.localeCompare(b.name)) });
  });

  const showCreate = (req: Request, res: Response, form: Record<string, unknown>, errors: Record<string, string> = {}) =>
    renderConsole(kit, req, res, 'api-new', 'Create API', 'apis', { form, errors, algs: API_SIGNING_ALGS }, Object.keys(errors).length ? 400 : 200);
  router.get('/apis/new', (req, res) => showCreate(req, res, { signing_alg: 'RS256' }));
  router.post('/apis', async (req, res) => {
    const form = { name: String(req.body.name ?? '').trim(), identifier: String(req.body.identifier ?? '').trim(), signing_alg: String(req.body.signing_alg ?? 'RS256') };
    try {
      const api = await ok(contextOf(req).api.POST('/api/v2/resource-servers', { body: { ...form, ...(form.name ? {} : { name: undefined }), signing_alg: form.signing_alg as Api['signing_alg'] } })) as Api;
      return res.redirect(303, `${base}/${encodeURIComponent(api.id)}`);
    } catch (err) {
      return showCreate(req, res, form, formErrors(err, ['identifier', 'name', 'signing_alg']));
    }
  });

  /** The settings tab: the API's settings, its access policies and the default permissions of third-party apps. */
  async function showSettings(req: Request, res: Response, api: Api, options: { errors?: Record<string, string>; form?: Partial<Api>; saved?: string } = {}) {
    const grants = await grantsOf(req, api);
    const defaults = Object.fromEntries(SUBJECTS.map(({ value }) => [value, grants.find((g) => g.default_for === 'third_party_clients' && g.subject_type === value)]));
    await renderConsole(kit, req, res, 'api', api.name, 'apis', {
      api: { ...api, ...options.form }, id: api.id, tab: 'settings', editable: can(req, 'update:resource_servers') && !api.is_system,
      algs: API_SIGNING_ALGS, dialects: TOKEN_DIALECTS, subjects: SUBJECTS, policies: POLICIES, policyLabels: POLICY_LABELS, defaults,
      grantsEditable: can(req, 'create:client_grants') && can(req, 'update:client_grants') && can(req, 'delete:client_grants') && !api.is_system,
      deletable: can(req, 'delete:resource_servers') && !api.is_system,
      errors: options.errors ?? {}, saved: options.saved,
    }, options.errors && Object.keys(options.errors).length ? 400 : 200);
  }

  router.get('/apis/:id', async (req, res) => showSettings(req, res, await findApi(req), { saved: String(req.query.saved ?? '') }));

  router.post('/apis/:id', async (req, res) => {
    const api = await findApi(req);
    const form = req.body as Record<string, unknown>;
    const patch = {
      name: String(form.name ?? '').trim(),
      token_lifetime: integerField(form.token_lifetime),
      token_lifetime_for_web: integerField(form.token_lifetime_for_web),
      signing_alg: String(form.signing_alg ?? api.signing_alg) as Api['signing_alg'],
      token_dialect: String(form.token_dialect ?? api.token_dialect ?? 'access_token') as Api['token_dialect'],
      allow_offline_access: checked(form.allow_offline_access),
      subject_type_authorization: {
        user: { policy: String(form['subject_type_authorization.user'] ?? api.subject_type_authorization.user.policy) as AccessPolicy },
        client: { policy: String(form['subject_type_authorization.client'] ?? api.subject_type_authorization.client.policy) as 'deny_all' },
      },
    };
    try {
      await ok(contextOf(req).api.PATCH('/api/v2/resource-servers/{id}', { params: { path: { id: api.id } }, body: patch }));
      return res.redirect(303, `${base}/${encodeURIComponent(api.id)}?saved=settings`);
    } catch (err) {
      return showSettings(req, res, api, { errors: formErrors(err, SETTINGS_FIELDS, { 'subject_type_authorization.client': ['client.policy'] }), form: patch as Partial<Api> });
    }
  });

  router.post('/apis/:id/defaults', async (req, res) => {
    const api = await findApi(req);
    const grants = await grantsOf(req, api);
    try {
      for (const { value } of SUBJECTS) {
        const existing = grants.find((g) => g.default_for === 'third_party_clients' && g.subject_type === value);
        await applyChoice(req, api, { default_for: 'third_party_clients' }, value, existing, choiceFrom(req.body, value));
      }
    } catch (err) {
      return showSettings(req, res, api, { errors: { defaults: formErrors(err, [])._form ?? '' } });
    }
    return res.redirect(303, `${base}/${encodeURIComponent(api.id)}?saved=defaults`);
  });

  // ---- permissions (scopes) ----------------------------------------------------------------------------------------

  const showPermissions = async (req: Request, res: Response, api: Api, errors: Record<string, string> = {}, form = { value: '', description: '' }) =>
    renderConsole(kit, req, res, 'api', api.name, 'apis', {
      api, id: api.id, tab: 'permissions', editable: can(req, 'update:resource_servers') && !api.is_system, errors, form, saved: String(req.query.saved ?? ''),
    }, Object.keys(errors).length ? 400 : 200);

  router.get('/apis/:id/permissions', async (req, res) => showPermissions(req, res, await findApi(req)));

  router.post('/apis/:id/permissions', async (req, res) => {
    const api = await findApi(req);
    const removing = typeof req.body.remove === 'string' ? req.body.remove : undefined;
    const form = { value: String(req.body.value ?? '').trim(), description: String(req.body.description ?? '').trim() };
    const scopes = removing === undefined
      ? [...api.scopes, { value: form.value, ...(form.description ? { description: form.description } : {}) }]
      : api.scopes.filter((scope) => scope.value !== removing);
    try {
      await ok(contextOf(req).api.PATCH('/api/v2/resource-servers/{id}', { params: { path: { id: api.id } }, body: { scopes } }));
    } catch (err) {
      const errors = formErrors(err, ['scopes']);
      return showPermissions(req, res, api, { value: errors.scopes ?? errors._form ?? '' }, form);
    }
    return res.redirect(303, `${base}/${encodeURIComponent(api.id)}/permissions?saved=${removing === undefined ? 'added' : 'removed'}`);
  });

  // ---- application access ------------------------------------------------------------------------------------------

  router.get('/apis/:id/access', async (req, res) => {
    const api = await findApi(req);
    const [apps, grants] = await Promise.all([applications(req), grantsOf(req, api)]);
    const rows = apps.filter((app) => app.registration_type !== 'system').sort((a, b) => a.name.localeCompare(b.name)).map((app) => ({
      app, typeLabel: appTypeLabel(app.app_type), thirdParty: isThirdParty(app),
      access: Object.fromEntries(SUBJECTS.map(({ value }) => [value, grants.find((g) => g.client_id === app.client_id && g.subject_type === value)])),
    }));
    await renderConsole(kit, req, res, 'api', api.name, 'apis', { api, id: api.id, tab: 'access', rows, subjects: SUBJECTS, policyLabels: POLICY_LABELS, saved: String(req.query.saved ?? '') });
  });

  async function showGrantEditor(req: Request, res: Response, api: Api, errors: Record<string, string> = {}) {
    const { client_id } = req.params as { client_id: string };
    const app = await ok(contextOf(req).api.GET('/api/v2/clients/{id}', { params: { path: { id: client_id } } })) as App;
    const grants = (await grantsOf(req, api)).filter((g) => g.client_id === app.client_id);
    await renderConsole(kit, req, res, 'api-grant', `${app.name}'s access to ${api.name}`, 'apis', {
      api, app, subjects: SUBJECTS, policyLabels: POLICY_LABELS, errors,
      access: Object.fromEntries(SUBJECTS.map(({ value }) => [value, grants.find((g) => g.subject_type === value)])),
      editable: can(req, 'create:client_grants') && can(req, 'update:client_grants') && can(req, 'delete:client_grants'),
    }, Object.keys(errors).length ? 400 : 200);
  }

  router.get('/apis/:id/access/:client_id', async (req, res) => showGrantEditor(req, res, await findApi(req)));

  router.post('/apis/:id/access/:client_id', async (req, res) => {
    const api = await findApi(req);
    const clientId = String(req.params.client_id);
    const grants = (await grantsOf(req, api)).filter((g) => g.client_id === clientId);
    for (const { value } of SUBJECTS) {
      try {
        await applyChoice(req, api, { client_id: clientId }, value, grants.find((g) => g.subject_type === value), choiceFrom(req.body, value));
      } catch (err) {
        return showGrantEditor(req, res, api, { [value]: formErrors(err, [])._form ?? '' });
      }
    }
    return res.redirect(303, `${base}/${encodeURIComponent(api.id)}/access?saved=${encodeURIComponent(clientId)}`);
  });

  // ---- test: a sample client-credentials request -------------------------------------------------------------------

  /** The machine-to-machine access of this API: the applications holding a client grant for client access. */
  async function testable(req: Request, api: Api) {
    const [apps, grants] = await Promise.all([applications(req), grantsOf(req, api)]);
    const granted = new Set(grants.filter((g) => g.subject_type === 'client' && g.client_id).map((g) => g.client_id));
    return apps.filter((app) => granted.has(app.client_id) && app.token_endpoint_auth_method !== 'none');
  }

  const curlFor = (api: Api, clientId: string) => [
    `curl --request POST --url '${issuerUrl(issuer, 'oauth/token')}'`,
    `  --header 'content-type: application/x-www-form-urlencoded'`,
    `  --data grant_type=client_credentials`,
    `  --data 'client_id=${clientId}'`,
    `  --data client_secret=YOUR_CLIENT_SECRET`,
    `  --data 'audience=${api.identifier}'`,
  ].join(' \\\n');

  async function showTest(req: Request, res: Response, api: Api, outcome: Record<string, unknown> = {}, status = 200) {
    const apps = await testable(req, api);
    const chosen = String(outcome.clientId ?? req.query.client_id ?? apps[0]?.client_id ?? '');
    await renderConsole(kit, req, res, 'api', api.name, 'apis', {
      api, id: api.id, tab: 'test', apps, chosen, curl: chosen ? curlFor(api, chosen) : '', ...outcome,
    }, status);
  }

  router.get('/apis/:id/test', async (req, res) => showTest(req, res, await findApi(req)));

  router.post('/apis/:id/test', async (req, res) => {
    const api = await findApi(req);
    const clientId = String(req.body.client_id ?? '');
    if (!(await testable(req, api)).some((app) => app.client_id === clientId)) {
      return showTest(req, res, api, { clientId, error: 'Choose one of the applications authorized for client access to this API.' }, 400);
    }
    // The same request as the curl below, answered by the token endpoint in this process. The secret is used once,
    // never shown or stored: Gatehouse keeps only its hash, so the operator types it.
    const { status, body } = await tokenEndpoint({ grant_type: 'client_credentials', client_id: clientId, client_secret: String(req.body.client_secret ?? ''), audience: api.identifier });
    if (status !== 200 || !body.access_token) {
      return showTest(req, res, api, { clientId, error: `${body.error ?? 'error'}: ${body.error_description ?? 'no token'}` }, 400);
    }
    const claims = Object.entries(decodeJwt(body.access_token)).map(([name, value]) => ({ name, value: typeof value === 'string' ? value : JSON.stringify(value) }));
    const header = Object.entries(decodeProtectedHeader(body.access_token)).map(([name, value]) => ({ name, value: String(value) }));
    return showTest(req, res, api, { clientId, result: { claims, header, expiresIn: body.expires_in } });
  });

  // ---- deletion ----------------------------------------------------------------------------------------------------

  router.get('/apis/:id/delete', async (req, res) => {
    const api = await findApi(req);
    const grants = await grantsOf(req, api);
    const consents = await ok(contextOf(req).api.GET('/api/v2/grants', { params: { query: { audience: api.identifier, per_page: 1, include_totals: true } } })) as { total: number };
    await renderConsole(kit, req, res, 'api-delete', `Delete ${api.name}?`, 'apis', { api, grants: grants.length, consents: consents.total });
  });

  router.post('/apis/:id/delete', async (req, res) => {
    const api = await findApi(req);
    await ok(contextOf(req).api.DELETE('/api/v2/resource-servers/{id}', { params: { path: { id: api.id } } }));
    await renderConsole(kit, req, res, 'done', `${api.name} deleted`, 'apis', {
      message: `${api.name} (${api.identifier}), its client grants and the consents given to it are deleted; the tokens issued under those consents are revoked.`,
      back: { href: base, label: 'Back to APIs' },
    });
  });
}
