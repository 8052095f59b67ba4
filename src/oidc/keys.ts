import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { SIGNING_ALGS, type KeyMaterial, type SigningAlg, type SigningKey } from '../domain/model.ts';
import { signingKids, stageSigningKeys } from '../domain/signing-keys.ts';
import type { Collection } from '../store/ports.ts';

/**
 * One key per algorithm an API or application may choose (SIGNING_ALGS): oidc-provider picks a key by its `alg`, and one
 * RSA key serving RS256, RS512 and PS256 alike would be a key used for several algorithms.
 */
async function generateSigningKey(alg: SigningAlg): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg.startsWith('ES') ? {} : { modulusLength: 2048 }) });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kty: jwk.kty as string, kid, alg, use: 'sig', created_at: new Date().toISOString() };
}

export const generateSigningKeys = (algorithms: readonly SigningAlg[] = SIGNING_ALGS) => Promise.all(algorithms.map(generateSigningKey));

export const newCookieKey = () => randomBytes(32).toString('base64url');

/**
 * Loads the key material shared by every process, creating it on first start. Two processes starting at once both
 * try to insert; the loser reads the winner's keys.
 */
export async function ensureKeyMaterial(keys: Collection<KeyMaterial>): Promise<KeyMaterial> {
  const existing = await keys.get('keys');
  if (!existing) {
    const material: KeyMaterial = { id: 'keys', signing: await generateSigningKeys(), cookies: [newCookieKey()] };
    if (await keys.insertIfAbsent(material)) return material;
    return (await keys.get('keys')) as KeyMaterial;
  }
  // Key material from a version with fewer algorithms gets a key for each missing one (they could not sign before).
  const missing = SIGNING_ALGS.filter((alg) => !existing.signing.some((key) => key.alg === alg));
  if (!missing.length) return existing;
  await keys.update('keys', { set: { signing: [...existing.signing, ...(await generateSigningKeys(missing))] } });
  return (await keys.get('keys')) as KeyMaterial; // what the store holds, should another process have added its own at once
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
    if (!(SIGNING_ALGS as readonly string[]).includes(String(key.alg))) throw new Error(`signingKeys[${i}] (${key.kid}): alg must be one of ${SIGNING_ALGS.join(', ')}`);
    if (!('d' in key)) throw new Error(`signingKeys[${i}] (${key.kid}) is a public key: Gatehouse needs the private key to sign`);
  });
  return keys.map((key) => ({ use: 'sig', ...key, created_at: key.created_at ?? new Date().toISOString() }));
}
