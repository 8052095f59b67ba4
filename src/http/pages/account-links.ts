import express, { Router, type Request, type Response } from 'express';
import { issuerBasePath } from '../../domain/issuer.ts';
import { TICKET_PAGES, type TicketKind } from '../../domain/links.ts';
import { passwordPolicyOf, policyRequirements } from '../../domain/password-policy.ts';
import type { AccountService, Ticket } from '../../services/accounts.ts';
import { MailUnavailable } from '../../services/mail.ts';
import { readTenantSettings } from '../../services/tenant.ts';
import { pageErrorHandler } from './errors.ts';
import { csrfToken, csrfValid, renderPage, type NextLink, type NextStep, type PageContext, type PageDeps } from './render.ts';

export interface AccountLinkDeps extends PageDeps {
  accounts: AccountService;
}

/**
 * The pages single-use links open: choosing a new password (`/u/reset-password?ticket=…`) and verifying an email
 * address (`/u/email-verification?ticket=…`). Opening a link changes nothing (mail scanners open links too); the
 * person's button press does, once.
 */
export function accountLinksRouter(deps: AccountLinkDeps): Router {
  const { stores, issuer, csrfKey, accounts } = deps;
  const { durable } = stores;
  const base = issuerBasePath(issuer);
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 }));

  const page = async (): Promise<PageContext> => ({ base, tenant: await readTenantSettings(durable) });
  const ticketOf = (req: Request) => (typeof req.query.ticket === 'string' ? req.query.ticket.slice(0, 200) : '');
  const action = (kind: TicketKind, ticket: string) => `${base}/${TICKET_PAGES[kind]}?ticket=${encodeURIComponent(ticket)}`;
  /** Where to go once done: the ticket's result_url (set by an administrator) first, then the person's own pages. */
  const nextAfter = (ticket: Ticket): (NextStep | NextLink)[] => [...(ticket.result_url ? [{ href: ticket.result_url, label: 'Continue' }] : []), 'sign_in', 'home'];

  async function unusable(res: Response, reason: 'invalid' | 'expired') {
    return renderPage(res, await page(), 'error', 'Link not valid', {
      heading: reason === 'expired' ? 'This link has expired' : 'This link cannot be used',
      message: reason === 'expired' ? 'Links we send work for a limited time.' : 'It was used already, or it is not a link we sent.',
      advice: 'Ask for a new link: from the sign-in page of the application you use ("Forgot password?"), or from the administrator of this service.',
      code: reason === 'expired' ? 'expired_ticket' : 'invalid_ticket',
      next: ['home'],
    }, 400);
  }

  async function showReset(res: Response, ticket: string, email: string, connectionName: string, form: { error?: string; problems?: string[] } = {}, status = 200) {
    const [connection] = await durable.connections.find({ name: connectionName }, { limit: 1 });
    const policy = passwordPolicyOf(connection?.options);
    return renderPage(res, await page(), 'reset-password', 'Choose a new password', {
      email, error: form.error, problems: form.problems ?? [], requirements: policyRequirements(policy).map((r) => r.text), minLength: policy.minLength,
      csrf: csrfToken(csrfKey, 'ticket', ticket), action: action('password_change', ticket),
    }, status);
  }

  router.get('/reset-password', async (req, res) => {
    const ticket = ticketOf(req);
    const read = await accounts.readTicket('password_change', ticket);
    if (!read.ok) return unusable(res, read.reason);
    return showReset(res, ticket, read.user.email, read.user.connection);
  });

  router.post('/reset-password', async (req, res) => {
    const ticket = ticketOf(req);
    if (!csrfValid(csrfKey, 'ticket', ticket, req.body?.csrf)) return unusable(res, 'invalid');
    const result = await accounts.resetPassword(ticket, String(req.body?.password ?? ''));
    if (!result.ok) {
      if (result.reason !== 'weak_password') return unusable(res, result.reason);
      const read = await accounts.readTicket('password_change', ticket);
      if (!read.ok) return unusable(res, read.reason);
      return showReset(res, ticket, read.user.email, read.user.connection, { error: 'Choose a stronger password.', problems: result.problems }, 400);
    }
    return renderPage(res, await page(), 'notice', 'Password changed', {
      heading: 'Your password was changed',
      paragraphs: [`${result.user.email} now signs in with the new password.`, 'You were signed out everywhere, and applications will ask you to sign in again.'],
      next: nextAfter(result.ticket),
    });
  });

  router.get('/email-verification', async (req, res) => {
    const ticket = ticketOf(req);
    const read = await accounts.readTicket('email_verification', ticket);
    if (!read.ok) return unusable(res, read.reason);
    return renderPage(res, await page(), 'verify-email', 'Verify your email address', {
      email: read.ticket.email, csrf: csrfToken(csrfKey, 'ticket', ticket), action: action('email_verification', ticket),
    });
  });

  router.post('/email-verification', async (req, res) => {
    const ticket = ticketOf(req);
    if (!csrfValid(csrfKey, 'ticket', ticket, req.body?.csrf)) return unusable(res, 'invalid');
    let result;
    try {
      result = await accounts.verifyEmail(ticket);
    } catch (err) {
      if (!(err instanceof MailUnavailable)) throw err;
      result = undefined; // verified; only the welcome email could not be sent
    }
    if (result && !result.ok) return unusable(res, result.reason);
    return renderPage(res, await page(), 'notice', 'Email verified', {
      heading: 'Your email address is verified',
      paragraphs: ['Thank you. You can close this page, or go on below.'],
      next: result ? nextAfter(result.ticket) : ['sign_in', 'home'],
    });
  });

  router.use(pageErrorHandler(durable, issuer, deps.logger));
  return router;
}
