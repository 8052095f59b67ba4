import { describe, expect, it } from '@jest/globals';
import { newClientId, newClientSecret, newTimeOrderedId, pooledRandomBytes, randomAlphanumeric } from '../../src/domain/ids.ts';

describe('random ids and secrets', () => {
  it('draws fresh bytes of the size asked for, across refills of the pool and beyond its size', () => {
    const draws = Array.from({ length: 2000 }, (_, i) => pooledRandomBytes(1 + (i % 48)));
    expect(draws.every((bytes, i) => bytes.length === 1 + (i % 48))).toBe(true);
    const long = draws.filter((bytes) => bytes.length >= 12).map((bytes) => bytes.toString('hex'));
    expect(new Set(long).size).toBe(long.length);
    expect(pooledRandomBytes(10_000)).toHaveLength(10_000);
    // Not all zeros: a wiped pool handed out again would show as zero bytes.
    const zeros = draws.flatMap((bytes) => [...bytes]).filter((byte) => byte === 0).length / draws.reduce((n, bytes) => n + bytes.length, 0);
    expect(zeros).toBeLessThan(0.02);
  });

  it('makes ids and secrets in their formats, each different', () => {
    expect(newClientId(true)).toMatch(/^tpc_[A-Za-z0-9]{32}$/);
    expect(newClientId(false)).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(Buffer.from(newClientSecret(), 'base64url')).toHaveLength(48);
    expect(randomAlphanumeric(7)).toMatch(/^[A-Za-z0-9]{7}$/);
    const ids = Array.from({ length: 1000 }, () => newTimeOrderedId(1_700_000_000_000));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids); // the sequence keeps the order within one millisecond
  });
});
