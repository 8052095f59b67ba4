import { createHmac, timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Response } from 'express';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { PAGE_COLOURS, readableBranding } from '../../domain/branding.ts';
import type { TenantSettings } from '../../domain/model.ts';
import type { ApplicationDirectory } from '../../services/application-directory.ts';
import type { Stores } from '../../store/index.ts';

/** What every page's routes need: the store, the issuer their links are under, the key that signs CSRF tokens, the log. */
export interface PageDeps {
  stores: Stores;
  issuer: string;
  /** Signs CSRF tokens (the first cookie key). */
  csrfKey: string;
  logger: Logger;
}

/** Pages within a protocol flow also need the provider, and the directory that finds the flow's application. */
export interface ProtocolPageDeps extends PageDeps {
  provider: Provider;
  /** Where the application is found by the client id it used (its CIMD URL, when it has one). */
  directory: ApplicationDirectory;
}

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

/**
 * Where a page can send a person next, all under the issuer's path. Pages name their next steps in `data.next`
 * (the first is the main one) and views/next-steps.eta draws them.
 */
const NEXT_STEPS = {
  sign_in: { path: '/u/apps', label: 'Sign in to your account' },
  apps: { path: '/u/apps', label: 'See your connected apps' },
  home: { path: '/', label: 'Go to the start page' },
  portal: { path: '/developers', label: 'Developer portal' },
} as const;
export type NextStep = keyof typeof NEXT_STEPS;
/** A next step that only one page knows (back to a sign-in in progress, a Management API ticket's result_url): its href is used as given. */
export interface NextLink {
  href: string;
  label: string;
}

/** A link a person may follow from the footer: http(s) only. */
const webUrlOrUndefined = (value: unknown) => (typeof value === 'string' && /^https?:\/\//i.test(value) && URL.canParse(value) ? value : undefined);

export function renderView(page: PageContext, view: string, title: string, data: Record<string, unknown>): string {
  const tenant = {
    friendly_name: page.tenant.friendly_name,
    logo: httpsUrlOrUndefined(page.tenant.branding.logo_url ?? page.tenant.picture_url),
    support_email: page.tenant.support_email,
    support_url: webUrlOrUndefined(page.tenant.support_url),
  };
  const next = ((data.next ?? []) as (NextStep | NextLink)[])
    .map((step) => (typeof step === 'string' ? { href: `${page.base}${NEXT_STEPS[step].path}`, label: NEXT_STEPS[step].label } : step));
  return eta.render(`./${view}`, { ...data, next, title, base: page.base, tenant });
}

export function renderPage(res: Response, page: PageContext, view: string, title: string, data: Record<string, unknown>, status = 200): void {
  res.status(status).type('html').set('Cache-Control', 'no-store').send(renderView(page, view, title, data));
}

/** The `error_description` Gatehouse sends when the person chooses Deny on the consent page (Auth0's wording). */
export const DENIED_BY_USER = 'User did not authorize the request';

interface ErrorWords {
  heading: string;
  message: string;
  /** What the person can do now, in plain words. */
  advice: string;
  next: (NextStep | NextLink)[];
}

const FROM_THE_APPLICATION = 'Go back to the application you came from and try again. If it happens again, tell its developer the error code below.';

/**
 * What the error page tells a person about an OAuth error code: plain words and a next step, never a link to an
 * untrusted callback. The library's own wording is kept for the application's developer, folded away.
 */
const ERROR_WORDS: Record<string, ErrorWords> = {
  access_denied: {
    heading: 'Access was not granted', message: 'The application did not get access to your account.',
    advice: 'Go back to the application you came from; if it keeps happening, ask this service\'s administrator whether that application may be used.', next: ['home'],
  },
  invalid_client: { heading: 'Unknown application', message: 'This service does not know the application that sent you here.', advice: FROM_THE_APPLICATION, next: ['home'] },
  invalid_redirect_uri: {
    heading: 'Unsafe sign-in link', message: 'The application asked to send you to an address it has not registered, so we stopped here.',
    advice: FROM_THE_APPLICATION, next: ['home'],
  },
  login_required: { heading: 'Sign-in needed', message: 'You need to sign in to continue.', advice: 'Go back to the application you came from and sign in from there.', next: ['sign_in', 'home'] },
  consent_required: {
    heading: 'Permission needed', message: 'The application needs your permission, and asked not to show you this service.',
    advice: 'Go back to the application you came from and start again from there.', next: ['home'],
  },
  server_error: { heading: 'Something went wrong', message: 'This service could not complete the request.', advice: 'Try again in a moment.', next: ['home'] },
  // A store is away (503): nobody's mistake, nothing the application's developer can fix; the person only needs to wait.
  temporarily_unavailable: {
    heading: 'Temporarily unavailable', message: 'This service cannot complete your request right now.',
    advice: 'Wait a minute, then go back to the application you came from and try again.', next: ['home'],
  },
};

const INVALID_REQUEST: ErrorWords = {
  heading: 'The application sent an invalid request', message: 'This service could not accept the sign-in request the application made.',
  advice: FROM_THE_APPLICATION, next: ['home'],
};

/** The person chose Deny: a choice, not a failure. */
const DENIED: ErrorWords = {
  heading: 'Access was not granted', message: 'You chose not to give the application access: nothing was shared with it.',
  advice: 'If you change your mind, go back to the application and start again; it will ask you again. You can see which applications have access to your account at any time.',
  next: ['apps', 'home'],
};

/** A sign-in that expired, was completed already, or was never started here (someone opened /u/login directly). */
export const EXPIRED_SIGN_IN: ErrorWords & { code: string } = {
  heading: 'This sign-in has expired', message: 'It took too long, was already completed, or was not started from an application.',
  advice: 'To sign in to an application, start again from that application: it brings you here. To manage the applications that can use your account, sign in to your account.',
  next: ['sign_in', 'home'], code: 'session_not_found',
};

/** A self-registered application the administrator has not approved yet, or has blocked: not the person's doing. */
export function untrustedApplicationPageData(name: string, trust: 'pending' | 'blocked', description: string): Record<string, unknown> {
  const words: ErrorWords = trust === 'pending'
    ? {
      heading: `${name} is waiting for approval`,
      message: `The administrator of this service has not approved ${name} yet, so it cannot use your account. Nothing was shared with it.`,
      advice: 'Try again later, or ask the administrator of this service to approve it.', next: ['home'],
    }
    : {
      heading: `${name} has been blocked`,
      message: `The administrator of this service has blocked ${name}: it cannot use your account. Nothing was shared with it.`,
      advice: 'If you expected to use it, ask the administrator of this service.', next: ['home'],
    };
  return { ...words, code: 'unauthorized_client', description };
}

/**
 * An application identified by its metadata document (CIMD) that cannot be used now: the person learns where the
 * description lives (its host) and whether waiting helps; the details go to the application's developer.
 */
export function unusableDocumentPageData(host: string, kind: 'unavailable' | 'invalid' | 'refused', problems: readonly string[]): Record<string, unknown> {
  const identifies = `The application that sent you here is described by a document published at ${host}`;
  const words: Record<typeof kind, ErrorWords> = {
    unavailable: {
      heading: 'This application could not be checked', message: `${identifies}, which could not be read just now, so we stopped here. Nothing was shared with it.`,
      advice: 'Try again in a few minutes. If it keeps happening, tell the application\'s developer the error details below.', next: ['home'],
    },
    invalid: {
      heading: 'This application\'s description cannot be used', message: `${identifies}, which does not meet this service's rules, so we stopped here. Nothing was shared with it.`,
      advice: FROM_THE_APPLICATION, next: ['home'],
    },
    refused: {
      heading: 'This service is not accepting this application right now', message: `${identifies}. Too many new applications have come from there recently. Nothing was shared with it.`,
      advice: 'Try again later.', next: ['home'],
    },
  };
  return { ...words[kind], code: 'invalid_client', description: problems.join('; ') };
}

export function errorPageData(error: string, description?: string): Record<string, unknown> {
  const words = error === 'access_denied' && description === DENIED_BY_USER ? DENIED : ERROR_WORDS[error] ?? INVALID_REQUEST;
  return { ...words, code: error, ...(description ? { description } : {}) };
}

/**
 * The pages' colours as CSS variables: the fixed ones, and the tenant's brand colours as far as they keep the pages
 * readable (see `readableBranding`).
 */
export function themeCss(tenant: TenantSettings): string {
  const { primary_color, page_background } = readableBranding(tenant.branding);
  const colours = { ...PAGE_COLOURS, primary: primary_color, page_bg: page_background };
  return `:root { ${Object.entries(colours).map(([name, value]) => `--${name.replaceAll('_', '-')}: ${value};`).join(' ')} }\n`;
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
