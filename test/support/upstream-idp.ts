import { createServer, type Server } from 'node:http';
import express from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import { CookieJar } from './harness.ts';

/** A person the upstream provider knows (its account id is the `sub`). */
export interface UpstreamAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/**
 * A bare oidc-provider on loopback, as the upstream identity provider of Gatehouse's connections. Its interaction
 * step signs in `next.login` at once (or refuses with `next.error`), so that tests drive the protocol, not its forms.
 */
export interface UpstreamIdp {
  issuer: string;
  client: { client_id: string; client_secret: string };
  /** A second client for type front_channel (ID token posted back, no secret). */
  frontChannelClient: { client_id: string };
  accounts: Map<string, UpstreamAccount>;
  next: { login: string; error?: string };
  /** Follows the provider's redirects (with its cookies) from an authorization URL to where it sends the browser back. */
  authorize(url: string): Promise<URL>;
  /** The same for `response_mode=form_post`: the form the provider's page posts back (its action and fields). */
  authorizeFormPost(url: string): Promise<{ action: string; fields: Record<string, string> }>;
  close(): Promise<void>;
}

export async function startUpstreamIdp(redirectUris: string[]): Promise<UpstreamIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const accounts = new Map<string, UpstreamAccount>();
  const next: UpstreamIdp['next'] = { login: '' };
  const client = { client_id: 'gatehouse-at-upstream', client_secret: 'upstream-client-secret-0123456789abcdef' };
  const frontChannelClient = { client_id: 'gatehouse-front-channel' };
  const configuration: Configuration = {
    clients: [
      { ...client, redirect_uris: redirectUris, grant_types: ['authorization_code'], response_types: ['code'] },
      // The implicit flow needs https redirect URIs (OpenID Connect Registration): the https ones only.
      { ...frontChannelClient, redirect_uris: redirectUris.filter((uri) => uri.startsWith('https:')), grant_types: ['implicit'], response_types: ['id_token'], token_endpoint_auth_method: 'none' },
    ],
    jwks: { keys: [{ ...await exportJWK(privateKey), kid: 'upstream-key', alg: 'RS256', use: 'sig' }] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      return account ? { accountId: sub, claims: () => ({ sub, ...account }) } : undefined;
    },
    features: { devInteractions: { enabled: false } },
    responseTypes: ['code', 'id_token'],
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  };
  const provider = new Provider(issuer, configuration);
  const app = express();
  app.get('/interaction/:uid', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (next.error) return provider.interactionFinished(req, res, { error: next.error, error_description: 'The person said no at the provider' }, { mergeWithLastSubmission: false });
    const grant = new provider.Grant({ accountId: next.login, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { login: { accountId: next.login }, consent: { grantId } }, { mergeWithLastSubmission: false });
  });
  app.use(provider.callback());
  server.on('request', app);

  /** Follows redirects at the provider until it sends the browser elsewhere (a URL) or answers with a page. */
  async function follow(url: string): Promise<URL | string> {
    const jar = new CookieJar();
    let location = url;
    for (let hop = 0; hop < 10; hop += 1) {
      const res = await fetch(location, { redirect: 'manual', headers: { cookie: jar.header() } });
      jar.store(res.headers.getSetCookie());
      const target = res.headers.get('location');
      if (!target) return res.text();
      const resolved = new URL(target, location);
      if (resolved.origin !== issuer) return resolved;
      location = resolved.href;
    }
    throw new Error('too many redirects at the upstream provider');
  }

  return {
    issuer, client, frontChannelClient, accounts, next,
    async authorize(url) {
      const outcome = await follow(url);
      if (typeof outcome === 'string') throw new Error(`the upstream provider answered with a page: ${outcome.slice(0, 300)}`);
      return outcome;
    },
    async authorizeFormPost(url) {
      const page = await follow(url);
      if (typeof page !== 'string') throw new Error(`the upstream provider redirected to ${page.href} instead of posting`);
      const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
      if (!action) throw new Error(`no form in ${page.slice(0, 1000)}`);
      const fields = Object.fromEntries([...page.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));
      return { action, fields };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
