/**
 * The URLs of Gatehouse's own pages that leave Gatehouse (in emails, at upstream providers, in Management API
 * answers), built in this one place.
 */

const under = (issuer: string, path: string) => `${issuer.replace(/\/+$/, '')}/${path}`;

/** The redirect URI an operator registers at an upstream provider (Auth0's path). */
export const upstreamCallbackUrl = (issuer: string) => under(issuer, 'login/callback');

/** The pages a single-use link opens: the password reset form and the email verification page. */
export const TICKET_PAGES = { password_change: 'u/reset-password', email_verification: 'u/email-verification' } as const;
export type TicketKind = keyof typeof TICKET_PAGES;

export const ticketUrl = (issuer: string, kind: TicketKind, ticket: string) => `${under(issuer, TICKET_PAGES[kind])}?ticket=${encodeURIComponent(ticket)}`;
