import { createHmac, timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Response } from 'express';
import type { TenantSettings } from '../../domain/model.ts';

export const VIEWS_DIR = fileURLToPath(new URL('../../../views/', import.meta.url));

/** Every `<%= %>` is HTML-escaped: names, URIs and descriptions on these pages may come from third parties. */
const eta = new Eta({ views: VIEWS_DIR, autoEscape: true, cache: true });

/** Only https images are shown (no tracking over http, no `javascript:` or `data:` tricks). */
export const httpsUrlOrUndefined = (value: unknown) => {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value).protocol === 'https:' ? value : undefined;
  } catch {
    return undefined;
  }
};

export interface PageContext {
  /** The issuer's path (empty at the root): pages link to their assets through it. */
  base: string;
  tenant: TenantSettings;
}

export function renderView(page: PageContext, view: string, title: string, data: Record<string, unknown>): string {
  const tenant = {
    friendly_name: page.tenant.friendly_name,
    logo: httpsUrlOrUndefined(page.tenant.branding.logo_url ?? page.tenant.picture_url),
    support_email: page.tenant.support_email,
  };
  return eta.render(`./${view}`, { ...data, title, base: page.base, tenant });
}

export function renderPage(res: Response, page: PageContext, view: string, title: string, data: Record<string, unknown>, status = 200): void {
  res.status(status).type('html').set('Cache-Control', 'no-store').send(renderView(page, view, title, data));
}

/** What the error page tells a person about an OAuth error code: plain words, never a link to an untrusted callback. */
const ERROR_WORDS: Record<string, { heading: string; message: string; advice?: string }> = {
  access_denied: { heading: 'Access was not granted', message: 'The application did not get access to your account.' },
  invalid_client: { heading: 'Unknown application', message: 'This service does not know the application that sent you here.' },
  invalid_redirect_uri: { heading: 'Unsafe sign-in link', message: 'The application asked to send you to an address it has not registered, so we stopped here.' },
  login_required: { heading: 'Sign-in needed', message: 'You need to sign in to continue.' },
  consent_required: { heading: 'Permission needed', message: 'The application needs your permission, and asked not to show you this service.' },
  server_error: { heading: 'Something went wrong', message: 'This service could not complete the request.' },
  // Nobody's mistake, nothing the application's developer can fix: the person only needs to wait.
  temporarily_unavailable: { heading: 'Temporarily unavailable', message: 'This service cannot complete your request right now.', advice: 'Wait a minute, then go back to the application you came from and try again.' },
};

export function errorPageData(error: string, description?: string): Record<string, unknown> {
  const words = ERROR_WORDS[error] ?? { heading: 'The application sent an invalid request', message: 'This service could not accept the sign-in request the application made.' };
  return {
    ...words,
    advice: words.advice ?? [description, 'Go back to the application you came from and try again; if it keeps happening, contact its developer.'].filter(Boolean).join(' — '),
    code: error,
  };
}

const COLOR = /^#[0-9a-fA-F]{3,8}$/;

/** The tenant's colours as CSS variables; anything that is not a plain hex colour is ignored. */
export function themeCss(tenant: TenantSettings): string {
  const vars = [['--primary', tenant.branding.primary_color], ['--page-bg', tenant.branding.page_background]]
    .filter(([, value]) => COLOR.test(value ?? ''))
    .map(([name, value]) => `${name}: ${value};`);
  return `:root { ${vars.join(' ')} }\n`;
}

/** CSRF tokens bound to one interaction (or session) and purpose, signed with the cookie key: no server state. */
export function csrfToken(key: string, purpose: string, binding: string): string {
  return createHmac('sha256', key).update(`${purpose}:${binding}`).digest('base64url');
}

export function csrfValid(key: string, purpose: string, binding: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfToken(key, purpose, binding));
  const actual = Buffer.from(presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
