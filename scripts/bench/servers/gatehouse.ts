import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { loadConfig } from '../../../src/config/load.ts';
import { createGatehouse, type Gatehouse } from '../../../src/gatehouse.ts';
import { draftApplication, type ApplicationCreate } from '../../../src/domain/application-rules.ts';
import { draftClientGrant } from '../../../src/domain/client-grant-rules.ts';
import { newClientId, newHexId, newId } from '../../../src/domain/ids.ts';
import type { Application } from '../../../src/domain/model.ts';
import { findApiByIdentifier } from '../../../src/services/access.ts';
import { createApplication } from '../../../src/services/applications.ts';
import { createClientGrant } from '../../../src/services/client-grants.ts';
import { createResourceServer } from '../../../src/services/resource-servers.ts';
import { recordRevocations } from '../../../src/services/revocations.ts';
import { updateTenantSettings } from '../../../src/services/tenant.ts';
import { createUser } from '../../../src/services/users.ts';
import { openStores, type DurableStore } from '../../../src/store/index.ts';
import { childArgs, listenOnLoopback, runChild, startChild } from './child.ts';
import {
  API_SCOPES, apiIdentifier, BENCH_USER, CALLBACK, countingStores, SIGNING_ALGS, WriteCounter,
  type Credentials, type ProtocolServerArgs, type ProtocolServerReady,
} from './fixtures.ts';

/**
 * Gatehouse as `npm start` runs it (embedded store journaled in a data folder, request logging at `info` into
 * /dev/null, the tenant log on unless `tenantLog: false`), plus the benchmark's fixtures. Dynamic registration is enabled and its rate limits raised for the run.
 * The password cost comes from GATEHOUSE_PASSWORD_COST, set by the benchmark.
 */
const args = childArgs<ProtocolServerArgs>();

async function credentialsOf(durable: DurableStore, input: ApplicationCreate): Promise<Credentials> {
  const { application, secret } = await createApplication(durable, input);
  return { client_id: application.client_id, client_secret: secret as string };
}

const POPULATE_BATCH = 1000;

/**
 * Applications with a client grant each, drafted by the same rules as through the Management API, added until the store
 * holds `total` (the cost-growth scenario), a thousand per transaction: one commit (one fsync) per batch, not two per app.
 */
async function populate(durable: DurableStore, total: number): Promise<number> {
  const api = await findApiByIdentifier(durable, apiIdentifier('ES256'));
  if (!api) throw new Error('the benchmark API is missing');
  let count = await durable.applications.count();
  while (count < total) {
    const batch = Math.min(POPULATE_BATCH, total - count);
    const now = new Date().toISOString();
    const drafted = Array.from({ length: batch }, (_, i) => {
      const application: Application = { ...draftApplication({ name: `Filler ${count + i}`, app_type: 'non_interactive' }, { allowPermissiveThirdParty: false }, now), client_id: newClientId(false) };
      const grant = draftClientGrant({ client_id: application.client_id, audience: api.identifier, scope: [API_SCOPES[0] as string], subject_type: 'client' }, api, application, newId('cgr_'), now);
      return { application, grant };
    });
    await durable.transaction((tx) => {
      for (const { application, grant } of drafted) {
        tx.applications.insert(application);
        tx.clientGrants.insert(grant);
      }
    });
    count += batch;
  }
  return count;
}

/**
 * Resolves `count` stored applications through the application directory, as requests naming them would: the read
 * cache then holds as many of them, with their protocol clients, as it keeps (the memory scenario's worst case).
 */
async function readApplications(gatehouse: Gatehouse, count: number): Promise<number> {
  let read = 0;
  let after: string | undefined;
  while (read < count) {
    const page = await gatehouse.stores.durable.applications.find({}, { limit: Math.min(1000, count - read), ...(after ? { after } : {}) });
    if (!page.length) break;
    for (const application of page) if (await gatehouse.directory.resolve(application.client_id)) read += 1;
    after = page.at(-1)?.client_id;
  }
  return read;
}

async function main(): Promise<void> {
  const listener = await listenOnLoopback();
  const dataDir = args.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-'));
  const counter = new WriteCounter();
  const stores = countingStores(await openStores({
    dataDir, mongodbUri: null, redisUrl: args.redisUrl ?? null, ...(args.redisKeyPrefix ? { redisKeyPrefix: args.redisKeyPrefix } : {}),
  }), counter);
  const gatehouse = await createGatehouse({
    stores,
    config: {
      env: 'test', issuer: listener.origin, dataDir, logLevel: 'info',
      registration: { rate_limit_per_second: 1_000_000, rate_limit_per_ip_per_minute: 100_000_000, rate_limit_per_claimed_identity_per_hour: 100_000_000, max_applications: 10_000_000, idle_cleanup_days: 0 },
      logs: { ...loadConfig({ env: {} }).logs, enabled: args.tenantLog !== false },
    },
  });
  const { durable } = stores;

  // A data folder of an earlier run keeps its fixtures (their secrets are gone: such a server only serves memory figures).
  const reused = Boolean(await findApiByIdentifier(durable, apiIdentifier('ES256')));
  const none: Credentials = { client_id: '', client_secret: '' };
  let [machine, firstParty, thirdParty] = [none, none, none];
  if (!reused) {
    await updateTenantSettings(durable, { flags: { enable_dynamic_client_registration: true } });
    for (const alg of SIGNING_ALGS) {
      await createResourceServer(durable, {
        identifier: apiIdentifier(alg), name: `Bench ${alg}`, signing_alg: alg, token_lifetime: 600, allow_offline_access: true,
        scopes: API_SCOPES.map((value) => ({ value, description: value })),
      });
    }
    machine = await credentialsOf(durable, { name: 'Bench machine', app_type: 'non_interactive' });
    firstParty = await credentialsOf(durable, { name: 'Bench web app', callbacks: [CALLBACK], refresh_token: { rotation_type: 'rotating' } });
    thirdParty = await credentialsOf(durable, { name: 'Bench partner', is_first_party: false, callbacks: [CALLBACK] });
    for (const alg of SIGNING_ALGS) {
      await createClientGrant(durable, { client_id: machine.client_id, audience: apiIdentifier(alg), scope: API_SCOPES, subject_type: 'client' });
      await createClientGrant(durable, { client_id: thirdParty.client_id, audience: apiIdentifier(alg), scope: API_SCOPES, subject_type: 'user' });
    }
    await createUser(durable, { connection: 'Username-Password-Authentication', email: BENCH_USER.email, password: BENCH_USER.password, email_verified: true });
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(gatehouse.router);
  listener.serve(app);

  const ready: ProtocolServerReady = {
    origin: listener.origin, audienceParameter: 'audience', offlineNeedsConsentPrompt: false, machine, firstParty, thirdParty,
    redisKeyPrefix: args.redisKeyPrefix,
  };
  runChild(ready, {
    writes: () => counter.snapshot(),
    populate: ({ total }: { total: number }) => populate(durable, total),
    readApplications: ({ count }: { count: number }) => readApplications(gatehouse, count),
    // Revoked grants no benchmark token belongs to: resource servers then look each token up among them.
    revoke: ({ count }: { count: number }) => recordRevocations(durable, Array.from({ length: count }, () => ({ kind: 'grant', grantId: newHexId() }))),
  }, async () => {
    listener.server.closeAllConnections();
    await gatehouse.close();
    await stores.close();
    if (!args.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
}

startChild(main);
