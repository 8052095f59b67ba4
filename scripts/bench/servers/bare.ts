import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { type Adapter, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { generateSigningKeys, providerJwks } from '../../../src/oidc/keys.ts';
import { hashPassword, verifyPassword } from '../../../src/services/passwords.ts';
import { openRedisStore } from '../../../src/store/redis/index.ts';
import { childArgs, listenOnLoopback, runChild, startChild } from './child.ts';
import {
  API_SCOPES, apiIdentifier, BENCH_USER, CALLBACK, countingAdapter, SIGNING_ALGS, WriteCounter,
  type BenchAlg, type Credentials, type ProtocolServerArgs, type ProtocolServerReady,
} from './fixtures.ts';

/**
 * The baseline: oidc-provider (the version Gatehouse pins) with nothing of Gatehouse, serving what the benchmark
 * asks of Gatehouse. Same key types, same routes, same Argon2id password check, JWT access tokens for the same APIs.
 * Storage: oidc-provider's own in-memory adapter, or (with a Redis URL) the same Redis adapter Gatehouse uses. A
 * minimal login and consent handler stands in for Gatehouse's pages; first-party clients skip consent, as in Gatehouse.
 */
const args = childArgs<ProtocolServerArgs>();

const secret = () => randomBytes(32).toString('base64url');
const credentials = (name: string): Credentials => ({ client_id: `bare-${name}`, client_secret: secret() });

/** oidc-provider's development adapter factory (not in its typings): what a bare provider uses when given none. */
async function memoryAdapterFactory(): Promise<(model: string) => Adapter> {
  const module = await import('oidc-provider/lib/adapters/memory_adapter.js' as string) as { createMemoryAdapter(): (model: string) => Adapter };
  return module.createMemoryAdapter();
}

const html = (body: string) => `<!doctype html><html><body>${body}</body></html>`;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function main(): Promise<void> {
  const listener = await listenOnLoopback();
  const counter = new WriteCounter();
  const redis = args.redisUrl ? await openRedisStore({ url: args.redisUrl, ...(args.redisKeyPrefix ? { keyPrefix: args.redisKeyPrefix } : {}) }) : undefined;
  const storage = redis ? (model: string) => redis.oidcAdapter(model) : await memoryAdapterFactory();

  const machine = credentials('machine');
  const firstParty = credentials('web');
  const thirdParty = credentials('partner');
  const userHash = await hashPassword(BENCH_USER.password);
  const accountId = 'bench-user';
  const interactive = (client: Credentials): ClientMetadata => ({
    ...client, redirect_uris: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_post',
  });
  const resourceServer = (alg: BenchAlg) => ({
    scope: API_SCOPES.join(' '), audience: apiIdentifier(alg), accessTokenTTL: 600, accessTokenFormat: 'jwt' as const, jwt: { sign: { alg } },
  });
  const algOf = new Map(SIGNING_ALGS.map((alg) => [apiIdentifier(alg), alg]));

  const configuration: Configuration = {
    adapter: (model: string) => countingAdapter(storage(model), model, counter),
    clients: [
      { ...machine, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_post' },
      interactive(firstParty),
      interactive(thirdParty),
    ],
    jwks: providerJwks({ id: 'keys', signing: await generateSigningKeys(), cookies: [] }) as Configuration['jwks'],
    cookies: { keys: [secret()] },
    routes: { authorization: '/authorize', token: '/oauth/token', registration: '/oidc/register', jwks: '/.well-known/jwks.json' },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    findAccount: (_ctx, sub) => (sub === accountId ? { accountId, claims: () => ({ sub, email: BENCH_USER.email, email_verified: true }) } : undefined),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    rotateRefreshToken: () => true,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: KoaContextWithOIDC, _client: unknown, oneOf?: readonly string[]) => oneOf ?? apiIdentifier('ES256'),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: KoaContextWithOIDC, indicator: string) => {
          const alg = algOf.get(indicator);
          if (!alg) throw new Error(`unknown resource ${indicator}`);
          return resourceServer(alg);
        },
      },
    },
    ttl: { AccessToken: 600, ClientCredentials: 600, RefreshToken: 14 * 24 * 3600, Grant: 365 * 24 * 3600, Session: 14 * 24 * 3600, Interaction: 3600 },
  };
  const provider = new Provider(listener.origin, configuration);
  const callback = provider.callback();

  /** The grant a consent creates: every scope asked for, on the API asked for. */
  async function grantFor(details: Awaited<ReturnType<Provider['interactionDetails']>>): Promise<string> {
    const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    const scopes = String(details.params.scope ?? '').split(' ');
    grant.addOIDCScope(scopes.filter((s) => !API_SCOPES.includes(s)).join(' '));
    const resource = details.params.resource;
    if (typeof resource === 'string') grant.addResourceScope(resource, scopes.filter((s) => API_SCOPES.includes(s)).join(' '));
    return grant.save();
  }

  async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const action = `/interaction/${details.uid}`;
    if (req.method === 'GET') {
      res.setHeader('Content-Type', 'text/html');
      res.end(html(details.prompt.name === 'login'
        ? `<form method="post" action="${action}"><input name="email"><input name="password" type="password"><button>Sign in</button></form>`
        : `<form method="post" action="${action}"><button name="action" value="accept">Allow</button></form>`));
      return;
    }
    const form = await readForm(req);
    if (details.prompt.name === 'login') {
      const ok = form.get('email') === BENCH_USER.email && await verifyPassword(form.get('password') ?? '', userHash);
      if (!ok) {
        res.statusCode = 401;
        res.end(html('Wrong email or password.'));
        return;
      }
      const consentImplied = details.params.client_id === firstParty.client_id;
      const result = { login: { accountId }, ...(consentImplied ? { consent: { grantId: await grantFor(details) } } : {}) };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return;
    }
    await provider.interactionFinished(req, res, { consent: { grantId: await grantFor(details) } }, { mergeWithLastSubmission: true });
  }

  listener.serve((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((err: Error) => {
        res.statusCode = 500;
        res.end(err.message);
      });
      return;
    }
    callback(req, res);
  });

  const ready: ProtocolServerReady = {
    origin: listener.origin, audienceParameter: 'resource', offlineNeedsConsentPrompt: true, machine, firstParty, thirdParty,
    redisKeyPrefix: args.redisKeyPrefix,
  };
  runChild(ready, {
    writes: () => counter.snapshot(),
  }, async () => {
    listener.server.closeAllConnections();
    await redis?.close();
  });
}

startChild(main);
