/** The URLs of Gatehouse's pages that are given out (in emails, to upstream providers, in Management API answers). */

import { issuerUrl } from './issuer.ts';

/** The redirect URI an operator registers at an upstream provider (Auth0's path). */
export const upstreamCallbackUrl = (issuer: string) => issuerUrl(issuer, 'login/callback');

/** The pages a single-use link opens: the password reset form and the email verification page. */
export const TICKET_PAGES = { password_change: 'u/reset-password', email_verification: 'u/email-verification' } as const;
export type TicketKind = keyof typeof TICKET_PAGES;

export const ticketUrl = (issuer: string, kind: TicketKind, ticket: string) => `${issuerUrl(issuer, TICKET_PAGES[kind])}?ticket=${encodeURIComponent(ticket)}`;
