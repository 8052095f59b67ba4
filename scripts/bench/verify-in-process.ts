/**
 * Scenario 4 without HTTP, for a busy machine: the CPU time of `requireAccessToken` (with and without following
 * revocations) against a bare `jose` jwtVerify, called in one process, interleaved round by round so that both see
 * the same machine. `node scripts/bench/verify-in-process.ts [rounds] [verifications per round]`.
 */
import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { revocationRecord } from '../../src/domain/revocations.ts';
import { requireAccessToken } from '../../src/http/resource-server.ts';
import { followRevocations } from '../../src/http/revocation-watch.ts';

const ISSUER = 'https://gatehouse.bench.example';
const AUDIENCE = 'https://api.bench.example/';
const REVOCATIONS = 1000;
const rounds = Number(process.argv[2] ?? 20);
const perRound = Number(process.argv[3] ?? 2000);

async function signedToken(alg: 'ES256' | 'RS256') {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg };
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ client_id: 'app1', scope: 'read:items', grant_id: randomBytes(16).toString('hex') })
    .setProtectedHeader({ alg, kid: 'k1', typ: 'at+jwt' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('auth0|u1')
    .setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey);
  return { token, jwks: { keys: [jwk] } };
}

/** Calls an Express handler without Express: resolves when it calls next(), throws when it answers anything. */
function runner(handler: RequestHandler, token: string) {
  const req = { get: (name: string) => (name.toLowerCase() === 'authorization' ? `Bearer ${token}` : undefined) } as unknown as Request;
  const res = { status() { throw new Error('refused'); } } as unknown as Response;
  return () => new Promise<void>((resolve, reject) => {
    try {
      void handler(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
    } catch (err) {
      reject(err);
    }
  });
}

/** CPU microseconds per verification over one round. */
async function round(verify: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < perRound; i += 1) await verify();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / perRound;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

for (const alg of ['ES256', 'RS256'] as const) {
  const { token, jwks } = await signedToken(alg);
  const keys = createLocalJWKSet(jwks);
  const nowMs = Date.now();
  const records = Array.from({ length: REVOCATIONS }, () => revocationRecord({ kind: 'grant', grantId: randomBytes(12).toString('hex') }, nowMs, 3600));
  const revocations = followRevocations(AUDIENCE, async () => ({ revocations: records, next: '0', more: false }), { pollSeconds: 3600 });
  const contenders: [string, () => Promise<unknown>][] = [
    ['jose jwtVerify', () => jwtVerify(token, keys, { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' })],
    ['requireAccessToken', runner(requireAccessToken({ issuer: ISSUER, audience: AUDIENCE, jwks }), token)],
    [`requireAccessToken + revocations (${REVOCATIONS} known)`, runner(requireAccessToken({ issuer: ISSUER, audience: AUDIENCE, jwks, revocations }), token)],
  ];
  for (const [, verify] of contenders) await round(verify); // warm-up
  const samples = contenders.map(() => [] as number[]);
  for (let r = 0; r < rounds; r += 1) {
    // Each round in another order, so that none always runs right after another.
    for (let k = 0; k < contenders.length; k += 1) {
      const i = (r + k) % contenders.length;
      samples[i]?.push(await round((contenders[i] as [string, () => Promise<unknown>])[1]));
    }
  }
  const base = median(samples[0] as number[]);
  for (const [i, [name]] of contenders.entries()) {
    const cost = median(samples[i] as number[]);
    process.stdout.write(`${alg} ${name}: ${cost.toFixed(1)} µs CPU per verification (median of ${rounds} rounds of ${perRound}), ${(cost / base).toFixed(3)}x jose\n`);
  }
  revocations.close();
}
