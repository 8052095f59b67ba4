import { parse as parseCookies } from 'cookie';
import express, { Router, type Request, type Response } from 'express';
import { connectionUsableBy } from '../../domain/connections.ts';
import { issuerBasePath } from '../../domain/issuer.ts';
import { upstreamCallbackUrl } from '../../domain/links.ts';
import type { Connection } from '../../domain/model.ts';
import { upstreamEndpoints, type UpstreamProfile } from '../../domain/upstream.ts';
import { recordEvent } from '../../services/audit.ts';
import { readTenantSettings } from '../../services/tenant.ts';
import { UPSTREAM_LOGIN_TTL_SECONDS, UpstreamError, upstreamProfile, type UpstreamTransaction, type UpstreamTransactions } from '../../services/upstream.ts';
import { signInUpstreamUser, type UpstreamSignInRefusal } from '../../services/upstream-users.ts';
import { pageErrorHandler } from './errors.ts';
import { csrfValid, EXPIRED_SIGN_IN, renderPage, type NextLink, type NextStep, type PageContext, type ProtocolPageDeps } from './render.ts';

/** The cookie that binds a sign-in at a provider to the browser that started it (the state's HMAC). */
export const UPSTREAM_COOKIE = 'gatehouse_upstream';

/** Sent to the callback only, for as long as a sign-in at a provider may take; Lax, so that the provider's redirect carries it. */
export const upstreamCookieOptions = (issuer: string) => ({
  httpOnly: true, sameSite: 'lax' as const, secure: issuer.startsWith('https://'), path: new URL(upstreamCallbackUrl(issuer)).pathname, maxAge: UPSTREAM_LOGIN_TTL_SECONDS * 1000,
});

interface FailureWords {
  heading: string;
  message: string;
  advice: string;
  code: string;
  description?: string;
  status: number;
}

const label = (connection: Pick<Connection, 'display_name' | 'name'>) => connection.display_name || connection.name;

/** What the error page says when signing in through a provider failed: what happened, with the provider's own error code. */
function failureWords(connection: Connection, err: UpstreamError): FailureWords {
  const name = label(connection);
  if (err.kind === 'upstream_error') {
    return {
      heading: `${name} did not sign you in`,
      message: err.code === 'access_denied' ? `You cancelled, or ${name} refused the sign-in.` : `${name} answered with an error instead of signing you in.`,
      advice: `Try again. If it happens again, tell the administrator of this service the error code below: it comes from ${name}.`,
      code: err.code ?? 'upstream_error', description: err.message, status: 400,
    };
  }
  if (err.kind === 'unreachable') {
    return {
      heading: `${name} is not answering`, message: `We could not reach ${name} to sign you in.`,
      advice: 'It may be down or busy: try again in a few minutes.', code: 'upstream_unreachable', description: err.message, status: 503,
    };
  }
  return {
    heading: `${name}'s answer could not be checked`, message: `What ${name} sent back failed a security check, so you were not signed in.`,
    advice: 'Try again. If it happens again, tell the administrator of this service the error code and details below.', code: 'invalid_upstream_response', description: err.message, status: 502,
  };
}

export async function renderUpstreamFailure(res: Response, page: PageContext, connection: Connection, err: UpstreamError, retry?: string): Promise<void> {
  const { status, ...words } = failureWords(connection, err);
  const next: (NextStep | NextLink)[] = retry ? [{ href: retry, label: 'Try signing in again' }, 'home'] : ['home'];
  renderPage(res, page, 'error', words.heading, { ...words, next }, status);
}

const REFUSALS: Record<UpstreamSignInRefusal, (name: string) => Omit<FailureWords, 'status' | 'description'>> = {
  no_email: (name) => ({
    heading: `${name} did not share your email address`, message: 'This service needs an email address for your account, and none came with your sign-in.',
    advice: `Allow ${name} to share your email address, then try again; or tell the administrator of this service.`, code: 'email_required',
  }),
  blocked: () => ({ heading: 'This account is blocked', message: 'An administrator blocked this account.', advice: 'Contact the administrator of this service.', code: 'user_blocked' }),
  email_taken: (name) => ({
    heading: 'Another account uses this email address', message: `An account of ${name} with this email address exists already, for someone else at ${name}.`,
    advice: 'Tell the administrator of this service.', code: 'email_in_use',
  }),
};

export interface UpstreamCallbackDeps extends ProtocolPageDeps {
  upstream: UpstreamTransactions;
}

/**
 * `${ISSUER}/login/callback`, the redirect URI registered at upstream providers (Auth0's path). The answer is matched
 * to the sign-in by its state (server-side, used once) and to the browser by a cookie; it then completes the
 * oidc-provider interaction, whose resume step checks the browser again (its own resume cookie).
 */
export function upstreamCallbackRouter(deps: UpstreamCallbackDeps): Router {
  const { provider, stores, issuer, csrfKey, upstream } = deps;
  const { durable } = stores;
  const base = issuerBasePath(issuer);
  const router = Router();
  // A front-channel provider posts the ID token here (form_post).
  router.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 20 }));

  const page = async (): Promise<PageContext> => ({ base, tenant: await readTenantSettings(durable) });
  const problem = async (res: Response, words: Omit<FailureWords, 'status'>, status: number, next: (NextStep | NextLink)[] = ['home']) =>
    renderPage(res, await page(), 'error', words.heading, { ...words, next }, status);
  const expired = async (res: Response, why: string) => problem(res, { ...EXPIRED_SIGN_IN, code: 'invalid_state', description: why }, 400, EXPIRED_SIGN_IN.next);
  const retryLink = (transaction: UpstreamTransaction): NextLink => ({ href: `${base}/u/login?state=${encodeURIComponent(transaction.interaction)}`, label: 'Try signing in again' });

  /** The sign-in a provider's answer belongs to, and its connection as it is now. */
  async function pending(state: string) {
    const transaction = state ? await upstream.find(state) : undefined;
    const connection = transaction ? await durable.connections.get(transaction.connection_id) : undefined;
    return transaction && connection ? { transaction, connection } : undefined;
  }

  /** The person signed in at the provider: their account, then the interaction completes as a login. */
  async function finish(res: Response, transaction: UpstreamTransaction, connection: Connection, profile: UpstreamProfile) {
    const interaction = await provider.Interaction.find(transaction.interaction);
    if (!interaction) return expired(res, 'the sign-in this answer belongs to has expired');
    const app = (await deps.directory.resolve(String(interaction.params.client_id)))?.application;
    if (!app) return expired(res, 'the application of this sign-in no longer exists');
    if (!connectionUsableBy(app, connection)) {
      return problem(res, {
        heading: 'Access was not granted', message: `${app.name} may not sign people in through ${label(connection)}.`,
        advice: 'Go back to the application and choose another way to sign in.', code: 'access_denied',
        description: app.is_first_party ? 'The connection is not enabled for this application.' : 'Third-party applications sign people in through domain-level connections only.',
      }, 403, [retryLink(transaction), 'home']);
    }
    const result = await signInUpstreamUser(durable, connection, profile);
    if (!result.ok) {
      recordEvent('f', { client_id: app.client_id, connection: connection.name, description: `Refused after the provider's sign-in: ${result.reason}` });
      return problem(res, REFUSALS[result.reason](label(connection)), 403, [retryLink(transaction), 'home']);
    }
    const signedIn = { client_id: app.client_id, user_id: result.user.user_id, user_name: result.user.email, connection: connection.name };
    if (result.created) recordEvent('ss', signedIn); // a first sign-in through a provider creates the account
    recordEvent('s', { ...signedIn, details: { linked: result.linked } });
    interaction.result = { login: { accountId: result.user.user_id, amr: ['fed'], remember: true } };
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    res.clearCookie(UPSTREAM_COOKIE, { ...upstreamCookieOptions(issuer), maxAge: undefined });
    deps.logger.info({ connection: connection.name, user_id: result.user.user_id, created: result.created, linked: result.linked }, 'signed in through an upstream provider');
    return res.redirect(303, interaction.returnTo);
  }

  router.get('/callback', async (req: Request, res: Response) => {
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const found = await pending(state);
    if (!found) return expired(res, state ? 'this answer matches no sign-in in progress (it was used already, or it expired)' : 'the answer carries no state');
    const { transaction, connection } = found;
    const cookie = parseCookies(req.headers.cookie ?? '')[UPSTREAM_COOKIE];
    if (!csrfValid(csrfKey, 'upstream', state, cookie)) {
      return problem(res, {
        heading: 'This sign-in did not start in this browser', message: `The answer from ${label(connection)} does not match a sign-in started here, so we stopped.`,
        advice: 'Start again from the application, in this browser. (A sign-in started in another tab or browser, or a link someone sent you, ends here.)',
        code: 'state_mismatch',
      }, 400, [retryLink(transaction), 'home']);
    }
    if (!(await upstream.take(state))) return expired(res, 'this answer was used already');
    const retry = retryLink(transaction).href;
    if (typeof req.query.error === 'string') {
      const description = typeof req.query.error_description === 'string' ? `${req.query.error}: ${req.query.error_description}` : req.query.error;
      return renderUpstreamFailure(res, await page(), connection, new UpstreamError('upstream_error', description.slice(0, 500), req.query.error.slice(0, 100)), retry);
    }
    try {
      const profile = transaction.profile ?? await upstreamProfile(connection, new URL(`${upstreamCallbackUrl(issuer)}${new URL(req.originalUrl, 'http://callback').search}`), state, transaction);
      return await finish(res, transaction, connection, profile);
    } catch (err) {
      if (err instanceof UpstreamError) return renderUpstreamFailure(res, await page(), connection, err, retry);
      throw err;
    }
  });

  /**
   * A front-channel provider posts its answer cross-site, so the browser sends no Lax cookie with it: the ID token is
   * checked now and kept with the sign-in, and the browser is sent on to the GET callback, which it reaches with the
   * cookie, and which then completes the sign-in.
   */
  router.post('/callback', async (req: Request, res: Response) => {
    const state = typeof req.body?.state === 'string' ? req.body.state : '';
    const found = await pending(state);
    if (!found) return expired(res, state ? 'this answer matches no sign-in in progress (it was used already, or it expired)' : 'the answer carries no state');
    const { transaction, connection } = found;
    const endpoints = upstreamEndpoints(connection);
    if (endpoints.protocol !== 'oidc' || endpoints.channel !== 'front_channel' || transaction.profile) return expired(res, 'this connection does not post its answers');
    const retry = retryLink(transaction).href;
    if (typeof req.body.error === 'string') {
      await upstream.take(state);
      const description = typeof req.body.error_description === 'string' ? `${req.body.error}: ${req.body.error_description}` : req.body.error;
      return renderUpstreamFailure(res, await page(), connection, new UpstreamError('upstream_error', description.slice(0, 500), req.body.error.slice(0, 100)), retry);
    }
    try {
      const posted = new URLSearchParams(Object.entries(req.body as Record<string, string>).filter(([, value]) => typeof value === 'string'));
      const profile = await upstreamProfile(connection, new URL(upstreamCallbackUrl(issuer)), state, transaction, posted);
      await upstream.save(state, { ...transaction, profile });
      return res.redirect(303, `${base}/login/callback?state=${encodeURIComponent(state)}`);
    } catch (err) {
      if (err instanceof UpstreamError) {
        await upstream.take(state);
        return renderUpstreamFailure(res, await page(), connection, err, retry);
      }
      throw err;
    }
  });

  router.use(pageErrorHandler(durable, issuer, deps.logger));
  return router;
}
