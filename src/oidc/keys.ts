import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import type { KeyMaterial, SigningKey } from '../domain/model.ts';
import { signingKids, stageSigningKeys } from '../domain/signing-keys.ts';
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

/** A staged rotation: new keys, published at once, that sign from `activatesAt` (rules in src/domain/signing-keys.ts). */
export async function rotateSigningKeys(material: KeyMaterial, activatesAt: number): Promise<KeyMaterial> {
  return stageSigningKeys(material, await generateSigningKeys(), activatesAt);
}

/**
 * The private JWKs as oidc-provider wants them at `now`: our bookkeeping members removed, and every key that does not
 * sign now marked `key_ops: ["verify"]`, which keeps oidc-provider from choosing it to sign (it still verifies with it,
 * and publishes it).
 */
export function providerJwks(material: KeyMaterial, now = Date.now()) {
  const signing = signingKids(material, now);
  return {
    keys: material.signing.map(({ created_at: _created, activates_at: _activates, ...jwk }) => (signing.has(jwk.kid) ? jwk : { ...jwk, key_ops: ['verify'] })),
  };
}

/**
 * Our public keys for jose's `jwtVerify`, as they are now: `keys` gives the live key material, and the key set is built
 * again only when it changes (a rotation reaching this process).
 */
export function currentPublicKeys(keys: () => KeyMaterial): () => ReturnType<typeof createLocalJWKSet> {
  let built: { material: KeyMaterial; jwks: ReturnType<typeof createLocalJWKSet> } | undefined;
  return () => {
    const material = keys();
    if (built?.material !== material) built = { material, jwks: createLocalJWKSet(publicJwks(material)) };
    return built.jwks;
  };
}

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
