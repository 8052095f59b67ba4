import { describe, expect, it } from '@jest/globals';
import { draftClientGrant } from '../../src/domain/client-grant-rules.ts';
import { patchConnection, signupOpen } from '../../src/domain/connection-rules.ts';
import { connectionUsableBy } from '../../src/domain/connections.ts';
import type { Connection } from '../../src/domain/model.ts';
import {
  checkOperatorRemovable, CONSOLE_APPLICATION_ID, draftInvitation, invitationExpired, newOperatorProblems, OPERATOR_CONNECTION, OPERATOR_CONNECTION_ID, roleScopes,
} from '../../src/domain/operators.ts';
import { MANAGEMENT_API_SCOPES, systemResourceServer } from '../../src/domain/system-api.ts';
import { outcome } from '../support/rules.ts';

const expectRuleError = (run: () => unknown, kind: string, message: RegExp) => expect(outcome(run)).toMatch(new RegExp(`^${kind}: [a-z_]+: .*${message.source}`));

const now = '2026-01-01T00:00:00.000Z';
const connection = (fields: Partial<Connection>): Connection => ({
  id: 'con_1', name: 'Users', strategy: 'auth0', is_domain_connection: false, enabled_clients: [], created_at: now, updated_at: now, ...fields,
});
const operators = connection({ id: OPERATOR_CONNECTION_ID, name: OPERATOR_CONNECTION, enabled_clients: [CONSOLE_APPLICATION_ID] });
const consoleApp = { client_id: CONSOLE_APPLICATION_ID, is_first_party: true };
const firstParty = { client_id: 'app1', is_first_party: true };
const thirdParty = { client_id: 'tpc_1', is_first_party: false };

describe('roles', () => {
  it('admin has every Management API scope; viewer the read: ones, operators included', () => {
    expect(roleScopes('admin')).toEqual([...MANAGEMENT_API_SCOPES]);
    expect(roleScopes('viewer')).toContain('read:operators');
    expect(roleScopes('viewer').every((scope) => scope.startsWith('read:'))).toBe(true);
    expect(roleScopes('viewer').length).toBe(MANAGEMENT_API_SCOPES.filter((scope) => scope.startsWith('read:')).length);
  });
});

describe('the operators\' connection', () => {
  it('serves the console only, whatever it lists or is set to; the console uses nothing else', () => {
    expect(connectionUsableBy(consoleApp, operators)).toBe(true);
    expect(connectionUsableBy(firstParty, operators)).toBe(false);
    expect(connectionUsableBy(firstParty, { ...operators, enabled_clients: [] })).toBe(false);
    expect(connectionUsableBy(thirdParty, { ...operators, is_domain_connection: true })).toBe(false);
    expect(connectionUsableBy(consoleApp, connection({ is_domain_connection: true }))).toBe(false);
    expect(connectionUsableBy(consoleApp, connection({ enabled_clients: [] }))).toBe(false);
    expect(connectionUsableBy(firstParty, connection({}))).toBe(true);
  });

  it('cannot be promoted, given other applications or renamed through the Management API', () => {
    for (const patch of [{ is_domain_connection: true }, { enabled_clients: ['app1'] }, { display_name: 'Staff' }]) {
      expectRuleError(() => patchConnection(operators, patch, now), 'not_supported', /reserved for Gatehouse's operators/);
    }
    expect(patchConnection(connection({}), { is_domain_connection: true }, now).is_domain_connection).toBe(true);
  });

  it('takes no sign-up: operators are invited', () => {
    expect(signupOpen(operators)).toBe(false);
    expect(signupOpen(connection({}))).toBe(true);
  });

  it('is the only way to user-delegated access to the Management API: only the console may hold such a grant', () => {
    const system = systemResourceServer('https://id.example.com', now);
    expectRuleError(() => draftClientGrant({ client_id: 'app1', audience: system.identifier, subject_type: 'user' }, system, { ...firstParty } as never, 'g', now), 'invalid', /console only/);
    expect(draftClientGrant({ client_id: CONSOLE_APPLICATION_ID, audience: system.identifier, subject_type: 'user', allow_all_scopes: true }, system, consoleApp as never, 'g', now).subject_type).toBe('user');
  });
});

describe('invitations', () => {
  it('store the digest of their secret, a lower-cased email, and expire after 72 hours', () => {
    const at = new Date(now);
    const invitation = draftInvitation({ email: 'Vic@Ops.Example', role: 'viewer' }, { id: 'i1', tokenHash: 'abc' }, 'auth0|1', at);
    expect(invitation).toEqual({ id: 'i1', token_hash: 'abc', email: 'vic@ops.example', role: 'viewer', invited_by: 'auth0|1', expires_at: '2026-01-04T00:00:00.000Z', created_at: now });
    expect(invitationExpired(invitation, new Date('2026-01-03T23:59:59.000Z'))).toBe(false);
    expect(invitationExpired(invitation, new Date('2026-01-04T00:00:00.000Z'))).toBe(true);
  });

  it('say which field is wrong when someone accepts one', () => {
    expect(newOperatorProblems({ email: 'jo@example.com', password: 'long enough' })).toEqual({});
    expect(Object.keys(newOperatorProblems({ email: 'not an email', password: 'short' }))).toEqual(['email', 'password']);
  });
});

describe('removing operators', () => {
  it('never yourself, never the last admin', () => {
    expectRuleError(() => checkOperatorRemovable({ user_id: 'a', operator_role: 'admin' }, 'a', 3), 'invalid', /yourself/);
    expectRuleError(() => checkOperatorRemovable({ user_id: 'b', operator_role: 'admin' }, 'a', 0), 'invalid', /last admin/);
    expect(() => checkOperatorRemovable({ user_id: 'b', operator_role: 'viewer' }, 'a', 0)).not.toThrow();
    expect(() => checkOperatorRemovable({ user_id: 'b', operator_role: 'admin' }, undefined, 1)).not.toThrow();
  });
});
