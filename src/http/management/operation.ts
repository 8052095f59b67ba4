import type { SchemaObject } from 'ajv';
import type { ManagementScope } from '../../domain/system-api.ts';
import type { Page } from '../../services/entities.ts';
import type { Actor } from '../../domain/model.ts';

export interface OperationInput<Query, Body> {
  /** Every path parameter of the Management API is an `:id`. */
  params: { id: string };
  query: Query;
  body: Body;
  /** The caller's Management API scopes, for operations whose outcome needs more than the scope they start with. */
  scopes: ReadonlySet<string>;
  /** Who asks (src/http/guard.ts). */
  actor: Actor;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The body carries a secret (a client secret, an API's signing secret): no cache may keep it. */
  secret?: boolean;
}

/**
 * One Management API operation, described once: the router wires it (scope, validation, handler) and the OpenAPI
 * document is generated from the same description, so the two cannot drift apart.
 */
export interface Operation<Query = unknown, Body = unknown> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express syntax, relative to /api/v2. */
  path: string;
  /** The scope the caller needs; a list means any one of them. */
  scope: ManagementScope | readonly ManagementScope[];
  tag: string;
  summary: string;
  query?: SchemaObject;
  body?: SchemaObject;
  response: { status: number; description: string; schema?: SchemaObject };
  /** Error statuses the operation answers besides 400 (validation), 401 and 403 (the guard). */
  errors: number[];
  handle(input: OperationInput<Query, Body>): Promise<Reply>;
}

/** Lets each operation type its own query and body while the router handles them all alike. */
export const defineOperation = <Query = Record<string, never>, Body = undefined>(operation: Operation<Query, Body>) =>
  operation as unknown as Operation;

export const reply = (body: unknown, status = 200): Reply => ({ status, body });

/** A reply whose body holds a secret when `secret` is true. */
export const replyWithSecret = (body: unknown, secret: boolean, status = 200): Reply => ({ status, body, secret });

/** For operations that answer 204 once their work is done. */
export async function noContentAfter(work: Promise<unknown>): Promise<Reply> {
  await work;
  return { status: 204 };
}

export interface ListQuery {
  page: number;
  per_page: number;
  include_totals: boolean;
  /** Checkpoint pagination, on the lists where Auth0 has it. */
  from?: string;
  take?: number;
}

/**
 * Auth0's list shapes: a plain array, with include_totals `{start, limit, length, total, <plural>}`, and for a
 * checkpoint page `{<plural>, next}`.
 */
export function listReply<T>(plural: string, page: Page<T>, serialize: (item: T) => unknown): Reply {
  const items = page.items.map(serialize);
  if ('checkpoint' in page) return reply({ [plural]: items, ...(page.next === undefined ? {} : { next: page.next }) });
  if (page.total === undefined) return reply(items);
  return reply({ start: page.start, limit: page.limit, length: items.length, total: page.total, [plural]: items });
}
