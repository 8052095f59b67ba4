import { isThirdParty } from './applications.ts';
import { invalidBody, notSupported } from './errors.ts';
import type { Application, ClientGrant, ResourceServer, SubjectType } from './model.ts';
import { CONSOLE_APPLICATION_ID } from './operators.ts';
import { applyPatch } from './updates.ts';

export interface ClientGrantCreate {
  client_id?: string;
  default_for?: 'third_party_clients';
  audience: string;
  scope?: string[];
  allow_all_scopes?: boolean;
  subject_type?: SubjectType;
}

/** Only the scopes a grant allows can change; whom and what it is for are fixed (spec §4.3). */
export interface ClientGrantPatch {
  scope?: string[] | null;
  allow_all_scopes?: boolean;
}

export type GrantHolder = { client_id: string } | { default_for: 'third_party_clients' };

/** A grant is for one application or the default of every third-party application, never both or neither. */
export function grantHolder(input: Pick<ClientGrantCreate, 'client_id' | 'default_for'>): GrantHolder {
  if (input.client_id !== undefined && input.default_for !== undefined) {
    throw invalidBody('client_id and default_for are mutually exclusive: a grant is for one application or the default for third-party applications');
  }
  if (input.client_id !== undefined) return { client_id: input.client_id };
  if (input.default_for !== undefined) return { default_for: input.default_for };
  throw invalidBody('Missing required property: client_id or default_for');
}

/**
 * A new client grant. `application` is the grant's application (undefined for a default grant); both it and the API
 * have been found by the caller. `subject_type` defaults to "client", as Auth0 was observed to do (spec §12.4).
 */
export function draftClientGrant(input: ClientGrantCreate, api: ResourceServer, application: Application | undefined, id: string, now: string): ClientGrant {
  const holder = grantHolder(input);
  if (api.is_system) {
    if ('default_for' in holder) throw invalidBody(`System APIs such as ${api.identifier} do not accept default grants (default_for)`);
    if (application && isThirdParty(application)) {
      throw invalidBody(`System APIs such as ${api.identifier} can never be granted to a third-party application (${application.client_id})`);
    }
    if (input.subject_type === 'user' && input.client_id !== CONSOLE_APPLICATION_ID) {
      throw invalidBody(`System APIs such as ${api.identifier} give user-delegated access to operators through Gatehouse's console only`);
    }
  }
  const scope = input.scope ?? [];
  checkScopesExist(api, scope);
  return {
    id,
    ...holder,
    audience: api.identifier,
    scope,
    allow_all_scopes: input.allow_all_scopes ?? false,
    subject_type: input.subject_type ?? 'client',
    is_system: false,
    created_at: now,
    updated_at: now,
  };
}

export function patchClientGrant(existing: ClientGrant, patch: ClientGrantPatch, api: ResourceServer, now: string): ClientGrant {
  checkGrantChangeable(existing);
  const scope = patch.scope === null ? [] : patch.scope;
  if (scope) checkScopesExist(api, scope);
  return applyPatch(existing, { scope, allow_all_scopes: patch.allow_all_scopes }, now);
}

/** Grants Gatehouse made for itself (the admin application's Management API grant) are not the API's to change. */
export function checkGrantChangeable(grant: ClientGrant): void {
  if (grant.is_system) throw notSupported(`Client grant ${grant.id} is a system grant: it cannot be changed or deleted`);
}

function checkScopesExist(api: ResourceServer, scopes: readonly string[]): void {
  const defined = new Set(api.scopes.map((s) => s.value));
  const unknown = scopes.find((scope) => !defined.has(scope));
  if (unknown !== undefined) throw invalidBody(`Scope ${unknown} is not defined by the API ${api.identifier}`);
}
