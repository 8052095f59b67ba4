import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { KeyMaterial, SigningKey } from '../domain/model.ts';
import type { Collection } from '../store/ports.ts';

/** One RSA key (RS256, RS512, PS256) and one P-256 key (ES256): every signing_alg an API may choose. */
const KEY_ALGORITHMS = ['RS256', 'ES256'] as const;

async function generateSigningKey(alg: (typeof KEY_ALGORITHMS)[number]): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kty: jwk.kty as string, kid, alg, use: 'sig', created_at: new Date().toISOString() };
}

export const generateSigningKeys = () => Promise.all(KEY_ALGORITHMS.map(generateSigningKey));

export const newCookieKey = () => randomBytes(32).toString('base64url');

/**
 * Loads the key material shared by every process, creating it on first start. Two processes starting at once both
 * try to insert; the loser reads the winner's keys.
 */
export async function ensureKeyMaterial(keys: Collection<KeyMaterial>): Promise<KeyMaterial> {
  const existing = await keys.get('keys');
  if (existing) return existing;
  const material: KeyMaterial = { id: 'keys', signing: await generateSigningKeys(), cookies: [newCookieKey()] };
  if (await keys.insertIfAbsent(material)) return material;
  return (await keys.get('keys')) as KeyMaterial;
}

/** New keys go first, so they sign; older keys stay published so tokens they signed still verify. */
export async function rotateSigningKeys(material: KeyMaterial): Promise<KeyMaterial> {
  return { ...material, signing: [...(await generateSigningKeys()), ...material.signing] };
}

/** Drops every key but the newest of each algorithm. */
export function retireOldSigningKeys(material: KeyMaterial): KeyMaterial {
  const seen = new Set<string>();
  return { ...material, signing: material.signing.filter((key) => !seen.has(key.alg) && Boolean(seen.add(key.alg))) };
}

/** The private JWKs as oidc-provider wants them (our bookkeeping members removed). */
export const providerJwks = (material: KeyMaterial) => ({
  keys: material.signing.map(({ created_at: _created, ...jwk }) => jwk),
});

export const publicJwks = (material: KeyMaterial) => ({
  keys: material.signing.map(({ kid, kty, alg, use, n, e, crv, x, y }) => JSON.parse(JSON.stringify({ kid, kty, alg, use, n, e, crv, x, y })) as Record<string, string>),
});

/** Keys a host supplies must be private signing keys Gatehouse can use: refuse anything else at start, by name. */
export function checkSigningKeys(keys: SigningKey[]): SigningKey[] {
  if (!keys.length) throw new Error('signingKeys: give at least one private signing key, or leave the option out');
  keys.forEach((key, i) => {
    if (!key.kid || typeof key.kid !== 'string') throw new Error(`signingKeys[${i}] needs a kid`);
    if (!['RS256', 'RS512', 'PS256', 'ES256'].includes(String(key.alg))) throw new Error(`signingKeys[${i}] (${key.kid}): alg must be RS256, RS512, PS256 or ES256`);
    if (!('d' in key)) throw new Error(`signingKeys[${i}] (${key.kid}) is a public key: Gatehouse needs the private key to sign`);
  });
  return keys.map((key) => ({ use: 'sig', ...key, created_at: key.created_at ?? new Date().toISOString() }));
}
