import { hash, verify } from '@node-rs/argon2';

/** `Algorithm.Argon2id` (a const enum, which type stripping cannot inline). */
const ARGON2ID = 2;

/**
 * Argon2id costs (memory in KiB, passes). By default OWASP's first recommendation (19 MiB, 2 passes); hashing runs on
 * libuv's thread pool, off the event loop. GATEHOUSE_PASSWORD_COST selects another for new hashes (existing hashes
 * carry their own cost): `keycloak` is Keycloak's default (7 MiB, 5 passes, an equivalent on OWASP's list), used by
 * `npm run bench` to compare logins with Keycloak's sizing figures; `low` is for tests only, never production.
 */
const COSTS = {
  owasp: { memoryCost: 19456, timeCost: 2 },
  keycloak: { memoryCost: 7168, timeCost: 5 },
  low: { memoryCost: 1024, timeCost: 1 },
};
const selected = process.env.GATEHOUSE_PASSWORD_COST;
const COST = selected === 'keycloak' || selected === 'low' ? COSTS[selected] : COSTS.owasp;

export const hashPassword = (password: string) => hash(password, { algorithm: ARGON2ID, parallelism: 1, ...COST });

/** A hash that no password matches, verified when the account does not exist so that timing does not reveal it. */
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(password: string, storedHash: string | undefined): Promise<boolean> {
  if (!storedHash) {
    decoyHash ??= hashPassword(`decoy-${Math.random()}`);
    await verify(await decoyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
