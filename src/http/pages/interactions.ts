import express, { Router, type Request, type Response } from 'express';
import Provider, { errors } from 'oidc-provider';
import { isThirdParty, redirectDestination } from '../../domain/applications.ts';
import { clientIdentity, type KnownAgent } from '../../domain/known-agents.ts';
import { isSelfRegistered } from '../../domain/trust.ts';
import { authorizationRequest } from '../../domain/authorization.ts';
import type { ConsentRequest } from '../../domain/consent.ts';
import type { Application, Connection, ResourceServer } from '../../domain/model.ts';
import { mayIssueRefreshToken } from '../../domain/tokens.ts';
import { decideAccess, findApiByIdentifier, targetApis } from '../../services/access.ts';
import { recordEvent } from '../../services/audit.ts';
import { linkConsent, recordConsent, saveProtocolGrant } from '../../services/consent.ts';
import { HOST_CONNECTION, linkHostUser, type HostUser } from '../../services/host-users.ts';
import { usableConnections, type LoginLockout, type SignIn } from '../../services/sign-in.ts';
import type { AccountService } from '../../services/accounts.ts';
import { MailUnavailable } from '../../services/mail.ts';
import { newUpstreamSecrets, upstreamAuthorizationUrl, UpstreamError, type UpstreamTransactions } from '../../services/upstream.ts';
import { signupOpen } from '../../domain/connection-rules.ts';
import { describeLifetime, LINK_LIFETIME_SECONDS } from '../../domain/email.ts';
import { upstreamCallbackUrl } from '../../domain/links.ts';
import { passwordPolicyOf, policyRequirements } from '../../domain/password-policy.ts';
import { connectionForEmail, isUpstream } from '../../domain/upstream.ts';
import { renderUpstreamFailure, UPSTREAM_COOKIE, upstreamCookieOptions } from './upstream-callback.ts';
import { readTenantSettings } from '../../services/tenant.ts';
import { pageErrorHandler } from './errors.ts';
import { csrfToken, csrfValid, DENIED_BY_USER, httpsUrlOrUndefined, renderPage, themeCss, VIEWS_DIR, type PageContext, type ProtocolPageDeps } from './render.ts';
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

export interface InteractionDeps extends ProtocolPageDeps {
  /** Agents whose client id URLs are known (consent says "Verified" for those alone). */
  knownAgents: readonly KnownAgent[];
  signIn: SignIn;
  /** The client's address (src/http/client-address.ts), which sign-in failure limits count by. */
  clientAddress: (req: Request) => string;
  authenticate?: HostAuthentication;
  /** Sign-up and password reset (src/services/accounts.ts). */
  accounts: AccountService;
  /** The per-address limit that sign-ups and reset requests count toward. */
  lockout: LoginLockout;
  /** Sign-ins in progress at upstream providers. */
  upstream: UpstreamTransactions;
}

/** What a form accepts as an email address before asking the store (the browser checks the same with type=email). */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/** How the consent page names what each identity scope releases (`openid` alone releases nothing worth naming). */
const IDENTITY_WORDS: Record<string, string> = { profile: 'name', email: 'email address' };

/**
 * What a page says about who owns an application (registered itself = dynamic client registration or its own document,
 * unless its document is a known agent's: then consent says whose).
 */
function ownerLine(app: Application, verified = false): string {
  if (!isThirdParty(app)) return `An application of this service`;
  return isSelfRegistered(app) && !verified
    ? 'A third-party application that registered itself. It is not made or checked by this service.'
    : 'A third-party application, not made by this service.';
}

/** Where the person goes after consent: a host, or their own computer for a native application's loopback callback. */
const destination = (redirectUri: string) => {
  const { host, loopback } = redirectDestination(redirectUri);
  return loopback ? `${host}, an application on this computer` : host;
};

export function interactionRouter(deps: InteractionDeps): Router {
  const { provider, stores, issuer, csrfKey } = deps;
  const { durable } = stores;
  const base = issuerBasePath(issuer);
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }));
  router.use('/assets', express.static(`${VIEWS_DIR}assets`, { maxAge: '1h', index: false }));

  const page = async (): Promise<PageContext> => ({ base, tenant: await readTenantSettings(durable) });
  const applicationFor = async (details: Details) => {
    const entry = await deps.directory.resolve(String(details.params.client_id));
    if (!entry) throw new errors.InvalidClient('the application no longer exists');
    return entry.application;
  };

  router.get('/theme.css', async (_req, res) => {
    res.type('css').set('Cache-Control', 'no-cache').send(themeCss(await readTenantSettings(durable)));
  });

  // ---- login ----------------------------------------------------------------------------------------------------

  /** The sign-in in progress, for links that leave the login page and come back to it. */
  const loginUrl = (details: Details) => `${base}/u/login?state=${encodeURIComponent(details.uid)}`;
  const pageUrl = (path: string, details: Details) => `${base}/u/${path}?state=${encodeURIComponent(details.uid)}`;

  /** The connections this application may use, split into database ones (a password) and upstream providers. */
  async function connectionsFor(app: Application) {
    const usable = await usableConnections(durable, app);
    return { usable, database: usable.filter((c) => !isUpstream(c)), upstream: usable.filter((c) => isUpstream(c)) };
  }

  async function showLogin(req: Request, res: Response, details: Details, error?: { message: string; email: string; connection: string }, status = 200) {
    const app = await applicationFor(details);
    const { usable, database, upstream } = await connectionsFor(app);
    if (!usable.length) {
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
      password: database.length ? { connections: database } : undefined,
      providers: upstream.map((c) => ({ name: c.name, label: c.display_name || c.name })),
      connection: database.some((c) => c.name === requested) ? requested : database[0]?.name,
      realmHint: upstream.some((c) => c.options?.domain_aliases?.length),
      signupUrl: database.some(signupOpen) ? pageUrl('signup', details) : undefined,
      forgotUrl: database.length ? pageUrl('reset-password/request', details) : undefined,
      email: error?.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
      error: error?.message,
      csrf: csrfToken(csrfKey, 'login', details.uid),
      action: loginUrl(details),
    }, status);
  }

  /**
   * Sends the person to their provider: state, nonce and PKCE kept server-side for the callback, and the state bound
   * to this browser by a cookie that only the callback receives.
   */
  async function startUpstream(res: Response, details: Details, connection: Connection, loginHint?: string) {
    const { state, code_verifier, nonce } = newUpstreamSecrets();
    let url: URL;
    try {
      url = await upstreamAuthorizationUrl(connection, upstreamCallbackUrl(issuer), state, { code_verifier, nonce }, loginHint);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      return renderUpstreamFailure(res, await page(), connection, err, loginUrl(details));
    }
    await deps.upstream.save(state, { connection_id: connection.id, interaction: details.uid, code_verifier, nonce });
    res.cookie(UPSTREAM_COOKIE, csrfToken(csrfKey, 'upstream', state), upstreamCookieOptions(issuer));
    return res.redirect(303, url.href);
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
    recordEvent('s', { client_id: app.client_id, user_id: user.user_id, user_name: user.email, connection: connectionName, details: { signed_in_by: 'host application' } });
    return provider.interactionFinished(req, res, { login: { accountId: user.user_id, remember: true } }, { mergeWithLastSubmission: false });
  }

  router.get('/login', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') return res.redirect(303, `${base}/u/consent?state=${encodeURIComponent(details.uid)}`);
    if (deps.authenticate) return hostLogin(req, res, details, deps.authenticate);
    // Auth0's `connection` parameter naming a provider, or a login hint in one of its domains: straight there.
    const { upstream } = await connectionsFor(await applicationFor(details));
    const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
    const direct = upstream.find((c) => c.name === details.params.connection) ?? (hint ? connectionForEmail(upstream, hint) : undefined);
    if (direct) return startUpstream(res, details, direct, hint);
    return showLogin(req, res, details);
  });

  /** A login form that is no longer valid: another tab finished the sign-in, or it expired. */
  async function loginInteraction(req: Request, res: Response, purpose: string) {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login' || !csrfValid(csrfKey, purpose, details.uid, req.body?.csrf)) {
      throw new errors.SessionNotFound('this sign-in form is no longer valid');
    }
    return details;
  }

  router.post('/login', async (req, res) => {
    if (deps.authenticate) throw new errors.InvalidRequest('sign-in happens in the host application');
    const details = await loginInteraction(req, res, 'login');
    const app = await applicationFor(details);
    const email = String(req.body?.email ?? '').slice(0, 320);
    const connection = String(req.body?.connection ?? '');
    const password = String(req.body?.password ?? '');
    const { upstream } = await connectionsFor(app);
    const chosenProvider = upstream.find((c) => c.name === connection) ?? (email ? connectionForEmail(upstream, email) : undefined);
    if (chosenProvider) return startUpstream(res, details, chosenProvider, email || undefined);
    if (!password) return showLogin(req, res, details, { message: 'Enter your password.', email, connection }, 400);
    const result = await deps.signIn({ app, email, password, connection, address: deps.clientAddress(req) });
    if (!result.ok) {
      const message = result.reason === 'too_many_attempts'
        ? `Too many failed sign-in attempts. Try again in ${Math.ceil(result.retryAfterSeconds / 60)} minute(s).`
        : 'Wrong email or password.';
      return showLogin(req, res, details, { message, email, connection }, result.reason === 'too_many_attempts' ? 429 : 401);
    }
    const { user } = result;
    return provider.interactionFinished(req, res, { login: { accountId: user.user_id, amr: ['pwd'], remember: true } }, { mergeWithLastSubmission: false });
  });

  // ---- sign-up and forgotten passwords (database connections) ------------------------------------------------

  /** Sign-up and reset requests count toward the per-address limit, like failed sign-ins: no mass account making or mail flood. */
  async function overAddressLimit(req: Request): Promise<number> {
    return deps.lockout.address.countAttempt(deps.clientAddress(req));
  }

  const tooManyAttempts = (seconds: number) => `Too many attempts from your network. Try again in ${Math.ceil(seconds / 60)} minute(s).`;

  async function showSignup(req: Request, res: Response, details: Details, form: { email?: string; connection?: string; error?: string; problems?: string[]; emailError?: boolean } = {}, status = 200) {
    const app = await applicationFor(details);
    const open = (await connectionsFor(app)).database.filter(signupOpen);
    if (!open.length) {
      return renderPage(res, await page(), 'error', 'Sign-up unavailable', {
        heading: 'You cannot create an account here', message: `${app.name} does not take new accounts.`,
        advice: 'Sign in with an account you have, or ask the administrator of this service for one.',
        next: [{ href: loginUrl(details), label: 'Back to sign in' }, 'home'], code: 'signup_disabled',
      }, 403);
    }
    const connection = open.find((c) => c.name === form.connection) ?? open[0] as Connection;
    const policy = passwordPolicyOf(connection.options);
    return renderPage(res, await page(), 'signup', 'Sign up', {
      app: { name: app.name }, connections: open, connection: connection.name, email: form.email ?? '', error: form.error, emailError: form.emailError,
      requirements: policyRequirements(policy).map((r) => r.text), problems: form.problems ?? [], minLength: policy.minLength,
      csrf: csrfToken(csrfKey, 'signup', details.uid), action: pageUrl('signup', details), loginUrl: loginUrl(details),
    }, status);
  }

  router.get('/signup', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') return res.redirect(303, `${base}/u/consent?state=${encodeURIComponent(details.uid)}`);
    return showSignup(req, res, details);
  });

  router.post('/signup', async (req, res) => {
    const details = await loginInteraction(req, res, 'signup');
    const app = await applicationFor(details);
    const form = { email: String(req.body?.email ?? '').slice(0, 320), connection: String(req.body?.connection ?? '') };
    const connection = (await connectionsFor(app)).database.filter(signupOpen).find((c) => c.name === form.connection);
    if (!connection) return showSignup(req, res, details, { ...form, error: 'Choose an account type that takes new accounts.' }, 400);
    if (!EMAIL_SHAPE.test(form.email)) return showSignup(req, res, details, { ...form, error: 'Enter an email address, such as jo@example.com.', emailError: true }, 400);
    const wait = await overAddressLimit(req);
    if (wait) return showSignup(req, res, details, { ...form, error: tooManyAttempts(wait) }, 429);
    const result = await deps.accounts.signUp(connection, { email: form.email, password: String(req.body?.password ?? '') }, app);
    if (!result.ok) {
      if (result.reason === 'weak_password') return showSignup(req, res, details, { ...form, error: 'Choose a stronger password.', problems: result.problems }, 400);
      if (result.reason === 'exists') return showSignup(req, res, details, { ...form, error: 'An account with this email already exists. Sign in, or use "Forgot password?" on the sign-in page.', emailError: true }, 409);
      return showSignup(req, res, details, { ...form, error: 'This account type does not take new accounts.' }, 403);
    }
    return provider.interactionFinished(req, res, { login: { accountId: result.user.user_id, amr: ['pwd'], remember: true } }, { mergeWithLastSubmission: false });
  });

  async function showForgot(req: Request, res: Response, details: Details, form: { email?: string; connection?: string } = {}) {
    const app = await applicationFor(details);
    const { database } = await connectionsFor(app);
    if (!database.length) throw new errors.InvalidRequest('this application signs people in without passwords');
    return renderPage(res, await page(), 'forgot-password', 'Forgot password', {
      connections: database, connection: database.some((c) => c.name === form.connection) ? form.connection : database[0]?.name, email: form.email ?? '',
      csrf: csrfToken(csrfKey, 'reset-request', details.uid), action: pageUrl('reset-password/request', details), loginUrl: loginUrl(details),
    });
  }

  router.get('/reset-password/request', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') return res.redirect(303, `${base}/u/consent?state=${encodeURIComponent(details.uid)}`);
    return showForgot(req, res, details, { email: typeof details.params.login_hint === 'string' ? details.params.login_hint : '' });
  });

  router.post('/reset-password/request', async (req, res) => {
    const details = await loginInteraction(req, res, 'reset-request');
    const app = await applicationFor(details);
    const email = String(req.body?.email ?? '').slice(0, 320);
    const connection = (await connectionsFor(app)).database.find((c) => c.name === req.body?.connection);
    const back = { href: loginUrl(details), label: 'Back to sign in' };
    if (!connection || !EMAIL_SHAPE.test(email)) return showForgot(req, res, details, { email, connection: connection?.name });
    const wait = await overAddressLimit(req);
    if (wait) {
      return renderPage(res, await page(), 'notice', 'Try again later', { heading: 'Too many attempts', paragraphs: [tooManyAttempts(wait)], next: [back] }, 429);
    }
    try {
      await deps.accounts.requestPasswordReset(connection, email, app.client_id);
    } catch (err) {
      if (!(err instanceof MailUnavailable)) throw err;
      return renderPage(res, await page(), 'notice', 'Email not sent', {
        heading: 'We could not send the email', paragraphs: ['Our email service did not accept it just now. Try again in a few minutes.'], next: [back],
      }, 503);
    }
    // The same answer whether or not the account exists: the page tells nobody who has an account.
    return renderPage(res, await page(), 'notice', 'Check your email', {
      heading: 'Check your email',
      paragraphs: [`If ${email} has an account here, we sent it a link to choose a new password. The link works once, for ${describeLifetime(LINK_LIFETIME_SECONDS)}.`, 'No email? Check your spam folder, or try again.'],
      next: [back],
    });
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
    const identity = clientIdentity(app, deps.knownAgents);
    return renderPage(res, await page(), 'consent', `Allow ${app.name}?`, {
      app: { name: app.name, logo: httpsUrlOrUndefined(app.logo_uri), initial: app.name.trim().charAt(0).toUpperCase() || '?', owner: ownerLine(app, Boolean(identity.verified)) },
      verifiedVendor: identity.verified?.vendor,
      imitates: identity.imitates,
      documentHost: identity.documentHost,
      user: user?.email ?? 'you',
      apis: apis.map((api) => ({
        name: api.name,
        scopes: (request.resourceScopes[api.identifier] ?? []).map((value) => ({ value, description: api.scopes.find((s) => s.value === value)?.description || value })),
      })).filter((api) => api.scopes.length),
      identity: request.oidcScopes.map((s) => IDENTITY_WORDS[s]).filter(Boolean),
      offline,
      redirectHost: destination(redirectUri),
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
    const accountId = details.session?.accountId as string;
    const subject = { userId: accountId, application: app };
    const { request } = await consentRequest(details, app);
    if (req.body?.action !== 'accept') {
      recordConsent('consent_denied', issuer, subject, request);
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: DENIED_BY_USER }, { mergeWithLastSubmission: true });
    }
    const grantId = await saveProtocolGrant(provider, subject, request, details.grantId);
    if (isThirdParty(app)) await linkConsent(stores, issuer, subject, request, grantId);
    recordConsent('consent_given', issuer, subject, request);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });

  router.use(pageErrorHandler(durable, issuer, deps.logger));
  return router;
}
