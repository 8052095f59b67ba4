import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Adapter } from 'oidc-provider';
import type { DurableStore, EphemeralStore } from '../../src/store/ports.ts';
import { eachBackend, oidcBackends } from '../support/backends.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

eachBackend(oidcBackends, (open) => {
  let store: EphemeralStore | DurableStore;
  const adapter = (model: string): Adapter => store.oidcAdapter(model);
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('upserts and finds payloads, and destroys them', async () => {
    const payload = { jti: 'a', kind: 'AccessToken', clientId: 'c', grantId: 'g', resources: { 'https://api.example.com/': 'read' } };
    await adapter('AccessToken').upsert('a', payload, 60);
    expect(await adapter('AccessToken').find('a')).toEqual(payload);
    expect(await adapter('RefreshToken').find('a')).toBeUndefined();
    await adapter('AccessToken').upsert('a', { ...payload, clientId: 'd' }, 60);
    expect((await adapter('AccessToken').find('a'))?.clientId).toBe('d');
    await adapter('AccessToken').destroy('a');
    expect(await adapter('AccessToken').find('a')).toBeUndefined();
  });

  it('lets payloads expire after expiresIn, and keeps those without one', async () => {
    await adapter('AuthorizationCode').upsert('short', { jti: 'short' }, 1);
    await adapter('Grant').upsert('forever', { jti: 'forever' });
    expect(await adapter('AuthorizationCode').find('short')).toBeDefined();
    await sleep(2100);
    expect(await adapter('AuthorizationCode').find('short')).toBeUndefined();
    expect(await adapter('Grant').find('forever')).toBeDefined();
  });

  it('consumes once: a second consumption throws, so two redemptions can never both succeed', async () => {
    await adapter('AuthorizationCode').upsert('code', { jti: 'code', grantId: 'g' }, 60);
    await adapter('AuthorizationCode').consume('code');
    const consumed = await adapter('AuthorizationCode').find('code');
    expect(typeof consumed?.consumed).toBe('number');
    await expect(adapter('AuthorizationCode').consume('code')).rejects.toMatchObject({ error: "invalid_grant" });
    await adapter('AuthorizationCode').consume('missing'); // nothing to consume is not an error
    expect(await adapter('AuthorizationCode').find('missing')).toBeUndefined();
  });

  it('finds sessions by uid and device codes by user code, following re-keying and destruction', async () => {
    await adapter('Session').upsert('s1', { jti: 's1', uid: 'u1', accountId: 'acc' }, 60);
    expect((await adapter('Session').findByUid('u1'))?.jti).toBe('s1');
    await adapter('Session').destroy('s1');
    await adapter('Session').upsert('s2', { jti: 's2', uid: 'u1', accountId: 'acc' }, 60);
    expect((await adapter('Session').findByUid('u1'))?.jti).toBe('s2');
    await adapter('Session').destroy('s2');
    expect(await adapter('Session').findByUid('u1')).toBeUndefined();
    await adapter('DeviceCode').upsert('d1', { jti: 'd1', userCode: 'ABCD-EFGH' }, 60);
    expect((await adapter('DeviceCode').findByUserCode('ABCD-EFGH'))?.jti).toBe('d1');
  });

  it('revokes every token of a grant, and only those', async () => {
    await adapter('RefreshToken').upsert('r1', { jti: 'r1', grantId: 'g1' }, 60);
    await adapter('RefreshToken').upsert('r2', { jti: 'r2', grantId: 'g1' }, 120);
    await adapter('RefreshToken').upsert('r3', { jti: 'r3', grantId: 'g2' }, 60);
    await adapter('AccessToken').upsert('a1', { jti: 'a1', grantId: 'g1' }, 60);
    await adapter('RefreshToken').revokeByGrantId('g1');
    expect(await adapter('RefreshToken').find('r1')).toBeUndefined();
    expect(await adapter('RefreshToken').find('r2')).toBeUndefined();
    expect(await adapter('RefreshToken').find('r3')).toBeDefined();
    expect(await adapter('AccessToken').find('a1')).toBeDefined();
    await adapter('AccessToken').revokeByGrantId('g1');
    expect(await adapter('AccessToken').find('a1')).toBeUndefined();
  });
}, 'oidc-provider Adapter port', describe, describe.skip);
