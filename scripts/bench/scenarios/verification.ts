import type { JSONWebKeySet } from 'jose';
import { HttpClient } from '../lib/browser.ts';
import { ServerProcess } from '../lib/processes.ts';
import { apiIdentifier, SIGNING_ALGS } from '../servers/fixtures.ts';
import type { VerifierArgs } from '../servers/verifier.ts';
import { addComparison, measureServer, preflight, tokenRequest, type BenchContext, type ProtocolServer } from './context.ts';

/** Revocations the API knows while it is measured (none of them the benchmark tokens'). */
const REVOCATIONS = 1000;

/**
 * 4. An API verifying Gatehouse's access tokens (issued by `gatehouse`): `requireAccessToken`, following the API's
 * revocations from Gatehouse's feed (and knowing `REVOCATIONS` of them), against a bare `jose` jwtVerify in the same
 * process.
 */
export async function verificationScenario(context: BenchContext, gatehouse: ProtocolServer): Promise<void> {
  const { origin } = gatehouse.ready;
  const tokens = new Map<string, string>();
  for (const alg of SIGNING_ALGS) {
    tokens.set(alg, (JSON.parse(await preflight(origin, tokenRequest(gatehouse.ready, alg), alg)) as { access_token: string }).access_token);
  }
  const http = new HttpClient(origin, 1);
  const jwks = JSON.parse((await http.send('GET', '/.well-known/jwks.json')).body) as JSONWebKeySet;
  http.close();
  await gatehouse.call('revoke', { count: REVOCATIONS });
  const args: VerifierArgs = {
    issuer: origin, jwks, audiences: Object.fromEntries(SIGNING_ALGS.map((alg) => [alg, apiIdentifier(alg)])), revocationReader: gatehouse.ready.machine,
  };
  const api = await ServerProcess.start<{ origin: string }>('API verifying tokens', 'verifier.ts', { args });
  try {
    for (const alg of SIGNING_ALGS) {
      const run = (route: string) => measureServer(context, api, { path: `/${route}/${alg}`, headers: { authorization: `Bearer ${tokens.get(alg)}` } });
      addComparison(context, '4', `${alg} access token`, { server: 'requireAccessToken', measurement: await run('gatehouse'), note: `${REVOCATIONS} revocations known` },
        { server: 'jose jwtVerify', measurement: await run('jose') });
    }
  } finally {
    await api.stop();
  }
}
