import { randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { isThirdParty } from '../../domain/applications.ts';
import type { Application, ResourceServer, UserGrant } from '../../domain/model.ts';
import { findApiByIdentifier } from '../../services/access.ts';
import { lastUse } from '../../domain/connection-activity.ts';
import { ACCOUNT_APPLICATION_ID, accountCallback } from '../../services/bootstrap.ts';
import { activityOfGrants } from '../../services/connection-activity.ts';
import { revokeUserGrant } from '../../services/grants.ts';
import { readTenantSettings } from '../../services/tenant.ts';
import { pageErrorHandler } from './errors.ts';
import { csrfToken, csrfValid, errorPageData, httpsUrlOrUndefined, renderPage, type ProtocolPageDeps } from './render.ts';
import { issuerBasePath } from '../../domain/issuer.ts';

export type AppsPageDeps = ProtocolPageDeps;

interface AppAccess {
  app: Application;
  grants: UserGrant[];
}

const DAY = 86_400_000;

/** When this user's connection to an application was last used, in words ("today", "3 days ago", "on 2026-01-31"). */
export function lastUsedWords(at: string, now = Date.now()): string {
  const days = Math.floor(now / DAY) - Math.floor(Date.parse(at) / DAY);
  if (days <= 0) return 'today';
  if (days === 1) return 'yesterday';
  return days < 30 ? `${days} days ago` : `on ${at.slice(0, 10)}`;
}

/**
 * /u/apps: the signed-in user's connected applications, what each may do, and a button that removes its access
 * (consent, refresh tokens and codes go at once). Signing in goes through Gatehouse's own account application.
 */
export function appsRouter(deps: AppsPageDeps): Router {
  const { provider, stores, issuer, csrfKey } = deps;
  const { durable } = stores;
  const base = issuerBasePath(issuer);
  const router = Router();

  async function signedInSession(req: Request, res: Response) {
    const session = await provider.Session.get(provider.createContext(req, res));
    const user = session.accountId ? await durable.users.get(session.accountId) : undefined;
    return user && !user.blocked ? { session, user } : undefined;
  }

  /** Starts a sign-in for the account application; the session it creates is all this page needs. */
  function signInFirst(res: Response) {
    const query = new URLSearchParams({
      client_id: ACCOUNT_APPLICATION_ID, response_type: 'code', redirect_uri: accountCallback(issuer), scope: 'openid',
      code_challenge: randomBytes(32).toString('base64url'), code_challenge_method: 'S256', state: randomBytes(8).toString('hex'),
    });
    res.redirect(303, `${base}/authorize?${query}`);
  }

  async function connectedApps(userId: string): Promise<AppAccess[]> {
    const byClient = new Map<string, UserGrant[]>();
    for (const grant of await durable.userGrants.find({ user_id: userId })) byClient.set(grant.clientID, [...(byClient.get(grant.clientID) ?? []), grant]);
    const result: AppAccess[] = [];
    for (const [clientId, grants] of byClient) {
      const app = await deps.directory.byId(clientId);
      if (app) result.push({ app, grants });
    }
    return result.sort((a, b) => a.app.name.localeCompare(b.app.name));
  }

  async function describeAccess(access: AppAccess) {
    const apis: { name: string; scopes: string[] }[] = [];
    let offline = false;
    for (const grant of access.grants) {
      offline ||= grant.scope.includes('offline_access');
      const api: ResourceServer | undefined = await findApiByIdentifier(durable, grant.audience);
      const scopes = grant.scope.filter((s) => api?.scopes.some((known) => known.value === s)).map((s) => api?.scopes.find((k) => k.value === s)?.description || s);
      if (api && scopes.length) apis.push({ name: api.name, scopes });
    }
    const since = access.grants.map((g) => g.created_at).sort()[0] ?? '';
    // This user's own use of the application (connection activity), never anyone else's.
    const lastUsed = lastUse([...(await activityOfGrants(durable, access.grants)).values()]);
    return {
      client_id: access.app.client_id,
      name: access.app.name,
      logo: httpsUrlOrUndefined(access.app.logo_uri),
      initial: access.app.name.trim().charAt(0).toUpperCase() || '?',
      thirdParty: isThirdParty(access.app),
      registeredItself: access.app.registration_type === 'dynamic',
      apis,
      offline,
      since: since.slice(0, 10),
      lastUsed: lastUsed && { at: lastUsed, words: lastUsedWords(lastUsed) },
    };
  }

  /**
   * The confirmation after a removal names the application this session removed: the link carries its client id with
   * a signature bound to the session, and the name is read from the store, so a crafted link shows nothing.
   */
  const removalProof = (sessionUid: string, clientId: string) => csrfToken(csrfKey, 'removed', `${sessionUid}:${clientId}`);
  async function removedAppName(req: Request, sessionUid: string): Promise<string | undefined> {
    const { removed, proof } = req.query;
    if (typeof removed !== 'string' || !csrfValid(csrfKey, 'removed', `${sessionUid}:${removed}`, proof)) return undefined;
    return (await deps.directory.byId(removed))?.name;
  }

  router.get('/apps', async (req, res) => {
    const signedIn = await signedInSession(req, res);
    if (!signedIn) return signInFirst(res);
    const apps = await Promise.all((await connectedApps(signedIn.user.user_id)).map(describeAccess));
    const removed = await removedAppName(req, signedIn.session.uid);
    return renderPage(res, { base, tenant: await readTenantSettings(durable) }, 'apps', 'Connected apps', {
      user: signedIn.user.email || signedIn.user.name || 'you',
      apps,
      removed,
      csrf: csrfToken(csrfKey, 'apps', signedIn.session.uid),
      action: `${base}/u/apps/remove`,
    });
  });

  router.get('/apps/callback', async (req, res) => {
    // The sign-in could not be completed because a store is away: say so, rather than start it again (which would loop).
    if (req.query.error !== 'temporarily_unavailable') return res.redirect(303, `${base}/u/apps`);
    const data = errorPageData('temporarily_unavailable');
    return renderPage(res, { base, tenant: await readTenantSettings(durable) }, 'error', String(data.heading), data, 503);
  });

  router.post('/apps/remove', express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 5 }), async (req, res) => {
    const signedIn = await signedInSession(req, res);
    if (!signedIn || !csrfValid(csrfKey, 'apps', signedIn.session.uid, req.body?.csrf)) return signInFirst(res);
    const clientId = String(req.body?.client_id ?? '');
    const grants = await durable.userGrants.find({ user_id: signedIn.user.user_id, clientID: clientId });
    for (const grant of grants) await revokeUserGrant(stores, grant);
    const app = await deps.directory.byId(clientId);
    const confirmation = grants.length && app ? `?${new URLSearchParams({ removed: app.client_id, proof: removalProof(signedIn.session.uid, app.client_id) })}` : '';
    return res.redirect(303, `${base}/u/apps${confirmation}`);
  });
  router.use(pageErrorHandler(durable, issuer, deps.logger));
  return router;
}
