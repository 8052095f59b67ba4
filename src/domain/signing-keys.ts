import type { KeyMaterial, SigningKey } from './model.ts';

/** When a key signs from: its activation time, or its creation for keys made before staged rotation existed. */
const signsFrom = (key: SigningKey) => Date.parse(key.activates_at ?? key.created_at);

/**
 * Which keys sign at `now`: for each algorithm, the newest key whose activation time has come. Every other key is
 * published and verifies only: older ones for the tokens they signed, newer ones so that relying parties know them
 * before the first token signed with them arrives.
 */
export function signingKids(material: KeyMaterial, now: number): Set<string> {
  const newest = new Map<string, SigningKey>();
  for (const key of material.signing) {
    if (signsFrom(key) > now) continue;
    const current = newest.get(key.alg);
    if (!current || signsFrom(key) > signsFrom(current)) newest.set(key.alg, key);
  }
  return new Set([...newest.values()].map((key) => key.kid));
}

/** Adds keys that are published at once and sign from `activatesAt` (a staged rotation). */
export function stageSigningKeys(material: KeyMaterial, keys: readonly SigningKey[], activatesAt: number): KeyMaterial {
  const activates = new Date(activatesAt).toISOString();
  return { ...material, signing: [...keys.map((key) => ({ ...key, activates_at: activates })), ...material.signing] };
}

/**
 * Drops, for each algorithm, the keys older than the one signing now (run once the tokens they signed have expired);
 * keys staged for later stay.
 */
export function retireSigningKeys(material: KeyMaterial, now: number): KeyMaterial {
  const signing = signingKids(material, now);
  const since = new Map(material.signing.filter((key) => signing.has(key.kid)).map((key) => [key.alg, signsFrom(key)]));
  return { ...material, signing: material.signing.filter((key) => signing.has(key.kid) || signsFrom(key) > (since.get(key.alg) ?? Infinity)) };
}
