import { Router } from 'express';
import { issuerBasePath } from '../domain/issuer.ts';
import type { ApplicationDirectory } from '../services/application-directory.ts';

/**
 * Auth0's logout endpoint, `GET /v2/logout?client_id&returnTo`, as auth0-spa-js and Auth0's other SDKs call it. It is
 * the same sign-out as RP-Initiated Logout at /oidc/logout (Gatehouse asks before signing out): `returnTo` must be one
 * of the application's `allowed_logout_urls` (else an error page), and without it the first of them is used, as in Auth0.
 * Without `client_id` there is no list to check `returnTo` against, so the person stays on Gatehouse's signed-out page.
 */
export function auth0LogoutRouter(deps: { directory: ApplicationDirectory; issuer: string }): Router {
  const router = Router();
  const logoutPath = `${issuerBasePath(deps.issuer)}/oidc/logout`;
  router.get('/', async (req, res) => {
    const clientId = typeof req.query.client_id === 'string' ? req.query.client_id : undefined;
    const query = new URLSearchParams();
    if (clientId) {
      query.set('client_id', clientId);
      const returnTo = typeof req.query.returnTo === 'string' ? req.query.returnTo : (await deps.directory.resolve(clientId))?.application.allowed_logout_urls[0];
      if (returnTo) query.set('post_logout_redirect_uri', returnTo);
    }
    res.redirect(303, `${logoutPath}?${query}`);
  });
  return router;
}
