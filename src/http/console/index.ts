import { createHash, randomBytes } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { decodeJwt } from 'jose';
import type { DispatchFunc } from 'light-my-request';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { issuerBasePath } from '../../domain/issuer.ts';
import type { KnownAgent } from '../../domain/known-agents.ts';
import type { OperatorRole } from '../../domain/model.ts';
import { CONSOLE_APPLICATION_ID } from '../../domain/operators.ts';
import { MANAGEMENT_API_SCOPES, managementAudience } from '../../domain/system-api.ts';
import { consoleCallback } from '../../services/bootstrap.ts';
import { readTenantSettings } from '../../services/tenant.ts';
import type { Stores } from '../../store/index.ts';
import { csrfToken, csrfValid, renderPage } from '../pages/render.ts';
import { apiPages } from './apis.ts';
import { applicationPages } from './applications.ts';
import { approvalPages } from './approvals.ts';
import { connectionPages } from './connections.ts';
import { joinPages } from './join.ts';
import { logPages } from './logs.ts';
import { contextOf, type ConsoleKit } from './kit.ts';
import { inProcessFetch, inProcessTokenEndpoint, managementClient, ManagementError, ok } from './management-client.ts';
import { networkAclPages } from './network-acls.ts';
import { operatorPages } from './operators.ts';
import { ConsoleSessions } from './session.ts';
import { settingsPages } from './settings.ts';
import { consentPages, userPages } from './users.ts';

export interface ConsoleDeps {
  provider: Provider;
  stores: Stores;
  issuer: string;
  /** The Management API router, which the console calls in this process with the operator's token. */
  management: Router;
  /** Signs the console's form tokens (the first cookie key). */
  csrfKey: string;
  logger: Logger;
  idleTimeoutMinutes: number;
  /** The known agents (config/known-agents.json and the operator's own), for what the console calls verified. */
  knownAgents: readonly KnownAgent[];
}

/** Where a page may send an operator back to after signing in: a console path of this issuer, nothing else. */
const consolePath = (root: string, value: unknown) =>
  typeof value === 'string' && value.startsWith(`${root}/`) && !value.startsWith('//') && !/[\\\s]/.test(value) ? value : `${root}/applications`;

/**
 * The operators' console at /console: server-rendered pages that act as a backend-for-frontend. An operator signs in
 * through Gatehouse's own sign-in (authorization code with PKCE, in the operators' connection); the console keeps
 * their Management API token in its session and makes every change through the Management API, in this process,
 * with a client generated from its OpenAPI document. Rules are therefore enforced once, and the Management API's
 * errors are shown beside the field they name.
 */
export function consoleRouter(deps: ConsoleDeps): Router {
  const { provider, stores, issuer, csrfKey } = deps;
  const base = issuerBasePath(issuer);
  const root = `${base}/console`;
  const sessions = new ConsoleSessions(stores, { cookiePath: root, secure: new URL(issuer).protocol === 'https:', idleTimeoutMinutes: deps.idleTimeoutMinutes });
  const callManagement = inProcessFetch(deps.management);
  const kit: ConsoleKit = { base, root, tenant: () => readTenantSettings(stores.durable), knownAgents: deps.knownAgents };
  const tokenEndpoint = inProcessTokenEndpoint(provider.callback() as DispatchFunc);
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 400 }));

  const plainPage = async (res: Response, title: string, data: Record<string, unknown>, status = 200) =>
    renderPage(res, { base, tenant: await kit.tenant() }, 'console-message', title, { heading: title, ...data }, status);

  // ---- signing in and out -------------------------------------------------------------------------------------

  router.get('/login', async (req, res) => {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    await sessions.start(res, { kind: 'pending', state, verifier, returnTo: consolePath(root, req.query.return_to) });
    const query = new URLSearchParams({
      client_id: CONSOLE_APPLICATION_ID, response_type: 'code', redirect_uri: consoleCallback(issuer), state,
      scope: ['openid', ...MANAGEMENT_API_SCOPES].join(' '), audience: managementAudience(issuer),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      // Every console session starts with a password: an earlier sign-in in this browser does not count.
      prompt: 'login',
    });
    res.redirect(303, `${base}/authorize?${query}`);
  });

  router.get('/callback', async (req, res) => {
    const session = await sessions.read(req);
    const pending = session?.record.kind === 'pending' ? session.record : undefined;
    if (!pending || req.query.state !== pending.state) {
      return plainPage(res, 'This sign-in has expired', { message: 'It took too long, or was started in another tab.', action: { href: `${root}/login`, label: 'Sign in to the console' } }, 400);
    }
    if (typeof req.query.error === 'string' || typeof req.query.code !== 'string') {
      return plainPage(res, 'Signing in did not work', {
        message: String(req.query.error_description ?? req.query.error ?? 'No authorization code was returned.'),
        action: { href: `${root}/login`, label: 'Try again' },
      }, 400);
    }
    // The code is exchanged in this process (a public client with PKCE).
    const { status, body: tokens } = await tokenEndpoint({
      grant_type: 'authorization_code', code: req.query.code, redirect_uri: consoleCallback(issuer), client_id: CONSOLE_APPLICATION_ID, code_verifier: pending.verifier,
    });
    if (status !== 200 || !tokens.access_token) {
      return plainPage(res, 'Signing in did not work', { message: tokens.error_description ?? 'The token could not be obtained.', action: { href: `${root}/login`, label: 'Try again' } }, 400);
    }
    const claims = decodeJwt(tokens.access_token);
    const api = managementClient(callManagement, tokens.access_token);
    let operator;
    try {
      operator = await ok(api.GET('/api/v2/operators/{id}', { params: { path: { id: String(claims.sub) } } }));
    } catch (err) {
      if (!(err instanceof ManagementError)) throw err;
      return plainPage(res, 'You are not an operator', { message: err.failure.message, action: { href: `${root}/login`, label: 'Sign in as someone else' } }, 403);
    }
    await sessions.end(req, res);
    await sessions.start(res, {
      kind: 'operator', token: tokens.access_token, tokenExpiresAt: Number(claims.exp), userId: operator.user_id, email: operator.email,
      role: operator.role as OperatorRole, scopes: String(claims.scope ?? '').split(' ').filter(Boolean),
    });
    return res.redirect(303, pending.returnTo);
  });

  joinPages(router, kit, stores);

  // ---- every other page: a signed-in operator ------------------------------------------------------------------

  router.use(async (req, res, next) => {
    const session = await sessions.read(req);
    if (session?.record.kind !== 'operator') {
      if (req.method === 'GET') return res.redirect(303, `${root}/login?${new URLSearchParams({ return_to: `${base}${req.originalUrl.slice(base.length)}` })}`);
      return plainPage(res, 'Your console session has ended', {
        message: `After ${deps.idleTimeoutMinutes} minutes without activity, or when its access token expires, a console session ends. What you sent was not saved.`,
        action: { href: `${root}/login`, label: 'Sign in again' },
      }, 401);
    }
    const csrf = csrfToken(csrfKey, 'console', session.id);
    if (req.method === 'POST' && !csrfValid(csrfKey, 'console', session.id, req.body?.csrf)) {
      return plainPage(res, 'This form has expired', { message: 'Go back, reload the page and try again.', action: { href: `${root}/applications`, label: 'Back to the console' } }, 403);
    }
    await sessions.save(res, session.id, session.record); // the idle timeout starts again
    req.console = { operator: session.record, api: managementClient(callManagement, session.record.token), csrf };
    res.set('Cache-Control', 'no-store');
    return next();
  });

  router.post('/logout', async (req, res) => {
    await sessions.end(req, res);
    return plainPage(res, 'You are signed out of the console', { message: 'Your console session has ended.', action: { href: `${root}/login`, label: 'Sign in again' } });
  });

  router.get(['/', ''], (_req, res) => res.redirect(303, `${root}/applications`));
  applicationPages(router, kit);
  approvalPages(router, kit);
  apiPages(router, kit, issuer, tokenEndpoint);
  connectionPages(router, kit);
  userPages(router, kit);
  consentPages(router, kit);
  logPages(router, kit);
  settingsPages(router, kit, issuer);
  networkAclPages(router, kit);
  operatorPages(router, kit);

  /**
   * A Management API refusal that no form shows (a 403 for a viewer, a 404 for something deleted meanwhile) becomes a
   * page in plain words; a refused token (the operator was removed) ends the session; anything else unexpected is
   * logged and shown as a plain 500 page.
   */
  router.use((async (err, req: Request, res: Response, next) => {
    if (res.headersSent) return next(err);
    const back = { href: `${root}/applications`, label: 'Back to the console' };
    if (err instanceof ManagementError && err.failure.statusCode === 401) {
      await sessions.end(req, res);
      return plainPage(res, 'Your console session has ended', { message: err.failure.message, action: { href: `${root}/login`, label: 'Sign in again' } }, 401);
    }
    if (err instanceof ManagementError) {
      const { statusCode, message } = err.failure;
      const title = statusCode === 403 ? 'Your role does not allow this' : statusCode === 404 ? 'Not found' : 'The change was refused';
      return plainPage(res, title, { message, action: back, signedIn: Boolean(req.console) }, statusCode);
    }
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) deps.logger.error({ err, path: req.path, operator: req.console && contextOf(req).operator.userId }, 'console page failed');
    return plainPage(res, status === 500 ? 'Something went wrong' : 'This request could not be read', { message: 'Try again in a moment.', action: back }, status);
  }) as ErrorRequestHandler);
  return router;
}
