import { authorizationCodeFlow, HttpClient } from '../lib/browser.ts';
import { measureRequests, measureTasks, type LoadRequest, type Measurement } from '../lib/load.ts';
import { ServerProcess } from '../lib/processes.ts';
import type { ScenarioId } from '../lib/report.ts';
import { apiIdentifier, CALLBACK, SIGNING_ALGS, type ProtocolServerReady } from '../servers/fixtures.ts';
import { growthScenario } from './growth.ts';
import { verificationScenario } from './verification.ts';
import {
  addComparison, measureServer, medianRun, startProtocolServers, stopServer, timed, tokenRequest, writesBetween,
  type BenchContext, type ProtocolServer,
} from './context.ts';

/** Both servers hash and verify passwords at Keycloak's cost, so that logins compare with Keycloak's sizing guide. */
const KEYCLOAK_COST = { GATEHOUSE_PASSWORD_COST: 'keycloak' };

/** 1. Client-credentials tokens, ES256 and RS256 JWTs. */
async function clientCredentials(context: BenchContext, gatehouse: ProtocolServer, bare: ProtocolServer): Promise<void> {
  for (const alg of SIGNING_ALGS) {
    const subject = await measureServer(context, gatehouse, tokenRequest(gatehouse.ready, alg), alg);
    const baseline = await measureServer(context, bare, tokenRequest(bare.ready, alg), alg);
    const signatures = context.ceiling?.signatures[alg];
    addComparison(context, '1', alg,
      { server: 'Gatehouse', measurement: subject, ...(signatures ? { figures: { fraction_of_ceiling: subject.perCpuSecond / signatures } } : {}) },
      { server: 'bare oidc-provider', measurement: baseline });
  }
}

/**
 * 1l. What the tenant log costs the token endpoint: the same Gatehouse with `logs.enabled` on (every token request is an
 * event, written in batches) and off, measured in turn three times each, the median run of each kept (the machine is
 * shared: one run can be disturbed). Target: at least 95 %.
 */
async function tenantLogCost(context: BenchContext, gatehouse: ProtocolServer): Promise<void> {
  const off = await ServerProcess.start<ProtocolServerReady>('Gatehouse (tenant log off)', 'gatehouse.ts', { args: { tenantLog: false }, env: KEYCLOAK_COST });
  try {
    const runs = { on: [] as Measurement[], off: [] as Measurement[] };
    for (let round = 0; round < 3; round += 1) {
      runs.on.push(await measureServer(context, gatehouse, tokenRequest(gatehouse.ready, 'ES256'), 'ES256'));
      runs.off.push(await measureServer(context, off, tokenRequest(off.ready, 'ES256'), 'ES256'));
    }
    const on = medianRun(runs.on, (run) => run.perCpuSecond);
    const baseline = medianRun(runs.off, (run) => run.perCpuSecond);
    addComparison(context, '1l', 'ES256', { server: 'Gatehouse, tenant log on', measurement: on }, { server: 'Gatehouse, tenant log off', measurement: baseline });
    context.notes.push(`Tenant log: with it on, the token endpoint keeps ${(100 * on.perCpuSecond / baseline.perCpuSecond).toFixed(1)} % of its throughput per CPU-second (target: at least 95 %).`);
  } finally {
    await stopServer(context, off);
  }
}

/** An open registration (RFC 7591) of a web application. */
export const REGISTRATION_REQUEST: LoadRequest = {
  path: '/oidc/register', expectStatus: 201,
  json: {
    redirect_uris: [CALLBACK], client_name: 'Registered by the benchmark', token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
  },
};

/** 2. Open dynamic registration (RFC 7591), rate limits raised for the run. */
async function registration(context: BenchContext, gatehouse: ProtocolServer, bare: ProtocolServer): Promise<void> {
  const request = REGISTRATION_REQUEST;
  addComparison(context, '2', 'open registration', { server: 'Gatehouse', measurement: await measureServer(context, gatehouse, request) },
    { server: 'bare oidc-provider', measurement: await measureServer(context, bare, request), note: 'in-memory adapter keeps its newest 1,000 entries only' });
}

/** A measured run of complete logins with one kind of application (`beforeMeasured`: also called once warm). */
export async function loginRun(context: BenchContext, server: ProtocolServer, kind: 'firstParty' | 'thirdParty', beforeMeasured?: () => Promise<unknown>): Promise<Measurement> {
  const http = new HttpClient(server.ready.origin, context.settings.flowTiming.connections);
  const flow = () => authorizationCodeFlow(http, server.ready, { client: server.ready[kind], audience: apiIdentifier('ES256') });
  try {
    await flow();
    return await measureTasks(server.pid, flow, { ...context.settings.flowTiming, ...(beforeMeasured ? { beforeMeasured } : {}) });
  } finally {
    http.close();
  }
}

/** 3. Complete logins (authorize, login page, consent when shown, code, token), first- and third-party. */
async function logins(context: BenchContext, gatehouse: ProtocolServer, bare: ProtocolServer): Promise<void> {
  for (const kind of ['firstParty', 'thirdParty'] as const) {
    const subject = await loginRun(context, gatehouse, kind);
    const baseline = await loginRun(context, bare, kind);
    const kdf = context.ceiling?.passwordVerifications;
    addComparison(context, '3', kind === 'firstParty' ? 'first-party app (no consent page)' : 'third-party app (consent page)',
      { server: 'Gatehouse', measurement: subject, ...(kdf ? { figures: { kdf_fraction: subject.perCpuSecond / kdf } } : {}) },
      { server: 'bare oidc-provider', measurement: baseline, note: 'minimal login and consent handler' });
  }
}

/** Refresh tokens for a closed loop: each connection takes one, and puts back the rotated one it gets. */
export async function refreshTokenPool(server: ProtocolServerReady, size: number): Promise<string[]> {
  const parallel = 4;
  const http = new HttpClient(server.origin, parallel);
  try {
    const tokens: string[] = [];
    const login = async () => {
      while (tokens.length < size) {
        const { tokens: issued } = await authorizationCodeFlow(http, server, { client: server.firstParty, audience: apiIdentifier('ES256'), offlineAccess: true });
        if (!issued?.refresh_token) throw new Error('the login flow issued no refresh token');
        tokens.push(issued.refresh_token);
      }
    };
    await Promise.all(Array.from({ length: parallel }, login));
    return tokens;
  } finally {
    http.close();
  }
}

/** A measured run of refresh_token grants with rotation, and the storage writes each costs (`beforeMeasured`: also called once warm). */
export async function refreshRun(context: BenchContext, server: ProtocolServer, beforeMeasured?: () => Promise<unknown>): Promise<{ measurement: Measurement; writesPerRefresh: number }> {
  const { connections } = context.settings.timing;
  // Requests in flight when a run stops are lost (their tokens were rotated unseen): enough for the warm-up and the run.
  const pool = await refreshTokenPool(server.ready, 3 * connections);
  let before: Record<string, number> = {};
  const request: LoadRequest = {
    path: '/oauth/token',
    nextForm: () => {
      const token = pool.shift();
      return token ? { grant_type: 'refresh_token', refresh_token: token, ...server.ready.firstParty } : undefined;
    },
    onAnswer: (status, body) => {
      if (status === 200) pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
    },
  };
  const measurement = await measureRequests(server.pid, server.ready.origin, request, {
    ...context.settings.timing,
    beforeMeasured: async () => {
      before = await server.call<Record<string, number>>('writes');
      await beforeMeasured?.();
    },
  });
  const after = await server.call<Record<string, number>>('writes');
  return { measurement, writesPerRefresh: writesBetween(before, after) / measurement.operations };
}

/** 4b. refresh_token grants with rotation, and the storage writes each costs. */
async function refreshes(context: BenchContext, gatehouse: ProtocolServer, bare: ProtocolServer, storage: string): Promise<void> {
  const subject = await refreshRun(context, gatehouse);
  const baseline = await refreshRun(context, bare);
  addComparison(context, '4b', storage,
    { server: 'Gatehouse', measurement: subject.measurement, figures: { writes_per_refresh: subject.writesPerRefresh } },
    { server: 'bare oidc-provider', measurement: baseline.measurement, figures: { writes_per_refresh: baseline.writesPerRefresh } });
}

/**
 * Everything but memory against one Gatehouse and one bare oidc-provider, both in memory: tokens, logins, refreshes,
 * verification, cost growth, then registration (last, as it fills the store).
 */
export async function inMemoryScenarios(context: BenchContext): Promise<void> {
  const { gatehouse, bare } = await startProtocolServers(context, 'memory', KEYCLOAK_COST);
  try {
    const steps: [ScenarioId, () => Promise<void>][] = [
      ['1', () => clientCredentials(context, gatehouse, bare)],
      ['1l', () => tenantLogCost(context, gatehouse)],
      ['3', () => logins(context, gatehouse, bare)],
      ['4b', () => refreshes(context, gatehouse, bare, 'embedded store / in-memory adapter')],
      ['4', () => verificationScenario(context, gatehouse)],
      ['5', () => growthScenario(context, gatehouse)],
      ['2', () => registration(context, gatehouse, bare)],
    ];
    for (const [id, step] of steps) if (context.selected(id)) await timed(id, step);
  } finally {
    await Promise.all([stopServer(context, gatehouse), stopServer(context, bare)]);
  }
}

/** 4b again with Redis holding tokens on both sides (Gatehouse's durable entities stay embedded: no MongoDB here). */
export async function redisScenarios(context: BenchContext): Promise<void> {
  if (!context.redis) {
    context.notes.push(`Refresh with Redis skipped: ${context.redisUnavailable}.`);
    return;
  }
  const { gatehouse, bare } = await startProtocolServers(context, 'redis', KEYCLOAK_COST);
  try {
    await timed('4b', () => refreshes(context, gatehouse, bare, 'Redis (same adapter on both)'));
  } finally {
    await Promise.all([stopServer(context, gatehouse), stopServer(context, bare)]);
  }
}
