import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderPages } from '../../oidc/provider.ts';
import { readTenantSettings } from '../../services/tenant.ts';
import type { DurableStore } from '../../store/ports.ts';
import { ApplicationNotTrusted, MetadataDocumentUnusable } from '../../oidc/application-errors.ts';
import { errorPageData, renderView, unusableDocumentPageData, untrustedApplicationPageData } from './render.ts';
import { issuerBasePath } from '../../domain/issuer.ts';

const xsrfOf = (ctx: KoaContextWithOIDC) => String((ctx.oidc.session?.state as { secret?: string } | undefined)?.secret ?? '');

/** What the code page tells a person whose code did not work (oidc-provider's re-render errors, by name). */
function activationProblem(err: Error): string {
  switch (err.name) {
    case 'NoCodeError': return 'Enter the code shown on your device.';
    case 'NotFoundError': return 'That code is not valid. Check the code shown on your device and enter it again.';
    case 'ExpiredError': return 'That code has expired. Start again on your device to get a new code.';
    case 'AlreadyUsedError': return 'That code has already been used. Start again on your device to get a new code.';
    case 'AbortedError': return 'You cancelled the connection of your device. Nothing was shared with it.';
    default: return 'The device could not be connected. Start again on your device to get a new code.';
  }
}

/**
 * The HTML pages oidc-provider renders itself (errors, logout), drawn with Gatehouse's layout and views: every value
 * escaped, no stack trace, no link to an untrusted callback. Handed to `createProvider`, so that the protocol layer
 * never reaches up into the pages.
 */
export function providerPages(store: DurableStore, issuer: string): ProviderPages {
  const base = issuerBasePath(issuer);
  const render = async (ctx: KoaContextWithOIDC, view: string, title: string, data: Record<string, unknown>) => {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderView({ base, tenant: await readTenantSettings(store) }, view, title, data);
  };
  return {
    async renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, error: Error) {
      if (ctx.status < 400) ctx.status = 400; // an error page never answers as a redirect
      const data = error instanceof ApplicationNotTrusted ? untrustedApplicationPageData(error.application.name, error.trust, out.error_description ?? '')
        : error instanceof MetadataDocumentUnusable ? unusableDocumentPageData(error.document.host, error.document.kind, error.document.problems)
          : errorPageData(out.error, out.error_description);
      await render(ctx, 'error', String(data.heading), data);
    },
    /** `form` is oidc-provider's own markup (its action and anti-CSRF field); the buttons submit it. */
    async logoutSource(ctx: KoaContextWithOIDC, form: string) {
      await render(ctx, 'logout', 'Sign out', { form, app: ctx.oidc.client?.clientName });
    },
    /**
     * After the logout form. "Stay signed in" posts it too (oidc-provider then signs the person out of the application
     * that asked, if any, and keeps the session), so the page says what the session really is.
     */
    async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
      const signedIn = Boolean((await ctx.oidc.provider.Session.get(ctx)).accountId);
      await render(ctx, 'signed-out', signedIn ? 'Still signed in' : 'Signed out', {
        app: ctx.oidc.client?.clientName, signedIn, next: signedIn ? ['apps', 'home'] : ['sign_in', 'home'],
      });
    },
    /**
     * `response_mode=web_message` (silent authentication in an iframe, as auth0-spa-js does it): the response goes to
     * the parent page by a script served as a file (no inline script under the CSP), and only the redirect URI's origin
     * may frame the page (its web origin, checked by the authorization hook).
     */
    async webMessage(ctx: KoaContextWithOIDC, redirectUri: string, response: Record<string, unknown>) {
      if (![200, 400, 500].includes(ctx.status)) ctx.status = 'error' in response ? 400 : 200;
      ctx.remove('X-Frame-Options');
      const csp = String(ctx.response.get('Content-Security-Policy'));
      ctx.set('Content-Security-Policy', csp.replace(/frame-ancestors [^;]*/, `frame-ancestors ${new URL(redirectUri).origin}`));
      await render(ctx, 'web-message', 'Returning to the application', { redirectUri, response: JSON.stringify(response) });
    },
    // The device flow's pages at /activate (RFC 8628 §3.3). oidc-provider's form markup carries an inline handler, so
    // the views draw their own forms around its anti-CSRF secret, kept in the session state it checks on submission.
    async userCodeInputSource(ctx: KoaContextWithOIDC, _form: string, _out: unknown, err?: Error & { userCode?: string }) {
      // After an error, a session the browser never received (no session cookie came with the request) cannot carry
      // the form's secret: it is not stored (oidc-provider would fail to), and the page offers a fresh start instead.
      const session = ctx.oidc.session as unknown as { exp?: number; touched?: boolean } | undefined;
      const restart = Boolean(err) && typeof session?.exp !== 'number';
      if (restart && session) session.touched = false;
      const action = ctx.oidc.urlFor('code_verification');
      await render(ctx, 'activate', 'Connect a device', {
        action, restart, xsrf: xsrfOf(ctx), userCode: err?.userCode ?? '',
        error: restart ? 'This page has expired. Start again, and enter the code shown on your device.' : err && activationProblem(err),
      });
    },
    async userCodeConfirmSource(ctx: KoaContextWithOIDC, _form: string, client: { clientName?: string; clientId: string }, _deviceInfo: unknown, userCode: string) {
      const app = client.clientName ?? client.clientId;
      await render(ctx, 'activate-confirm', `Connect ${app}?`, { action: ctx.oidc.urlFor('code_verification'), xsrf: xsrfOf(ctx), userCode, app });
    },
    async deviceSuccessSource(ctx: KoaContextWithOIDC) {
      await render(ctx, 'activate-done', 'Device connected', { app: ctx.oidc.client?.clientName, next: ['home'] });
    },
  };
}
