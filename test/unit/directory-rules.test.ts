import { describe, expect, it } from '@jest/globals';
import { draftConnection } from '../../src/domain/connection-rules.ts';
import { draftUser, normalizeEmail, patchUser } from '../../src/domain/user-rules.ts';
import { outcome } from '../support/rules.ts';

const now = '2026-01-01T00:00:00.000Z';
const later = '2026-02-01T00:00:00.000Z';

describe('connections', () => {
  it('are not domain-level unless promoted', () => {
    expect(draftConnection({ name: 'db', strategy: 'auth0' }, 'con_1', now)).toEqual({
      id: 'con_1', name: 'db', strategy: 'auth0', is_domain_connection: false, enabled_clients: [], created_at: now, updated_at: now,
    });
    expect(draftConnection({ name: 'db', strategy: 'auth0', is_domain_connection: true, display_name: 'DB' }, 'con_1', now))
      .toMatchObject({ is_domain_connection: true, display_name: 'DB' });
  });
});

describe('users', () => {
  const user = draftUser({ connection: 'db', email: ' Jane@Example.COM ', password: 'x', name: 'Jane' }, 'auth0|1', 'hash', now);

  it('keep emails lower-cased and unverified by default', () => {
    expect(normalizeEmail(' Jane@Example.COM ')).toBe('jane@example.com');
    expect(user).toEqual({
      user_id: 'auth0|1', email: 'jane@example.com', email_verified: false, name: 'Jane', connection: 'db', blocked: false, logins_count: 0,
      created_at: now, updated_at: now, password_hash: 'hash',
    });
  });

  it('lose their verification with a new email, unless the request says otherwise', () => {
    const verified = { ...user, email_verified: true };
    expect(patchUser(verified, { email: 'JANE@example.com' }, undefined, later).email_verified).toBe(true);
    expect(patchUser(verified, { email: 'new@example.com' }, undefined, later)).toMatchObject({ email: 'new@example.com', email_verified: false });
    expect(patchUser(verified, { email: 'new@example.com', email_verified: true }, undefined, later).email_verified).toBe(true);
  });

  it('change password through its hash, and never move to another connection', () => {
    expect(patchUser(user, { password: 'secret', connection: 'db', blocked: true }, 'new-hash', later)).toEqual({ ...user, password_hash: 'new-hash', blocked: true, updated_at: later });
    expect(outcome(() => patchUser(user, { connection: 'other' }, undefined, later))).toBe('invalid: invalid_body: connection cannot be changed: user auth0|1 belongs to db');
  });
});
