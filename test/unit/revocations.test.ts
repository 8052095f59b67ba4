import { describe, expect, it } from '@jest/globals';
import { timeOrderedIdAt } from '../../src/domain/ids.ts';
import type { ClientGrant, ResourceServer, Revocation } from '../../src/domain/model.ts';
import { draftResourceServer } from '../../src/domain/resource-server-rules.ts';
import {
  accessOfApplication, accessOfClientGrant, accessPoliciesTightened, clientGrantNarrowed, everyAccessTo, expiredRevocationsBefore, longestTokenLifetime,
  mayReadRevocations, revocationFeedPage, RevocationIndex, revocationKey, revocationKeysOf, revocationRecord, REVOCATION_FEED_SETTLE_MS,
  REVOCATION_GRACE_SECONDS, type RevokedAccess,
} from '../../src/domain/revocations.ts';

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;
const API = 'https://notes.example.com/';
const LIFETIME = 600;
const CIMD_URL = 'https://agent.example.com/client.json';

const userToken = { clientId: 'app1', subject: 'auth0|u1', grantId: 'g1', issuedAt: NOW - 10 };
const machineToken = { clientId: 'm2m', subject: 'm2m', issuedAt: NOW - 10 };

const indexOf = (...ended: RevokedAccess[]) => {
  const index = new RevocationIndex();
  index.add(ended.map((access) => revocationRecord(access, NOW_MS, LIFETIME)));
  return index;
};

const api = (fields: Partial<Parameters<typeof draftResourceServer>[0]> = {}): ResourceServer => draftResourceServer({
  identifier: API, name: 'Notes', scopes: [{ value: 'read' }, { value: 'write' }], ...fields,
}, 'rs1', new Date(NOW_MS).toISOString());
const grant = (fields: Partial<ClientGrant>): ClientGrant => ({
  id: 'cgr_1', client_id: 'app1', audience: API, scope: ['read', 'write'], allow_all_scopes: false, subject_type: 'user', is_system: false,
  created_at: '', updated_at: '', ...fields,
});

describe('revocation records', () => {
  it('refuse tokens issued until the grace period ends, when what was revoked may come back (a blocked user)', () => {
    const record = revocationRecord({ kind: 'user', userId: 'auth0|u1', gone: false }, NOW_MS, LIFETIME);
    expect(record).toMatchObject({ issued_before: NOW + REVOCATION_GRACE_SECONDS, expires_at: NOW + REVOCATION_GRACE_SECONDS + LIFETIME });
    expect(record.id >= timeOrderedIdAt(NOW_MS)).toBe(true);
  });

  it('refuse every token still alive when nothing can be issued under it again (a grant, a deleted user or application)', () => {
    for (const access of [{ kind: 'grant', grantId: 'g1' }, { kind: 'user', userId: 'u', gone: true }, { kind: 'application', clientId: 'a', gone: true }] as RevokedAccess[]) {
      const record = revocationRecord(access, NOW_MS, LIFETIME);
      expect([access.kind, record.issued_before]).toEqual([access.kind, record.expires_at]);
    }
  });

  it('name what they revoke by a digest, with the audience only for what concerns one API', () => {
    const record = revocationRecord({ kind: 'user', userId: 'auth0|u1', gone: true }, NOW_MS, LIFETIME);
    expect(JSON.stringify(record)).not.toContain('u1');
    expect(record.key).toMatch(/^[\w-]{22}$/);
    expect(record.audience).toBeUndefined();
    expect(revocationRecord({ kind: 'api', audience: API, subjectType: 'user' }, NOW_MS, LIFETIME).audience).toBe(API);
    expect(revocationKey({ kind: 'application_api', clientId: 'app1', audience: API, subjectType: 'user' })).not.toContain('app1');
    expect(revocationKey({ kind: 'user', userId: 'a', gone: true })).toBe(revocationKey({ kind: 'user', userId: 'a', gone: false }));
    expect(revocationKey({ kind: 'user', userId: 'a', gone: true })).not.toBe(revocationKey({ kind: 'application', clientId: 'a', gone: true }));
  });

  it('are kept for the longest token lifetime of the APIs', () => {
    expect(longestTokenLifetime([{ token_lifetime: 600 }, { token_lifetime: 86400 }])).toBe(86400);
    const record = revocationRecord({ kind: 'grant', grantId: 'g' }, NOW_MS, 86400);
    const retention = expiredRevocationsBefore(NOW_MS + (86400 + REVOCATION_GRACE_SECONDS) * 1000, 86400);
    expect(record.id < retention).toBe(false); // still kept at its very last second
    expect(record.id < expiredRevocationsBefore(NOW_MS + (86400 + REVOCATION_GRACE_SECONDS + 1) * 1000, 86400)).toBe(true);
  });
});

describe('RevocationIndex', () => {
  it('refuses a token by its grant, its user, its application, the application\'s access to the API or anyone\'s', () => {
    const cases: [RevokedAccess, typeof userToken | typeof machineToken][] = [
      [{ kind: 'grant', grantId: 'g1' }, userToken],
      [{ kind: 'user', userId: 'auth0|u1', gone: false }, userToken],
      [{ kind: 'application', clientId: 'app1', gone: true }, userToken],
      [{ kind: 'application_api', clientId: 'app1', audience: API, subjectType: 'user' }, userToken],
      [{ kind: 'api', audience: API, subjectType: 'user' }, userToken],
      [{ kind: 'application', clientId: 'm2m', gone: false }, machineToken],
      [{ kind: 'application_api', clientId: 'm2m', audience: API, subjectType: 'client' }, machineToken],
      [{ kind: 'api', audience: API, subjectType: 'client' }, machineToken],
    ];
    for (const [access, token] of cases) expect([access, indexOf(access).refuses(token, API)]).toEqual([access, true]);
  });

  it('keeps accepting what the revocation does not name', () => {
    const cases: [RevokedAccess, typeof userToken | typeof machineToken][] = [
      [{ kind: 'grant', grantId: 'g2' }, userToken],
      [{ kind: 'user', userId: 'auth0|u2', gone: true }, userToken],
      [{ kind: 'application', clientId: 'app2', gone: true }, userToken],
      [{ kind: 'application_api', clientId: 'app1', audience: 'https://other.example.com/', subjectType: 'user' }, userToken],
      [{ kind: 'application_api', clientId: 'app1', audience: API, subjectType: 'client' }, userToken], // its client-credentials grant
      [{ kind: 'api', audience: API, subjectType: 'client' }, userToken],
      [{ kind: 'api', audience: API, subjectType: 'user' }, machineToken],
      [{ kind: 'user', userId: 'm2m', gone: true }, machineToken], // a machine's sub is its client id, never a user's
    ];
    for (const [access, token] of cases) expect([access, indexOf(access).refuses(token, API)]).toEqual([access, false]);
  });

  it('refuses tokens issued before the cutoff only, for what may come back', () => {
    const index = indexOf({ kind: 'user', userId: 'auth0|u1', gone: false });
    expect(index.refuses({ ...userToken, issuedAt: NOW + REVOCATION_GRACE_SECONDS - 1 }, API)).toBe(true);
    expect(index.refuses({ ...userToken, issuedAt: NOW + REVOCATION_GRACE_SECONDS }, API)).toBe(false); // signed in again
    expect(index.refuses({ ...userToken, issuedAt: undefined }, API)).toBe(true);
    const deleted = indexOf({ kind: 'user', userId: 'auth0|u1', gone: true });
    expect(deleted.refuses({ ...userToken, issuedAt: NOW + 60 }, API)).toBe(true);
  });

  it('keeps the widest of two records for one key, and forgets expired ones', () => {
    const index = new RevocationIndex();
    const access: RevokedAccess = { kind: 'user', userId: 'auth0|u1', gone: false };
    const later = revocationRecord(access, NOW_MS + 60_000, LIFETIME);
    index.add([later, revocationRecord(access, NOW_MS, LIFETIME), later]);
    expect(index.size).toBe(1);
    expect(index.refuses({ ...userToken, issuedAt: NOW + 61 }, API)).toBe(true);
    index.forgetExpired(later.expires_at - 1);
    expect(index.size).toBe(1);
    index.forgetExpired(later.expires_at);
    expect(index.size).toBe(0);
    expect(index.refuses({ ...userToken, issuedAt: NOW }, API)).toBe(false);
  });
});

describe('what ends tokens', () => {
  it('a client grant removed or narrowed: its application\'s tokens for the API; a default grant: every application\'s', () => {
    expect(accessOfClientGrant(grant({}), { client_id: 'app1' })).toEqual({ kind: 'application_api', clientId: 'app1', audience: API, subjectType: 'user' });
    expect(accessOfClientGrant(grant({ client_id: undefined, default_for: 'third_party_clients', subject_type: 'client' }), undefined))
      .toEqual({ kind: 'api', audience: API, subjectType: 'client' });
    expect(accessOfClientGrant(grant({ client_id: 'tpc_1' }), { client_id: 'tpc_1', external_client_id: CIMD_URL }))
      .toEqual({ kind: 'application_api', clientId: CIMD_URL, audience: API, subjectType: 'user' });
    expect(everyAccessTo(API)).toEqual([{ kind: 'api', audience: API, subjectType: 'user' }, { kind: 'api', audience: API, subjectType: 'client' }]);
  });

  it('an application deleted or blocked: its tokens, as they name it (a CIMD client by its URL)', () => {
    expect(accessOfApplication({ client_id: 'app1' }, true)).toEqual({ kind: 'application', clientId: 'app1', gone: true });
    const cimd = accessOfApplication({ client_id: 'tpc_1', external_client_id: CIMD_URL }, false);
    expect(indexOf(cimd).refuses({ clientId: CIMD_URL, subject: 'auth0|u1', issuedAt: NOW }, API)).toBe(true);
  });

  it('a grant is narrowed when it loses a scope it allowed, not when it gains one', () => {
    const both = grant({});
    expect(clientGrantNarrowed(api(), both, grant({ scope: ['read'] }))).toBe(true);
    expect(clientGrantNarrowed(api(), grant({ scope: [], allow_all_scopes: true }), both)).toBe(false); // all = read + write
    expect(clientGrantNarrowed(api(), both, grant({ scope: [], allow_all_scopes: true }))).toBe(false);
    expect(clientGrantNarrowed(api(), grant({ scope: [], allow_all_scopes: true }), grant({ scope: ['write'] }))).toBe(true);
  });

  it('an access policy tightened, per subject type', () => {
    const open = api({ subject_type_authorization: { user: { policy: 'allow_all' }, client: { policy: 'require_client_grant' } } });
    expect(accessPoliciesTightened(open, api({ subject_type_authorization: { user: { policy: 'require_client_grant' }, client: { policy: 'require_client_grant' } } }))).toEqual(['user']);
    expect(accessPoliciesTightened(open, api({ subject_type_authorization: { user: { policy: 'allow_all' }, client: { policy: 'deny_all' } } }))).toEqual(['client']);
    expect(accessPoliciesTightened(api({ subject_type_authorization: { user: { policy: 'deny_all' }, client: { policy: 'deny_all' } } }), open)).toEqual([]);
  });
});

describe('the feed', () => {
  const record = (id: string, fields: Partial<Revocation> = {}): Revocation => ({ id, key: `k${id}`, issued_before: NOW, expires_at: NOW + 60, ...fields });

  it('publishes the records for any API or this one, still useful, without their audience', () => {
    const rows = [record('a1'), record('a2', { audience: API }), record('a3', { audience: 'https://other.example.com/' }), record('a4', { expires_at: NOW })];
    const page = revocationFeedPage(rows, API, 10, NOW_MS);
    expect(page.revocations).toEqual([{ id: 'a1', key: 'ka1', issued_before: NOW, expires_at: NOW + 60 }, { id: 'a2', key: 'ka2', issued_before: NOW, expires_at: NOW + 60 }]);
    expect(page.more).toBe(false);
  });

  it('continues after a full page at once, and reads the settle period again after the last', () => {
    const full = revocationFeedPage([record('b1'), record('b2')], API, 2, NOW_MS);
    expect({ more: full.more, next: full.next }).toEqual({ more: true, next: 'b2' });
    expect(revocationFeedPage([record('b1')], API, 2, NOW_MS).next).toBe(timeOrderedIdAt(NOW_MS - REVOCATION_FEED_SETTLE_MS));
  });

  it('is read by the API\'s own backend only: first-party, with a secret, holding its own client grant for itself', () => {
    const backend = { client_id: 'rs', is_first_party: true, client_secret_hash: 'h' };
    const own = grant({ client_id: 'rs', subject_type: 'client' });
    expect(mayReadRevocations(backend, [own], API)).toBe(true);
    expect(mayReadRevocations(backend, [grant({ client_id: 'rs', subject_type: 'user' })], API)).toBe(false);
    expect(mayReadRevocations(backend, [grant({ client_id: 'rs', subject_type: 'client', audience: 'https://other.example.com/' })], API)).toBe(false);
    expect(mayReadRevocations(backend, [grant({ client_id: undefined, default_for: 'third_party_clients', subject_type: 'client' })], API)).toBe(false);
    expect(mayReadRevocations({ ...backend, is_first_party: false }, [own], API)).toBe(false);
    expect(mayReadRevocations({ client_id: 'rs', is_first_party: true }, [own], API)).toBe(false);
  });
});

describe('revocationKeysOf', () => {
  it('computes one key per thing that could end the token, without the user\'s key for a machine', () => {
    expect(revocationKeysOf(userToken, API)).toHaveLength(5);
    expect(revocationKeysOf(machineToken, API)).toHaveLength(3);
  });
});
