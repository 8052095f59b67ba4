import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { EmailTemplate } from '../domain/email.ts';
import type { TenantSettings } from '../domain/model.ts';
import { newTimeOrderedId } from '../domain/ids.ts';

/** A message ready to go: rendered from one of Auth0's templates. */
export interface MailMessage {
  template: EmailTemplate;
  to: string;
  subject: string;
  html: string;
  text: string;
}

/** Sends mail; a relay that refuses or does not answer (within seconds) makes `send` throw MailUnavailable. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export class MailUnavailable extends Error {}

export interface MailSettings {
  smtpUrl: string | null;
  from: string;
  /** Where messages are written when there is no SMTP relay (development): DATA_DIR/outbox, or nowhere (memory stores). */
  outboxDir: string | null;
}

/** Seconds to wait for the relay at each step: a relay that is down is reported at once, not after minutes. */
const SMTP_TIMEOUT_MS = 8000;

/**
 * SMTP through nodemailer when `SMTP_URL` is set. Without it (development) each message is written to the data
 * folder's outbox as an .eml file, readable by its owner only, and the log says so: the log line names the template,
 * recipient and file, never the link, which is a secret.
 */
export function createMailer(settings: MailSettings, logger: Logger): Mailer {
  if (settings.smtpUrl) {
    const transport = nodemailer.createTransport({
      url: settings.smtpUrl, connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS,
    } as Parameters<typeof nodemailer.createTransport>[0]);
    return {
      async send(message) {
        try {
          await transport.sendMail({ from: settings.from, to: message.to, subject: message.subject, html: message.html, text: message.text });
        } catch (err) {
          logger.error({ err: { message: (err as Error).message, code: (err as { code?: string }).code }, template: message.template }, 'email not sent: the SMTP relay failed');
          throw new MailUnavailable('the email could not be sent');
        }
      },
    };
  }
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(message) {
      let file: string | undefined;
      if (settings.outboxDir) {
        const info = await composer.sendMail({ from: settings.from, to: message.to, subject: message.subject, html: message.html, text: message.text });
        await mkdir(settings.outboxDir, { recursive: true, mode: 0o700 });
        file = path.join(settings.outboxDir, `${newTimeOrderedId()}-${message.template}.eml`);
        await writeFile(file, info.message as Buffer, { mode: 0o600 });
      }
      logger.info({ template: message.template, to: message.to, subject: message.subject, file }, file
        ? 'email written to the outbox (SMTP_URL is not set)'
        : 'email not sent (SMTP_URL is not set and there is no data folder)');
    },
  };
}

const BUILT_IN = fileURLToPath(new URL('../../views/email/', import.meta.url));

/** One eta per folder and format: HTML escapes every value, text keeps them as they are. */
const engines = new Map<string, Eta>();
function engine(dir: string, format: 'html' | 'text'): Eta {
  const key = `${format}:${dir}`;
  let found = engines.get(key);
  if (!found) engines.set(key, (found = new Eta({ views: dir, autoEscape: format === 'html', cache: true })));
  return found;
}

/** What a template may show (Auth0's variables: `url`, `user`, `application`, the tenant's name and support address). */
export interface EmailData {
  url?: string;
  /** How long the link works, in words. */
  lifetime?: string;
  user: { email: string; name?: string };
  application: { name: string; callback_domain: string };
  tenant: Pick<TenantSettings, 'friendly_name' | 'support_email' | 'support_url'>;
}

/** The operator's copy of a template when there is one, else the built-in one. */
function render(template: string, format: 'html' | 'text', data: EmailData, templatesDir: string): string {
  const file = format === 'html' ? `${template}.eta` : `${template}.txt.eta`;
  const dir = existsSync(path.resolve(templatesDir, file)) ? path.resolve(templatesDir) : BUILT_IN;
  return engine(dir, format).render(`./${file}`, data);
}

/**
 * Renders one of Auth0's templates (views/email/<name>.eta and <name>.txt.eta), or the operator's copy of it from
 * `mail.templates_dir`. The subject is the HTML template's `<title>`.
 */
export function renderEmail(template: EmailTemplate, to: string, data: EmailData, templatesDir: string): MailMessage {
  const renderedHtml = render(template, 'html', data, templatesDir);
  const renderedText = render(template, 'text', data, templatesDir);
  const subject = /<title>([^<]*)<\/title>/i.exec(renderedHtml)?.[1]?.replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', '\'').trim();
  return { template, to, subject: subject || template, html: renderedHtml, text: renderedText };
}
