import { protectsAgainstOpenRedirect } from './applications.ts';
import type { Application } from './model.ts';

/** Auth0's email template names. */
export const EMAIL_TEMPLATES = ['verify_email', 'reset_email', 'welcome_email'] as const;
export type EmailTemplate = (typeof EMAIL_TEMPLATES)[number];

/** How long a link sent by email (or made by a Management API ticket without `ttl_sec`) stays usable: Auth0's 5 days. */
export const LINK_LIFETIME_SECONDS = 432000;

/** A link's lifetime in words, for emails and pages. */
export const describeLifetime = (seconds: number) =>
  (seconds % 86400 === 0 ? `${seconds / 86400} day(s)` : seconds % 3600 === 0 ? `${seconds / 3600} hour(s)` : `${Math.ceil(seconds / 60)} minute(s)`);

/**
 * Auth0's `application` variables of an email template. Under open-redirect protection (strict third-party
 * applications) `callback_domain` is always empty, as Auth0 does: an email must not lead to the application's callback,
 * so templates need a fallback for it.
 */
export function emailApplication(app: Pick<Application, 'name' | 'callbacks' | 'is_first_party' | 'third_party_security_mode' | 'redirection_policy'> | undefined): { name: string; callback_domain: string } {
  if (!app) return { name: '', callback_domain: '' };
  const first = app.callbacks[0] ? URL.parse(app.callbacks[0]) : null;
  const callbackDomain = protectsAgainstOpenRedirect(app) || !first ? '' : first.origin;
  return { name: app.name, callback_domain: callbackDomain === 'null' ? '' : callbackDomain };
}
