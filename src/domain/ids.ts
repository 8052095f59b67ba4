import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Bytes from the CSPRNG, drawn from a pool refilled 4 KiB at a time (as Node's randomUUID does): each call into
 * OpenSSL costs about as much whatever its size (1.5 µs for 8 bytes, 2.4 µs for 4 KiB), and a registration needs
 * several. Bytes handed out are wiped from the pool, so it never holds a copy of an issued secret.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

export function pooledRandomBytes(size: number): Buffer {
  if (size > pool.length) return randomFillSync(Buffer.alloc(size));
  if (poolOffset + size > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + size));
  pool.fill(0, poolOffset, poolOffset + size);
  poolOffset += size;
  return bytes;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniformly random alphanumerics (rejection sampling keeps every character equally likely). */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of pooledRandomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

/** Strict third-party applications get Auth0's `tpc_` prefix; everything else a plain 32-character id. */
export const newClientId = (strictThirdParty: boolean) => (strictThirdParty ? `tpc_${randomAlphanumeric(32)}` : randomAlphanumeric(32));

/** 384 bits of entropy: a fast hash is the right way to store it (a password KDF would only slow the token endpoint). */
export const newClientSecret = () => pooledRandomBytes(48).toString('base64url');

/** An HS256 API's signing secret: 256 bits, as RFC 7518 §3.2 asks of an HS256 key. */
export const newSigningSecret = () => pooledRandomBytes(32).toString('base64url');

export const hashSecret = (secret: string) => hash('sha256', secret, 'hex');

export function secretMatches(secret: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = hash('sha256', secret, 'buffer');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A 256-bit key given as base64 or base64url text (key-encryption keys, the artifact key); throws a RangeError otherwise. */
export function decodeKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new RangeError(`must be 32 bytes in base64 (got ${key.length} bytes); make one with: openssl rand -base64 32`);
  return key;
}

export const newId = (prefix: string, length = 16) => `${prefix}${randomAlphanumeric(length)}`;
export const newHexId = () => pooledRandomBytes(12).toString('hex');

let lastMillis = 0;
let sequence = 0;

/**
 * Ids that sort by creation time, as strings: 12 hex digits of milliseconds, a per-process sequence within the same
 * millisecond, then randomness (for ids made by several processes at once). Newest-first pages and retention rely on it.
 */
export function newTimeOrderedId(now = Date.now()): string {
  sequence = now === lastMillis ? sequence + 1 : 0;
  lastMillis = now;
  return `${now.toString(16).padStart(12, '0')}${(sequence & 0xffff).toString(16).padStart(4, '0')}${pooledRandomBytes(8).toString('hex')}`;
}

/** The smallest time-ordered id made at or after `time` (ms): every older id sorts before it. */
export const timeOrderedIdAt = (time: number) => time.toString(16).padStart(12, '0');
