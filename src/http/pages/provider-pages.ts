import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderPages } from '../../oidc/provider.ts';
import { readTenantSettings } from '../../services/tenant.ts';
import type { DurableStore } from '../../store/ports.ts';
import { ApplicationNotTrusted, MetadataDocumentUnusable } from '../../oidc/application-errors.ts';
import { errorPageData, renderView, unusableDocumentPageData, untrustedApplicationPageData } from './render.ts';

/**
 * The HTML pages oidc-provider renders itself (errors, logout), drawn with Gatehouse's layout and views: every value
 * escaped, no stack trace, no link to an untrusted callback. Handed to `createProvider`, so that the protocol layer
 * never reaches up into the pages.
 */
export function providerPages(store: DurableStore, issuer: string): ProviderPages {
  const base = new URL(issuer).pathname.replace(/\/$/, '');
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
  };
}
