import type { AccountService, ManagementTicketInput } from '../../services/accounts.ts';
import { MailUnavailable } from '../../services/mail.ts';
import { ApiError } from '../errors.ts';
import { defineOperation, reply, type Operation } from './operation.ts';
import { jobResponse, passwordChangeTicketBody, ticketResponse, verificationEmailJobBody, emailVerificationTicketBody } from './schemas.ts';

/** Auth0's tickets (single-use links, answered as a URL) and the verification email job. */
export function ticketOperations(accounts: AccountService): Operation[] {
  return [
    defineOperation<Record<string, never>, ManagementTicketInput>({
      method: 'post', path: '/tickets/password-change', scope: 'create:user_tickets', tag: 'Tickets', summary: 'Create a password change link for a database user',
      body: passwordChangeTicketBody, response: { status: 201, description: 'The link (single use)', schema: ticketResponse }, errors: [404],
      handle: async ({ body }) => reply(await accounts.passwordChangeTicket(body), 201),
    }),
    defineOperation<Record<string, never>, ManagementTicketInput>({
      method: 'post', path: '/tickets/email-verification', scope: 'create:user_tickets', tag: 'Tickets', summary: 'Create an email verification link',
      body: emailVerificationTicketBody, response: { status: 201, description: 'The link (single use)', schema: ticketResponse }, errors: [404],
      handle: async ({ body }) => reply(await accounts.emailVerificationTicket(body), 201),
    }),
    defineOperation<Record<string, never>, { user_id: string; client_id?: string }>({
      method: 'post', path: '/jobs/verification-email', scope: 'update:users', tag: 'Jobs', summary: 'Send the verification email to a user',
      body: verificationEmailJobBody, response: { status: 201, description: 'The job, completed: the email was handed to the relay', schema: jobResponse }, errors: [404, 503],
      handle: async ({ body }) => {
        try {
          return reply(await accounts.verificationEmailJob(body), 201);
        } catch (err) {
          if (err instanceof MailUnavailable) throw new ApiError(503, 'temporarily_unavailable', 'The verification email could not be sent: the SMTP relay did not accept it. Try again later.');
          throw err;
        }
      },
    }),
  ];
}
