import type { Request, RequestHandler, Response } from 'express';
import type { AclSurface } from '../domain/network-access.ts';
import { recordAclMatch } from '../services/audit.ts';
import { checkNetworkAccess } from '../services/network-acls.ts';
import { recordRefusedRegistration } from '../services/registration.ts';
import { readTenantSettings } from '../services/tenant.ts';
import type { DurableStore } from '../store/ports.ts';
import { sendApiError } from './errors.ts';
import { isApplicationEndpoint, normalPath, pathPrefixes } from './paths.ts';
import { renderPage } from './pages/render.ts';
import type { RequestSignalSource } from './request-signals.ts';
import { issuerBasePath } from '../domain/issuer.ts';

export const REGISTRATION_BLOCKED = 'Registration is not allowed from your network.';
const BLOCKED = 'Requests from your network are not allowed.';

/** How a refusal is told: in the surface's own format; the portal's registration form shows it beside the form. */
type Answer = 'management' | 'oauth' | 'page' | 'portal_form';

/** Static stylesheets of the pages: nothing to protect, and a refusal page needs them to be readable. */
const isNeverBlocked = pathPrefixes(['/u/assets/', '/u/theme.css']);
const isManagementApi = pathPrefixes(['/api/v2/']);
const isConsole = pathPrefixes(['/console/']);

/**
 * Which surface a request reaches and how a refusal is told, from its path below the issuer. Express matches routes
 * case-insensitively and with a trailing slash, so the path is compared in that form: `/OIDC/Register/` is registration.
 */
function destinationOf(req: Request): { surface: AclSurface; answer: Answer } | undefined {
  const path = normalPath(req.path);
  if (isNeverBlocked(path)) return undefined;
  if (isManagementApi(path)) return { surface: 'management', answer: 'management' };
  // The console is the Management API's pages: a rule that keeps a network out of one keeps it out of the other.
  if (isConsole(path)) return { surface: 'management', answer: 'page' };
  // The portal's form registers when it is sent; showing it is browsing the portal.
  if (path === '/developers/register' && req.method === 'POST') return { surface: 'registration', answer: 'portal_form' };
  const surface = path === '/oidc/register' ? 'registration' : 'authentication';
  if (isApplicationEndpoint(path)) return { surface, answer: 'oauth' };
  return { surface, answer: req.accepts(['html', 'json']) === 'json' ? 'oauth' : 'page' };
}

const BLOCKED_BY_ACL = 'gatehouseBlockedByNetworkAcl';

/** Set for the portal's registration form, which shows the refusal beside what the person typed. */
export const blockedByNetworkAcl = (res: Response): boolean => res.locals[BLOCKED_BY_ACL] === true;

export interface NetworkGuardDeps {
  store: DurableStore;
  signals: RequestSignalSource;
  issuer: string;
}

/**
 * Network ACLs in front of everything Gatehouse serves (Express routes and oidc-provider alike), except the
 * operations endpoints, which are mounted before it. One evaluation per request (src/services/network-acls.ts).
 */
export function networkGuard(deps: NetworkGuardDeps): RequestHandler {
  const base = issuerBasePath(deps.issuer);
  return async (req, res, next) => {
    const destination = destinationOf(req);
    if (!destination) return next();
    const { surface, answer } = destination;
    const signals = deps.signals.read(req);
    const decision = await checkNetworkAccess(deps.store, surface, signals);
    for (const acl of decision.logged) {
      req.log?.info({ acl: acl.id, surface, ip: signals.ip }, 'network ACL matched (monitoring rule)');
      recordAclMatch(acl);
    }
    if (decision.rule) recordAclMatch(decision.rule);
    if (decision.action !== 'block') return next();
    if (surface === 'registration') recordRefusedRegistration('acl', REGISTRATION_BLOCKED, { acl: decision.rule?.id });
    // Info, not warn: a refused client is the rule working, and a flood of them must not flood the warnings.
    req.log?.info({ acl: decision.rule?.id, surface, ip: signals.ip }, 'request blocked by a network ACL');
    const description = surface === 'registration' ? REGISTRATION_BLOCKED : BLOCKED;
    switch (answer) {
      case 'portal_form':
        res.locals[BLOCKED_BY_ACL] = true;
        return next();
      case 'management':
        return sendApiError(res, 403, 'access_denied', `${BLOCKED} (network ACL)`);
      case 'oauth':
        return void res.status(403).set('Cache-Control', 'no-store').json({ error: 'access_denied', error_description: description });
      case 'page':
        return renderPage(res, { base, tenant: await readTenantSettings(deps.store) }, 'error', 'Access from your network is blocked', {
          heading: 'Access from your network is blocked',
          message: surface === 'registration' ? REGISTRATION_BLOCKED : 'This service does not accept requests from your network or device.',
          advice: 'If you need access, ask the administrator of this service to allow your network, or try again from another network.',
          code: 'access_denied',
        }, 403);
    }
  };
}
