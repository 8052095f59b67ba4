import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { protectsAgainstOpenRedirect } from '../domain/applications.ts';
import {
  authorizationRequest, conflictingTarget, nothingToGrant, scopeParameter, strictAuthorizationViolation, unreachableScopes, webMessageViolation,
} from '../domain/authorization.ts';
import { assertTrusted } from './application-errors.ts';
import { applicationOf, loadedApplication, rawParameters, rememberUnreachableScopes } from './context.ts';

const asString = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Each requested API's allowed scopes for this application, as `getResourceServerInfo` resolved them (from `decideApiAccess`). */
export const allowedApiScopes = (ctx: KoaContextWithOIDC): ReadonlyMap<string, ReadonlySet<string>> =>
  new Map(Object.entries(ctx.oidc.resourceServers ?? {}).map(([indicator, server]) => [indicator, server.scopes]));

/**
 * Checks run on every authorization (and pushed authorization) request, after oidc-provider has identified the
 * client and checked its redirect URI and PKCE. Registered as the validator of the extra `audience` parameter,
 * because extra-parameter validators always run and their errors go through the authorization error handler
 * (and so through open-redirect protection).
 */
export function authorizationRequestValidator() {
  return async function validateAuthorizationRequest(ctx: KoaContextWithOIDC, audience: string | undefined) {
    const app = applicationOf(ctx);
    assertTrusted(app);
    const conflict = conflictingTarget(audience, ctx.oidc.params?.resource as string | string[] | undefined);
    if (conflict) throw new errors.InvalidTarget(conflict);
    const raw = rawParameters(ctx);
    const violation = strictAuthorizationViolation(app, {
      parameterNames: Object.keys(raw),
      responseMode: asString(ctx.oidc.params?.response_mode),
      route: ctx.oidc.route,
    });
    if (violation) throw new errors.InvalidRequest(violation);
    const webMessage = webMessageViolation(app, asString(ctx.oidc.params?.response_mode), asString(ctx.oidc.params?.redirect_uri));
    if (webMessage) throw new errors.InvalidRequest(webMessage);
    // From the scopes as sent (oidc-provider drops offline_access without prompt=consent, an OIDC rule Auth0 does not apply).
    const requested = asString(raw.scope)?.split(' ') ?? [];
    const apiScopes = allowedApiScopes(ctx);
    rememberUnreachableScopes(ctx, unreachableScopes(requested, apiScopes));
    const request = authorizationRequest(app, requested, apiScopes);
    const scope = scopeParameter(requested, request);
    const nothing = nothingToGrant(scope ? scope.split(' ') : [], apiScopes);
    if (nothing) throw new errors.InvalidScope(nothing, requested.join(' '));
    // What the interaction policy, the consent page and the grant read from here on.
    (ctx.oidc.params as { scope?: string }).scope = scope;
  };
}

/**
 * Open-redirect protection: for applications that ask for it (strict third-party by default), an error found after
 * the application is identified renders Gatehouse's error page instead of redirecting to the callback (a loopback
 * callback excepted: src/domain/applications.ts). Errors that must never redirect (an application held back by the
 * trust ladder) say so themselves (`allow_redirect = false`).
 * oidc-provider emits `authorization.error` synchronously before it decides whether to redirect (verified on the
 * pinned version; test/integration/protocol-redirects.test.ts keeps it honest).
 */
export function installOpenRedirectProtection(provider: Provider): void {
  provider.on('authorization.error', (ctx: KoaContextWithOIDC, err: { allow_redirect?: boolean }) => {
    const client = ctx.oidc?.client;
    if (!client) return; // no client, nowhere to redirect to
    const app = loadedApplication(ctx, client.clientId);
    // What is wrong with the request goes back to a loopback callback; the outcome of the person's interaction (their
    // Deny, on `resume`) stays on Gatehouse's page, which tells them.
    const redirectUri = ctx.oidc.route === 'resume' ? undefined : ctx.oidc.params?.redirect_uri;
    if (!app || protectsAgainstOpenRedirect(app, typeof redirectUri === 'string' ? redirectUri : undefined)) err.allow_redirect = false;
  });
}
