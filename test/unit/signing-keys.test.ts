import { describe, expect, it } from '@jest/globals';
import type { KeyMaterial, SigningKey } from '../../src/domain/model.ts';
import { retireSigningKeys, signingKids, stageSigningKeys } from '../../src/domain/signing-keys.ts';

const t = (minutes: number) => Date.parse('2026-01-01T00:00:00.000Z') + minutes * 60_000;
const key = (kid: string, alg: string, createdAt: number, activatesAt?: number): SigningKey => ({
  kid, kty: alg === 'ES256' ? 'EC' : 'RSA', alg, created_at: new Date(createdAt).toISOString(),
  ...(activatesAt === undefined ? {} : { activates_at: new Date(activatesAt).toISOString() }),
});
const material = (...signing: SigningKey[]): KeyMaterial => ({ id: 'keys', signing, cookies: [] });

describe('staged signing keys', () => {
  const original = material(key('rsa-0', 'RS256', t(0)), key('ec-0', 'ES256', t(0)));
  const staged = stageSigningKeys(original, [key('rsa-1', 'RS256', t(10)), key('ec-1', 'ES256', t(10))], t(25));

  it('sign per algorithm with the newest key whose time has come, never with a key staged for later', () => {
    expect(signingKids(original, t(5))).toEqual(new Set(['rsa-0', 'ec-0']));
    expect(signingKids(staged, t(24))).toEqual(new Set(['rsa-0', 'ec-0']));
    expect(signingKids(staged, t(25))).toEqual(new Set(['rsa-1', 'ec-1']));
    expect(staged.signing.map((k) => k.kid)).toEqual(['rsa-1', 'ec-1', 'rsa-0', 'ec-0']); // all published
  });

  it('retire only keys older than the signing ones, keeping keys staged for later', () => {
    expect(retireSigningKeys(staged, t(24)).signing.map((k) => k.kid)).toEqual(['rsa-1', 'ec-1', 'rsa-0', 'ec-0']);
    expect(retireSigningKeys(staged, t(30)).signing.map((k) => k.kid)).toEqual(['rsa-1', 'ec-1']);
    const twice = stageSigningKeys(retireSigningKeys(staged, t(30)), [key('rsa-2', 'RS256', t(40))], t(60));
    expect(retireSigningKeys(twice, t(45)).signing.map((k) => k.kid)).toEqual(['rsa-2', 'rsa-1', 'ec-1']);
  });
});
