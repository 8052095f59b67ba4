import express, { Router, type Request, type Response } from 'express';
import Provider, { errors } from 'oidc-provider';
import type { Logger } from 'pino';
import { isThirdParty } from '../../domain/applications.ts';
import { authorizationRequest } from '../../domain/authorization.ts';
import type { ConsentRequest } from '../../domain/consent.ts';
import type { Application, ResourceServer } from '../../domain/model.ts';
import { mayIssueRefreshToken } from '../../domain/tokens.ts';
import { decideAccess, findApiByIdentifier, targetApis } from '../../services/access.ts';
import { linkConsent, saveProtocolGrant } from '../../services/consent.ts';
import { HOST_CONNECTION, linkHostUser, type HostUser } from '../../services/host-users.ts';
import { usableConnections, type SignIn } from '../../services/sign-in.ts';
import { readTenantSettings } from '../../services/tenant.ts';
import type { Stores } from '../../store/index.ts';
import { pageErrorHandler } from './errors.ts';
import { csrfToken, csrfValid, DENIED_BY_USER, httpsUrlOrUndefined, renderPage, themeCss, VIEWS_DIR, type PageContext } from './render.ts';
import { issuerBasePath, issuerUrl } from '../../domain/issuer.ts';

/** Middleware mode: the host application's own sign-in decides who the user is, instead of Gatehouse's login page. */
export interface HostAuthentication {
  /** Who is signed in to the host for this request, if anyone. */
  user(req: Request, res: Response): Promise<HostUser | undefined> | HostUser | undefined;
  /** Where to send someone who is not signed in; the host sends them back to `returnTo` afterwards. */
  loginUrl(returnTo: string): string;
  /** The connection host users belong to (default `host-users`, domain-level). */
  connection?: string;
}

export interface InteractionDeps {
  provider: Provider;
  stores: Stores;
  issuer: string;
  /** Signs CSRF tokens (the first cookie key). */
  csrfKey: string;
  logger: Logger;
  signIn: SignIn;
  /** The client's address (src/http/client-address.ts), which sign-in failure limits count by. */
  clientAddress: (req: Request) => string;
  authenticate?: HostAuthentication;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/** How the consent page names what each identity scope releases (`openid` alone releases nothing worth naming). */
const IDENTITY_WORDS: Record<string, string> = { profile: 'name', email: 'email address' };

/** What a page says about who owns an application (registered itself = dynamic client registration). */
function ownerLine(app: Application): string {
  if (!isThirdParty(app)) return `An application of this service`;
  return app.registration_type === 'dynamic'
    ? 'A third-party application that registered itself. It is not made or checked by this service.'
    : 'A third-party application, not made by this service.';
}

export function interactionRouter(deps: InteractionDeps): Router {
  const { provider, stores, issuer, csrfKey } = deps;
  const { durable } = stores;
  const base = issuerBasePath(issuer);
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }));
  router.use('/assets', express.static(`${VIEWS_DIR}assets`, { maxAge: '1h', index: false }));

  const page = async (): Promise<PageContext> => ({ base, tenant: await readTenantSettings(durable) });
  const applicationFor = async (details: Details) => {
    const app = await durable.applications.get(String(details.params.client_id));
    if (!app) throw new errors.InvalidClient('the application no longer exists');
    return app;
  };

  router.get('/theme.css', async (_req, res) => {
    res.type('css').set('Cache-Control', 'no-cache').send(themeCss(await readTenantSettings(durable)));
  });

  // ---- login ---------------------------------------------------------------------------------------------------

  async function showLogin(req: Request, res: Response, details: Details, error?: { message: string; email: string; connection: string }, status = 200) {
    const app = await applicationFor(details);
    const connections = await usableConnections(durable, app);
    if (!connections.length) {
      return renderPage(res, await page(), 'error', 'Sign-in unavailable', {
        heading: 'You cannot sign in to this application yet',
        message: `${app.name} has no way for you to sign in.`,
        advice: 'Tell the administrator of this service: sign-in has not been set up for this application yet.',
        next: ['home'],
        code: 'no_connection',
        description: isThirdParty(app) ? 'Third-party applications sign people in through domain-level connections only, and none is enabled.' : 'No connection is enabled for this application.',
      }, 400);
    }
    const requested = String(error?.connection ?? details.params.connection ?? '');
    renderPage(res, await page(), 'login', 'Sign in', {
      app: { name: app.name },
      connections,
      connection: connections.some((c) => c.name === requested) ? requested : connections[0]?.name,
      email: error?.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
      error: error?.message,
      csrf: csrfToken(csrfKey, 'login', details.uid),
      action: `${base}/u/login?state=${encodeURIComponent(details.uid)}`,
    }, status);
  }

  /** Middleware mode: sign in whoever the host says is signed in, or send them to the host's login first. */
  async function hostLogin(req: Request, res: Response, details: Details, host: HostAuthentication) {
    const hostUser = await host.user(req, res);
    if (!hostUser) return res.redirect(303, host.loginUrl(`${issuerUrl(issuer, 'u/login')}?state=${encodeURIComponent(details.uid)}`));
    const connectionName = host.connection ?? HOST_CONNECTION;
    const app = await applicationFor(details);
    const connection = (await usableConnections(durable, app)).find((c) => c.name === connectionName);
    if (!connection) throw new errors.AccessDenied(`${app.name} may not use the ${connectionName} connection`);
    const user = await linkHostUser(durable, connectionName, hostUser);
    return provider.interactionFinished(req, res, { login: { accountId: user.user_id, remember: true } }, { mergeWithLastSubmission: false });
  }

  router.get('/login', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') return res.redirect(303, `${base}/u/consent?state=${encodeURIComponent(details.uid)}`);
    if (deps.authenticate) return hostLogin(req, res, details, deps.authenticate);
    return showLogin(req, res, details);
  });

  router.post('/login', async (req, res) => {
    if (deps.authenticate) throw new errors.InvalidRequest('sign-in happens in the host application');
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login' || !csrfValid(csrfKey, 'login', details.uid, req.body?.csrf)) {
      throw new errors.SessionNotFound('this sign-in form is no longer valid'); // another tab finished it, or it expired
    }
    const app = await applicationFor(details);
    const email = String(req.body?.email ?? '').slice(0, 320);
    const connection = String(req.body?.connection ?? '');
    const result = await deps.signIn({ app, email, password: String(req.body?.password ?? ''), connection, address: deps.clientAddress(req) });
    if (!result.ok) {
      const message = result.reason === 'too_many_attempts'
        ? `Too many failed sign-in attempts. Try again in ${Math.ceil(result.retryAfterSeconds / 60)} minute(s).`
        : 'Wrong email or password.';
      return showLogin(req, res, details, { message, email, connection }, result.reason === 'too_many_attempts' ? 429 : 401);
    }
    const { user } = result;
    return provider.interactionFinished(req, res, { login: { accountId: user.user_id, amr: ['pwd'], remember: true } }, { mergeWithLastSubmission: false });
  });

  // ---- consent -------------------------------------------------------------------------------------------------
  /**
   * The full request, asked anew of the decision function (the client grants may have changed since /authorize):
   * per API the requested scopes it allows, and the identity scopes.
   */
  async function consentRequest(details: Details, app: Application): Promise<{ request: ConsentRequest; apis: ResourceServer[] }> {
    const apis: ResourceServer[] = [];
    const allowed = new Map<string, ReadonlySet<string>>();
    for (const identifier of await targetApis(durable, details.params)) {
      const api = await findApiByIdentifier(durable, identifier);
      if (!api) continue;
      const decision = await decideAccess(durable, app, api, 'user', details.session?.accountId);
      if (!decision.allowed) continue;
      apis.push(api);
      allowed.set(identifier, new Set(decision.maxScopes));
    }
    return { request: authorizationRequest(app, String(details.params.scope ?? '').split(' '), allowed), apis };
  }

  router.get('/consent', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'consent') return res.redirect(303, `${base}/u/login?state=${encodeURIComponent(details.uid)}`);
    const app = await applicationFor(details);
    const { request, apis } = await consentRequest(details, app);
    const user = details.session?.accountId ? await durable.users.get(details.session.accountId) : undefined;
    const redirectUri = String(details.params.redirect_uri ?? '');
    const offline = mayIssueRefreshToken(app, new Set(request.oidcScopes), apis);
    return renderPage(res, await page(), 'consent', `Allow ${app.name}?`, {
      app: { name: app.name, logo: httpsUrlOrUndefined(app.logo_uri), initial: app.name.trim().charAt(0).toUpperCase() || '?', owner: ownerLine(app) },
      user: user?.email ?? 'you',
      apis: apis.map((api) => ({
        name: api.name,
        scopes: (request.resourceScopes[api.identifier] ?? []).map((value) => ({ value, description: api.scopes.find((s) => s.value === value)?.description || value })),
      })).filter((api) => api.scopes.length),
      identity: request.oidcScopes.map((s) => IDENTITY_WORDS[s]).filter(Boolean),
      offline,
      redirectHost: URL.canParse(redirectUri) ? new URL(redirectUri).host || redirectUri : redirectUri,
      csrf: csrfToken(csrfKey, 'consent', details.uid),
      action: `${base}/u/consent?state=${encodeURIComponent(details.uid)}`,
    });
  });

  router.post('/consent', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'consent' || !csrfValid(csrfKey, 'consent', details.uid, req.body?.csrf)) {
      throw new errors.SessionNotFound('this consent form is no longer valid');
    }
    const app = await applicationFor(details);
    if (req.body?.action !== 'accept') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: DENIED_BY_USER }, { mergeWithLastSubmission: true });
    }
    const accountId = details.session?.accountId as string;
    const subject = { userId: accountId, clientId: app.client_id };
    const { request } = await consentRequest(details, app);
    const grantId = await saveProtocolGrant(provider, subject, request, details.grantId);
    if (isThirdParty(app)) await linkConsent(stores, issuer, subject, request, grantId);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });

  router.use(pageErrorHandler(durable, issuer, deps.logger));
  return router;
}
