import { createHash, randomBytes } from 'node:crypto';
import { authorizationCodeFlow, HttpClient } from '../lib/browser.ts';
import type { LoadRequest, Measurement } from '../lib/load.ts';
import { formatNumber } from '../lib/report.ts';
import { apiIdentifier, CALLBACK, type ProtocolServerReady } from '../servers/fixtures.ts';
import { measureServer, tokenRequest, type BenchContext, type ProtocolServer } from './context.ts';

/** A silent authorization (`prompt=none`) by a signed-in user of the first-party app: answered with a code. */
function silentAuthorization(server: ProtocolServerReady, cookies: string): LoadRequest {
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: server.firstParty.client_id, response_type: 'code', redirect_uri: CALLBACK, scope: 'openid read:items', state: 'bench',
    audience: apiIdentifier('ES256'), code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    prompt: 'none',
  });
  return { path: `/authorize?${query}`, headers: { cookie: cookies }, expectStatus: 303 };
}

/**
 * 5. Cost growth: the same token and authorization requests on `gatehouse` with more and more applications (each
 * with a client grant) stored. Each size is compared with the smallest: with indexed lookups the ratio stays near 1.
 */
export async function growthScenario(context: BenchContext, server: ProtocolServer): Promise<void> {
  const http = new HttpClient(server.ready.origin, 1);
  const { cookies } = await authorizationCodeFlow(http, server.ready, { client: server.ready.firstParty, audience: apiIdentifier('ES256'), skipTokenRequest: true });
  http.close();
  const requests = { 'client-credentials token (ES256)': tokenRequest(server.ready, 'ES256'), 'silent authorization': silentAuthorization(server.ready, cookies) };
  const smallest = new Map<string, Measurement>();
  for (const size of context.settings.growthSizes) {
    await server.call('populate', { total: size });
    for (const [name, request] of Object.entries(requests)) {
      const measurement = await measureServer(context, server, request);
      if (!smallest.has(name)) smallest.set(name, measurement);
      const base = smallest.get(name) as Measurement;
      context.rows.push({
        scenario: '5', variant: `${name}, ${formatNumber(size)} apps + grants`, server: 'Gatehouse', measurement,
        ratio: measurement.perCpuSecond / base.perCpuSecond,
      });
    }
  }
}
