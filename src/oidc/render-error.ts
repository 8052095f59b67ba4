import type { KoaContextWithOIDC } from 'oidc-provider';
import { errorPageData, renderView } from '../http/pages/render.ts';
import { readTenantSettings } from '../services/tenant.ts';
import type { DurableStore } from '../store/ports.ts';

/** oidc-provider's HTML error output, rendered as Gatehouse's error page (escaped, no stack trace, no callback link). */
export function errorPageRenderer(store: DurableStore, issuer: string) {
  const base = new URL(issuer).pathname.replace(/\/$/, '');
  return async (ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) => {
    if (ctx.status < 400) ctx.status = 400; // an error page never answers as a redirect
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    const data = errorPageData(out.error, out.error_description);
    ctx.body = renderView({ base, tenant: await readTenantSettings(store) }, 'error', String(data.heading), data);
  };
}
