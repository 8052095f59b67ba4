import type { Request, Response } from 'express';
import type { KnownAgent } from '../../domain/known-agents.ts';
import type { TenantSettings } from '../../domain/model.ts';
import type { ManagementScope } from '../../domain/system-api.ts';
import { renderPage } from '../pages/render.ts';
import { ManagementError, ok, type ManagementClient } from './management-client.ts';
import type { OperatorSession } from './session.ts';

/** What every console page has: the signed-in operator, their Management API client, and the form token. */
export interface ConsoleContext {
  operator: OperatorSession;
  api: ManagementClient;
  csrf: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    console?: ConsoleContext;
  }
}

/** The sections of the console's navigation, in order; each page names the one it belongs to. */
export const SECTIONS = [
  { id: 'applications', label: 'Applications', path: '/applications' },
  { id: 'pending', label: 'Waiting for approval', path: '/pending' },
  { id: 'apis', label: 'APIs', path: '/apis' },
  { id: 'connections', label: 'Connections', path: '/connections' },
  { id: 'users', label: 'Users', path: '/users' },
  { id: 'consents', label: 'Consents', path: '/consents' },
  { id: 'logs', label: 'Logs', path: '/logs' },
  { id: 'network-acls', label: 'Network ACLs', path: '/network-acls' },
  { id: 'settings', label: 'Settings', path: '/settings' },
  { id: 'operators', label: 'Operators', path: '/operators' },
] as const;
export type Section = (typeof SECTIONS)[number]['id'];

export interface ConsoleKit {
  /** The issuer's path (empty at the root). */
  base: string;
  /** Where the console lives: `<base>/console`. */
  root: string;
  tenant(): Promise<TenantSettings>;
  /** The agents whose client id URLs are known (shipped and the operator's own): what "verified" means. */
  knownAgents: readonly KnownAgent[];
}

export const contextOf = (req: Request): ConsoleContext => {
  if (!req.console) throw new Error('console page without a signed-in operator');
  return req.console;
};

/** Whether the operator's token carries a scope: pages offer only what the role allows (the Management API decides). */
export const can = (req: Request, scope: ManagementScope) => contextOf(req).operator.scopes.includes(scope);

/** How many self-registered applications wait for an operator's decision (shown on the navigation). */
async function pendingCount(req: Request): Promise<number | undefined> {
  if (!can(req, 'read:clients')) return undefined;
  const query = { trust: 'pending', per_page: 1, include_totals: true } as const;
  return (await ok(contextOf(req).api.GET('/api/v2/clients', { params: { query } })) as { total: number }).total;
}

/** Renders a console page inside the console's layout (navigation, who is signed in, sign-out). */
export async function renderConsole(kit: ConsoleKit, req: Request, res: Response, view: string, title: string, section: Section, data: Record<string, unknown>, status = 200) {
  const { operator, csrf } = contextOf(req);
  const [tenant, pending] = await Promise.all([kit.tenant(), pendingCount(req)]);
  renderPage(res, { base: kit.base, tenant }, `console-${view}`, title, {
    ...data,
    wide: 'console',
    console: {
      root: kit.root, section, csrf, sections: SECTIONS, pending,
      operator: { email: operator.email, role: operator.role },
      can: (scope: ManagementScope) => operator.scopes.includes(scope),
    },
  }, status);
}

/** Lines of a textarea, trimmed, without blank ones (lists of URLs, origins, signals…). */
export const lines = (value: unknown) => String(value ?? '').split(/\r?\n/).map((line) => line.trim()).filter(Boolean);

/** An integer form field, or undefined when left empty (the Management API then keeps or defaults the value). */
export function integerField(value: unknown): number | undefined {
  const text = String(value ?? '').trim();
  if (text === '') return undefined;
  return /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
}

export const checked = (value: unknown) => value === 'on' || value === 'true';

/**
 * The form field a Management API error is about: the field the message names first (validation errors say `on
 * property refresh_token.token_lifetime`, rule errors start with the property; `token_lifetime_for_web` is not
 * `token_lifetime`), or one of the words a form lists for a field (`Grant type …` for grant_types). Undefined: the
 * error is shown above the form.
 */
export function fieldOfError(message: string, fields: readonly string[], words: Record<string, string[]> = {}): string | undefined {
  const mentions = fields.map((field) => ({ field, at: message.search(new RegExp(`(?<![\\w.])${field.replaceAll('.', '\\.')}(?![\\w])`)) }))
    .filter(({ at }) => at >= 0)
    .sort((a, b) => a.at - b.at || b.field.length - a.field.length);
  return mentions[0]?.field ?? Object.entries(words).find(([, phrases]) => phrases.some((phrase) => message.includes(phrase)))?.[0];
}

/** Errors keyed by field for a form, from a Management API failure (or `_form` when it names no field). */
export function formErrors(err: unknown, fields: readonly string[], words: Record<string, string[]> = {}): Record<string, string> {
  if (!(err instanceof ManagementError)) throw err;
  const { message } = err.failure;
  const readable = message.replace(/^Payload validation error: /, '');
  return { [fieldOfError(message, fields, words) ?? '_form']: readable };
}

/** Auth0's include_totals page: the items under their plural, and how many there are in all. */
type TotalsPage = { total: number } & Record<string, unknown>;

/**
 * Every item of a Management API list, a hundred per call (the most a page holds). Lists in the console are the
 * tenant's own configuration (applications, APIs, connections), which stays small enough to show whole.
 */
export async function everyItem<T>(plural: string, load: (query: { page: number; per_page: number; include_totals: true }) => Promise<unknown>): Promise<T[]> {
  const items: T[] = [];
  for (let page = 0; ; page += 1) {
    const result = (await load({ page, per_page: 100, include_totals: true })) as TotalsPage;
    const batch = (result[plural] ?? []) as T[];
    items.push(...batch);
    if (!batch.length || items.length >= result.total) return items;
  }
}
