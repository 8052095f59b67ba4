import { hash, verify } from '@node-rs/argon2';

/** `Algorithm.Argon2id` (a const enum, which type stripping cannot inline). */
const ARGON2ID = 2;

/**
 * Argon2id at OWASP's recommended cost (19 MiB, 2 passes). Hashing runs on libuv's thread pool, off the event loop.
 * Tests may lower the cost through GATEHOUSE_PASSWORD_COST=low; never use that in production.
 */
const COST = process.env.GATEHOUSE_PASSWORD_COST === 'low'
  ? { memoryCost: 1024, timeCost: 1 }
  : { memoryCost: 19456, timeCost: 2 };

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
