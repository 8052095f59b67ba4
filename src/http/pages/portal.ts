import { randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { isConfidential } from '../../domain/applications.ts';
import type { Application, TenantSettings } from '../../domain/model.ts';
import { RegistrationError, type RegistrationRequest } from '../../domain/registration.ts';
import { thirdPartyCatalogue, type CatalogueEntry } from '../../services/api-catalogue.ts';
import type { Refusal, RegistrationService } from '../../services/registration.ts';
import { readTenantSettings } from '../../services/tenant.ts';
import { blockedByNetworkAcl, REGISTRATION_BLOCKED } from '../network-guard.ts';
import { describe as describeRequestProblem, validateRequest } from '../registration.ts';
import { pageErrorHandler } from './errors.ts';
import { firstSignInExample } from './portal-examples.ts';
import { csrfToken, csrfValid, httpsUrlOrUndefined, renderPage, type PageContext, type PageDeps } from './render.ts';
import { issuerBasePath, issuerUrl } from '../../domain/issuer.ts';

export interface PortalDeps extends PageDeps {
  registration: RegistrationService;
  /** Registrations nobody used for this many days are removed (0: never); developers are told up front. */
  idleCleanupDays: number;
  /** The client's address (src/http/client-address.ts), which registration limits count by. */
  clientAddress: (req: Request) => string;
}

const APP_TYPES = {
  web: { label: 'Web application', hint: 'Runs on your server and keeps a client secret.' },
  spa: { label: 'Single-page application', hint: 'Runs in the browser: no secret, PKCE protects the sign-in.' },
  native: { label: 'Native application', hint: 'Mobile, desktop or command line: no secret, PKCE; may use http://127.0.0.1 loopback redirects.' },
} as const;
type AppChoice = keyof typeof APP_TYPES;

/** The form as typed, kept to show it again beside the errors. */
interface RegistrationForm {
  client_name: string;
  app_type: AppChoice;
  redirect_uris: string;
  logo_uri: string;
  client_uri: string;
}
type FormField = keyof RegistrationForm;

const FIELD_LABELS: Record<string, string> = { client_name: 'The name', logo_uri: 'The logo URL', client_uri: 'The homepage' };

const EMPTY_FORM: RegistrationForm = { client_name: '', app_type: 'web', redirect_uris: '', logo_uri: '', client_uri: '' };

/** Sizes are bounded by the body limit; the registration schema checks each field's own. */
function formFrom(body: Record<string, unknown> | undefined): RegistrationForm {
  const text = (name: FormField) => (typeof body?.[name] === 'string' ? (body[name] as string).trim() : '');
  const type = text('app_type');
  return {
    client_name: text('client_name'), app_type: Object.hasOwn(APP_TYPES, type) ? (type as AppChoice) : 'web',
    redirect_uris: text('redirect_uris'), logo_uri: text('logo_uri'), client_uri: text('client_uri'),
  };
}

/** Single-page and native applications are public clients; web applications get a secret. */
function registrationRequest(form: RegistrationForm): RegistrationRequest {
  return {
    client_name: form.client_name,
    redirect_uris: form.redirect_uris.split(/\r?\n/).map((uri) => uri.trim()).filter(Boolean),
    application_type: form.app_type === 'native' ? 'native' : 'web',
    token_endpoint_auth_method: form.app_type === 'web' ? 'client_secret_post' : 'none',
    ...(form.logo_uri ? { logo_uri: form.logo_uri } : {}),
    ...(form.client_uri ? { client_uri: form.client_uri } : {}),
  };
}

/**
 * Places a registration problem beside its field. Descriptions name the metadata field first (`logo_uri must be…`,
 * `redirect_uris[1] "…" must…`, `redirect_uris.1 must…`); anything else is shown above the form.
 */
function fieldError(description: string): { field?: FormField; message: string } {
  const match = /^(client_name|redirect_uris|logo_uri|client_uri)(?:\[(\d+)\]|\.(\d+))? (.*)$/s.exec(description);
  if (!match) return { message: description };
  const field = match[1] as FormField;
  const index = match[2] ?? match[3];
  const problem = match[4] as string;
  if (field !== 'redirect_uris') return { field, message: `${FIELD_LABELS[field]} ${problem}` };
  return { field, message: index === undefined ? `The redirect URIs ${problem}` : `Redirect URI ${Number(index) + 1}: ${problem}` };
}

const VISITOR_COOKIE = 'gatehouse_portal';
const VISITOR_SECONDS = 7200;
const VISITOR = /^[A-Za-z0-9_-]{22}\.(\d{10})$/;
const VISITOR_IN_HEADER = new RegExp(`(?:^|;\\s*)${VISITOR_COOKIE}=([^;]+)`);

/**
 * The portal has no session: its form is bound to a short-lived visitor cookie (a random value and its expiry), and the
 * CSRF token is that value signed. A forged cross-site post has neither, so it cannot register from a visitor's network.
 */
function currentVisitor(req: Request): string | undefined {
  const value = VISITOR_IN_HEADER.exec(req.get('cookie') ?? '')?.[1];
  const expires = value ? VISITOR.exec(value)?.[1] : undefined;
  return expires && Number(expires) * 1000 > Date.now() ? value : undefined;
}

export function portalRouter(deps: PortalDeps): Router {
  const { registration, stores, issuer, csrfKey, idleCleanupDays, clientAddress } = deps;
  const { durable } = stores;
  const base = issuerBasePath(issuer);
  const portal = `${base}/developers`;
  const router = Router();

  function newVisitor(res: Response): string {
    const value = `${randomBytes(16).toString('base64url')}.${Math.floor(Date.now() / 1000) + VISITOR_SECONDS}`;
    res.cookie(VISITOR_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure: new URL(issuer).protocol === 'https:', path: portal, maxAge: VISITOR_SECONDS * 1000 });
    return value;
  }

  /** What every portal page shows: tabs, the tenant, whether registration is open and who to ask when it is not. */
  async function portalPage(section: 'apis' | 'register' | 'start'): Promise<{ page: PageContext; settings: TenantSettings; data: Record<string, unknown> }> {
    const settings = await readTenantSettings(durable);
    const open = settings.flags.enable_dynamic_client_registration;
    return { page: { base, tenant: settings }, settings, data: { wide: true, section, portal, open, supportEmail: settings.support_email } };
  }

  router.get('/', async (_req, res) => {
    const { page, data } = await portalPage('apis');
    const catalogue = (await thirdPartyCatalogue(durable)).map(describeEntry);
    renderPage(res, page, 'portal', 'APIs for developers', { ...data, catalogue });
  });

  router.get('/getting-started', async (_req, res) => {
    const { page, settings, data } = await portalPage('start');
    renderPage(res, page, 'portal-start', 'Getting started', {
      ...data,
      issuer,
      discovery: [issuerUrl(issuer, '.well-known/openid-configuration'), issuerUrl(issuer, '.well-known/oauth-authorization-server')],
      registrationEndpoint: issuerUrl(issuer, 'oidc/register'),
      strict: settings.dynamic_client_registration_security_mode === 'strict',
      connectedApps: issuerUrl(issuer, 'u/apps'),
      idleCleanupDays,
    });
  });

  async function showForm(res: Response, form: RegistrationForm, visitor: string, problem?: { field?: FormField; message: string }, status = 200) {
    const { page, data } = await portalPage('register');
    renderPage(res, page, 'portal-register', 'Register an application', {
      ...data,
      form,
      types: Object.entries(APP_TYPES).map(([value, type]) => ({ value, ...type })),
      errors: problem?.field ? { [problem.field]: problem.message } : {},
      alert: problem && !problem.field ? problem.message : undefined,
      csrf: csrfToken(csrfKey, 'portal', visitor),
      action: `${portal}/register`,
      idleCleanupDays,
    }, status);
  }

  router.get('/register', async (req, res) => showForm(res, EMPTY_FORM, currentVisitor(req) ?? newVisitor(res)));

  router.post('/register', express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 10 }), async (req, res) => {
    const form = formFrom(req.body);
    const visitor = currentVisitor(req);
    if (!visitor || !csrfValid(csrfKey, 'portal', visitor, req.body?.csrf)) {
      return showForm(res, form, newVisitor(res), { message: 'This form has expired or was already sent. Check the fields and send it again.' }, 403);
    }
    if (blockedByNetworkAcl(res)) return showForm(res, form, visitor, { message: REGISTRATION_BLOCKED }, 403);
    const refused = (refusal: Refusal) => {
      if (refusal.reason === 'rate_limited') res.set('Retry-After', String(refusal.limit.resetSeconds));
      return showForm(res, form, visitor, { message: refusal.reason === 'disabled' ? 'Registration has just been closed.' : refusal.description }, refusal.status);
    };
    const admission = await registration.admit({ ip: clientAddress(req) });
    if (admission.refusal) return refused(admission.refusal);

    const request = registrationRequest(form);
    if (!form.client_name) return showForm(res, form, visitor, { field: 'client_name', message: 'Give your application a name: people see it when it asks for their consent.' }, 400);
    if (!validateRequest(request)) return showForm(res, form, visitor, fieldError(describeRequestProblem(validateRequest.errors?.[0]).description), 400);
    try {
      const outcome = await registration.register(request, { ip: clientAddress(req) }, admission);
      if ('refusal' in outcome) return refused(outcome.refusal);
      newVisitor(res); // sending the form again (a reload) must not register a second application
      res.set('Pragma', 'no-cache');
      return showCredentials(res, outcome.application, outcome.secret);
    } catch (err) {
      if (err instanceof RegistrationError) return showForm(res, form, visitor, fieldError(err.message), 400);
      throw err;
    }
  });

  async function showCredentials(res: Response, application: Application, secret: string | undefined) {
    const { page, settings, data } = await portalPage('register');
    const catalogue = await thirdPartyCatalogue(durable);
    const example = catalogue.find((entry) => entry.api.identifier === settings.default_audience) ?? catalogue[0];
    renderPage(res, page, 'portal-credentials', 'Your application', {
      ...data,
      app: {
        name: application.name, client_id: application.client_id, logo: httpsUrlOrUndefined(application.logo_uri),
        initial: application.name.trim().charAt(0).toUpperCase() || '?', type: APP_TYPES[portalType(application)].label,
        confidential: isConfidential(application), redirectUris: application.callbacks,
      },
      secret,
      example: example ? firstSignInExample(issuer, application, example) : undefined,
      otherApis: catalogue.filter((entry) => entry !== example).map((entry) => entry.api.identifier),
      idleCleanupDays,
    });
  }

  router.use(pageErrorHandler(durable, issuer, deps.logger));
  return router;
}

/** What the portal calls an application's type (a web application may have been registered with loopback redirects only). */
const portalType = (app: Application): AppChoice => (isConfidential(app) ? 'web' : app.app_type === 'native' ? 'native' : 'spa');

const describeEntry = (entry: CatalogueEntry) => ({
  name: entry.api.name,
  identifier: entry.api.identifier,
  scopes: entry.scopes.map((scope) => ({ value: scope.value, description: scope.description || 'No description given' })),
  offlineAccess: entry.offlineAccess,
});
