import { describe, expect, it } from '@jest/globals';
import { checkGrantChangeable, draftClientGrant, grantHolder, patchClientGrant } from '../../src/domain/client-grant-rules.ts';
import type { Application, ClientGrant, ResourceServer } from '../../src/domain/model.ts';
import { draftApplication } from '../../src/domain/application-rules.ts';
import { draftResourceServer } from '../../src/domain/resource-server-rules.ts';
import { systemResourceServer } from '../../src/domain/system-api.ts';
import { outcome } from '../support/rules.ts';

const now = '2026-01-01T00:00:00.000Z';
const later = '2026-02-01T00:00:00.000Z';
const api: ResourceServer = draftResourceServer({ identifier: 'https://api.example.com/', scopes: [{ value: 'read' }, { value: 'write' }] }, 'rs1', now);
const system = systemResourceServer('https://id.example.com', now);
const app = (isFirstParty: boolean): Application => ({
  ...draftApplication({ name: 'App', is_first_party: isFirstParty }, { allowPermissiveThirdParty: false }, now), client_id: isFirstParty ? 'first' : 'tpc_third',
});

describe('grantHolder', () => {
  it('is one application or the third-party default, never both nor neither', () => {
    expect(grantHolder({ client_id: 'a' })).toEqual({ client_id: 'a' });
    expect(grantHolder({ default_for: 'third_party_clients' })).toEqual({ default_for: 'third_party_clients' });
    expect(outcome(() => grantHolder({ client_id: 'a', default_for: 'third_party_clients' }))).toMatch(/^invalid: invalid_body: client_id and default_for are mutually exclusive/);
    expect(outcome(() => grantHolder({}))).toBe('invalid: invalid_body: Missing required property: client_id or default_for');
  });
});

describe('draftClientGrant', () => {
  it('defaults subject_type to client, as Auth0 was observed to do, with no scopes', () => {
    expect(draftClientGrant({ client_id: 'first', audience: api.identifier }, api, app(true), 'cgr_1', now)).toEqual({
      id: 'cgr_1', client_id: 'first', audience: api.identifier, scope: [], allow_all_scopes: false, subject_type: 'client',
      is_system: false, created_at: now, updated_at: now,
    });
  });

  it('makes default grants for third-party applications', () => {
    const grant = draftClientGrant({ default_for: 'third_party_clients', audience: api.identifier, scope: ['read'], subject_type: 'user', allow_all_scopes: true }, api, undefined, 'cgr_1', now);
    expect(grant).toMatchObject({ default_for: 'third_party_clients', scope: ['read'], subject_type: 'user', allow_all_scopes: true });
    expect(grant).not.toHaveProperty('client_id');
  });

  it('refuses a scope the API does not define, naming it', () => {
    expect(outcome(() => draftClientGrant({ client_id: 'first', audience: api.identifier, scope: ['read', 'delete'] }, api, app(true), 'cgr_1', now)))
      .toBe('invalid: invalid_body: Scope delete is not defined by the API https://api.example.com/');
  });

  it('never grants a system API to a third-party application, nor by default', () => {
    expect(outcome(() => draftClientGrant({ client_id: 'tpc_third', audience: system.identifier }, system, app(false), 'cgr_1', now)))
      .toMatch(/^invalid: invalid_body: System APIs such as .* can never be granted to a third-party application \(tpc_third\)/);
    expect(outcome(() => draftClientGrant({ default_for: 'third_party_clients', audience: system.identifier }, system, undefined, 'cgr_1', now)))
      .toMatch(/^invalid: invalid_body: System APIs such as .* do not accept default grants/);
    expect(outcome(() => draftClientGrant({ client_id: 'first', audience: system.identifier, scope: ['read:clients'] }, system, app(true), 'cgr_1', now))).toBe('ok');
    expect(outcome(() => draftClientGrant({ client_id: 'tpc_third', audience: api.identifier }, api, app(false), 'cgr_1', now))).toBe('ok');
  });
});

describe('patchClientGrant', () => {
  const grant: ClientGrant = draftClientGrant({ client_id: 'first', audience: api.identifier, scope: ['read'] }, api, app(true), 'cgr_1', now);

  it('changes the scopes only, null meaning none', () => {
    expect(patchClientGrant(grant, { scope: ['write'] }, api, later)).toEqual({ ...grant, scope: ['write'], updated_at: later });
    expect(patchClientGrant(grant, { scope: null }, api, later).scope).toEqual([]);
    expect(patchClientGrant(grant, { allow_all_scopes: true }, api, later)).toEqual({ ...grant, allow_all_scopes: true, updated_at: later });
    expect(outcome(() => patchClientGrant(grant, { scope: ['admin'] }, api, later))).toMatch(/Scope admin is not defined/);
  });

  it('leaves system grants alone', () => {
    const systemGrant = { ...grant, is_system: true };
    expect(outcome(() => patchClientGrant(systemGrant, { scope: [] }, api, later))).toBe('not_supported: operation_not_supported: Client grant cgr_1 is a system grant: it cannot be changed or deleted');
    expect(outcome(() => checkGrantChangeable(systemGrant))).toMatch(/^not_supported: /);
    expect(outcome(() => checkGrantChangeable(grant))).toBe('ok');
  });
});
