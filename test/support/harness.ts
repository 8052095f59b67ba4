import { createHash, randomBytes } from 'node:crypto';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config/load.ts';
import type { GatehouseConfig } from '../../src/config/schema.ts';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.ts';
import { draftApplication, type ApplicationCreate } from '../../src/domain/application-rules.ts';
import { isConfidential } from '../../src/domain/applications.ts';
import { hashSecret, newClientSecret } from '../../src/domain/ids.ts';
import type { Application, SigningKey } from '../../src/domain/model.ts';
import { openEmbeddedStore } from '../../src/store/embedded/index.ts';
import { combineStores, type Stores } from '../../src/store/index.ts';

export const ISSUER = 'http://gatehouse.test';

export const testConfig = (overrides: Partial<GatehouseConfig> = {}): GatehouseConfig =>
  loadConfig({ env: { NODE_ENV: 'test' }, overrides: { issuer: ISSUER, dataDir: '/nonexistent', ...overrides } });

/**
 * Tenant log settings for tests that drive the writing (`audit.flush()`) and the log stream deliveries (`deliverNow()`)
 * themselves: no timer writes or delivers meanwhile, and events are delivered as soon as they are written.
 */
export const manualLogDelivery = (overrides: Partial<GatehouseConfig['logs']> = {}): Pick<GatehouseConfig, 'logs'> => ({
  logs: {
    ...testConfig().logs, flush_interval_ms: 3_600_000, ...overrides,
    streams: { interval_ms: 3_600_000, timeout_ms: 2000, retry_base_ms: 400, retry_max_ms: 800, suspend_after_failures: 3, settle_ms: 0, ...overrides.streams },
  },
});

export const memoryStores = (): Stores => {
  const embedded = openEmbeddedStore({ dataDir: null });
  return combineStores(embedded, embedded);
};

export interface TestGatehouse {
  gatehouse: Gatehouse;
  app: Express;
  close(): Promise<void>;
}

/** A Gatehouse at the root of an Express app, on memory stores unless others are given (which it leaves open). */
export async function startGatehouse(options: { config?: Partial<GatehouseConfig>; stores?: Stores; signingKeys?: SigningKey[]; logger?: Logger } = {}): Promise<TestGatehouse> {
  const ownStores = options.stores ? undefined : memoryStores();
  let gatehouse: Gatehouse;
  try {
    gatehouse = await createGatehouse({
      config: testConfig(options.config), stores: options.stores ?? ownStores!,
      ...(options.signingKeys ? { signingKeys: options.signingKeys } : {}), ...(options.logger ? { logger: options.logger } : {}),
    });
  } catch (err) {
    await ownStores?.close();
    throw err;
  }
  const app = express();
  app.use(gatehouse.router);
  return {
    gatehouse,
    app,
    async close() {
      await gatehouse.close();
      await ownStores?.close();
    },
  };
}

export async function clientCredentialsToken(app: Express, clientId: string, secret: string, audience: string, scope?: string) {
  const form: Record<string, string> = { grant_type: 'client_credentials', client_id: clientId, client_secret: secret, audience };
  if (scope !== undefined) form.scope = scope;
  return request(app).post('/oauth/token').type('form').send(form);
}

/** A Management API token for the admin application that Gatehouse generated at start. */
export async function adminToken(test: TestGatehouse, scope?: string): Promise<string> {
  const { client_id, client_secret } = test.gatehouse.adminCredentials;
  const res = await clientCredentialsToken(test.app, client_id, client_secret as string, `${ISSUER}/api/v2/`, scope);
  if (res.status !== 200) throw new Error(`admin token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}

/** What a test may set on an application: its settings (drafted by the domain rule) and the fields Gatehouse assigns. */
export type ApplicationFixture = Partial<ApplicationCreate> & Partial<Pick<Application, 'client_id' | 'registration_type' | 'last_used_at' | 'created_at'>>;

/**
 * Stores an application directly (bypassing the Management API) and returns it with its clear secret (none for a
 * public application). The settings go through `draftApplication`, so its defaults and rules apply as to any other.
 */
export async function insertApplication(stores: Stores, fields: ApplicationFixture = {}): Promise<{ app: Application; secret: string }> {
  const { client_id = `app_${randomBytes(6).toString('hex')}`, registration_type, last_used_at, created_at, ...settings } = fields;
  const draft = draftApplication({ name: 'Test App', callbacks: ['https://app.example.com/callback'], ...settings }, { allowPermissiveThirdParty: true }, new Date().toISOString());
  const secret = newClientSecret();
  const app: Application = {
    ...draft, client_id,
    ...(isConfidential(draft) ? { client_secret_hash: hashSecret(secret) } : {}),
    ...(registration_type ? { registration_type } : {}), ...(last_used_at ? { last_used_at } : {}), ...(created_at ? { created_at } : {}),
  };
  await stores.durable.applications.insert(app);
  return { app, secret };
}

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A cookie jar for supertest that, like a browser on one host, sends every cookie it holds (paths ignored). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(setCookie: string[] | string | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const index = pair?.indexOf('=') ?? -1;
      if (!pair || index < 0) continue;
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export const pathOf = (location: string) => {
  const url = new URL(location, 'http://placeholder');
  return `${url.pathname}${url.search}`;
};
