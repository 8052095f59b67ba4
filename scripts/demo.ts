/**
 * `npm run demo`: the whole authorization code flow, step by step, as a third-party application sees it.
 *
 * It discovers Gatehouse, gets a public native application (through the Management API with the admin credentials, or
 * by dynamic registration when the tenant allows it, or the one given with --client-id), prints (and opens, when a
 * browser is at hand) the authorization URL, catches the callback on loopback (RFC 8252), exchanges the code with its
 * PKCE verifier, and calls a protected API with the access token: by default a sample API it serves itself for the
 * seeded `https://api.example.com/`, checked with Gatehouse's `requireAccessToken`; with --api, any API that publishes
 * its RFC 9728 metadata (examples/host-app's Notes API, for one). Every protocol step uses oauth4webapi.
 */
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import express from 'express';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { requireAccessToken } from '../src/index.ts';
import { adminClient } from './admin.ts';

/** The application the demo registers once through the Management API and reuses (any loopback port suits it). */
export const DEMO_APPLICATION = { name: 'Gatehouse demo', callback: 'http://127.0.0.1/callback' };
/** The seeded sample API (config/default.json) and the scope the demo asks of it. */
const SAMPLE_API = { identifier: 'https://api.example.com/', scope: 'read:messages', path: '/api/messages' };

const USAGE = `usage: npm run demo -- [options]

Signs a user in through Gatehouse as a third-party application would, and calls a protected API with the token.

  --issuer URL       Gatehouse's issuer (default: GATEHOUSE_URL, or http://localhost:3000)
  --api URL          call this protected API, found through its RFC 9728 metadata (default: a sample API the demo
                     serves for https://api.example.com/)
  --scope SCOPE      a scope to ask for (repeatable; default: read:messages, or every scope the --api offers)
  --client-id ID     use this public application (its callbacks must allow ${DEMO_APPLICATION.callback}) instead of
                     registering one
  --port N           the loopback port of the callback (default: any free port)
  --no-open          print the authorization URL without opening a browser
  --help             show this

It registers its application through the Management API when GATEHOUSE_ADMIN_CLIENT_ID and
GATEHOUSE_ADMIN_CLIENT_SECRET are set (reusing "${DEMO_APPLICATION.name}"), otherwise by dynamic client registration
when the tenant allows it (npm run admin -- enable-dcr).
`;

export class DemoError extends Error {}

const step = (number: number, title: string, ...lines: string[]) => process.stdout.write(`\n${number}. ${title}\n${lines.map((line) => `   ${line}\n`).join('')}`);
/** oauth4webapi refuses plain http unless told to: allowed only for http URLs (a development Gatehouse, loopback). */
const httpAllowed = (url: URL | string) => (new URL(url).protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {});

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

async function discover(issuer: URL): Promise<oauth.AuthorizationServer> {
  const response = await oauth.discoveryRequest(issuer, httpAllowed(issuer)).catch((err: Error) => {
    throw new DemoError(`Cannot reach Gatehouse at ${issuer.href} (${String((err.cause as Error | undefined)?.message ?? err.message)}). Is it running (npm start)?`);
  });
  return oauth.processDiscoveryResponse(issuer, response);
}

/** The application: given, or the reusable one made through the Management API, or a new one registered dynamically. */
async function demoApplication(as: oauth.AuthorizationServer, clientId: string | undefined, redirectUri: string, env: NodeJS.ProcessEnv): Promise<{ client: oauth.Client; how: string }> {
  if (clientId) return { client: { client_id: clientId, token_endpoint_auth_method: 'none' }, how: 'given with --client-id' };
  if (env.GATEHOUSE_ADMIN_CLIENT_ID && env.GATEHOUSE_ADMIN_CLIENT_SECRET) {
    const admin = await adminClient({ ...env, GATEHOUSE_URL: as.issuer });
    const apps = await admin.send({ method: 'GET', path: '/clients?app_type=native&is_first_party=false', limit: 1000 }) as { client_id: string; name: string; callbacks: string[] }[];
    const existing = apps.find((app) => app.name === DEMO_APPLICATION.name && app.callbacks.includes(DEMO_APPLICATION.callback));
    const app = existing ?? await admin.send({
      method: 'POST', path: '/clients',
      body: { name: DEMO_APPLICATION.name, description: 'Made by npm run demo.', is_first_party: false, app_type: 'native', callbacks: [DEMO_APPLICATION.callback] },
    }) as { client_id: string };
    return {
      client: { client_id: app.client_id, token_endpoint_auth_method: 'none' },
      how: `${existing ? 'reused' : 'created'} "${DEMO_APPLICATION.name}" through the Management API: a third-party native application, public (no secret), PKCE required`,
    };
  }
  if (as.registration_endpoint) {
    const registered = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, {
      client_name: DEMO_APPLICATION.name, redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'],
    }, httpAllowed(as.registration_endpoint)));
    return { client: { client_id: registered.client_id, token_endpoint_auth_method: 'none' }, how: `registered dynamically at ${as.registration_endpoint} (RFC 7591): a third-party native application, public, PKCE required` };
  }
  throw new DemoError('The demo needs an application. Either set GATEHOUSE_ADMIN_CLIENT_ID and GATEHOUSE_ADMIN_CLIENT_SECRET '
    + '(Gatehouse printed them at its first start), or turn on dynamic registration (npm run admin -- enable-dcr), or pass --client-id.');
}

/** RFC 9728: what the API says about itself (its identifier, its authorization server, its scopes). */
async function discoverApi(api: URL): Promise<oauth.ResourceServer> {
  const response = await oauth.resourceDiscoveryRequest(api, httpAllowed(api)).catch((err: Error) => {
    throw new DemoError(`Cannot reach the API at ${api.href} (${String((err.cause as Error | undefined)?.message ?? err.message)})`);
  });
  return oauth.processResourceDiscoveryResponse(api, response);
}

function openBrowser(url: string): boolean {
  const display = process.platform !== 'linux' || Boolean(process.env.DISPLAY ?? process.env.WAYLAND_DISPLAY);
  if (!process.stdout.isTTY || !display) return false;
  import('open').then(({ default: open }) => open(url)).catch(() => undefined); // the URL is printed anyway
  return true;
}

export async function runDemo(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      issuer: { type: 'string' }, api: { type: 'string' }, scope: { type: 'string', multiple: true }, 'client-id': { type: 'string' },
      port: { type: 'string' }, 'no-open': { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DemoError('--port must be a port number');

  // The loopback server: the callback, and the sample API when no --api is given.
  const app = express();
  const server = createServer(app);
  const callbackPort = await listen(server, port);
  const redirectUri = `http://127.0.0.1:${callbackPort}/callback`;
  const callback = new Promise<URL>((resolve) => {
    app.get('/callback', (req, res) => {
      res.type('text').send('Gatehouse demo: the authorization response arrived. You can close this tab and go back to the terminal.');
      resolve(new URL(req.originalUrl, redirectUri));
    });
  });

  try {
    let api: { url: URL; audience: string; scopes: string[] };
    let issuer = new URL(values.issuer ?? env.GATEHOUSE_URL ?? 'http://localhost:3000');
    if (values.api) {
      const metadata = await discoverApi(new URL(values.api));
      const [authorizationServer] = metadata.authorization_servers ?? [];
      if (!authorizationServer) throw new DemoError(`${values.api} names no authorization server in its metadata`);
      issuer = new URL(authorizationServer);
      api = { url: new URL(values.api), audience: metadata.resource, scopes: values.scope ?? metadata.scopes_supported ?? [] };
      step(0, 'Protected resource metadata (RFC 9728)', `${values.api} is the API ${metadata.resource}`, `authorization server: ${authorizationServer}; scopes: ${(metadata.scopes_supported ?? []).join(' ')}`);
    } else {
      api = { url: new URL(SAMPLE_API.path, `http://127.0.0.1:${callbackPort}`), audience: SAMPLE_API.identifier, scopes: values.scope ?? [SAMPLE_API.scope] };
    }

    const as = await discover(issuer);
    step(1, 'Discovery', `issuer: ${as.issuer}`, `authorization endpoint: ${as.authorization_endpoint}`, `token endpoint: ${as.token_endpoint}`);

    if (!values.api) {
      // Gatehouse's own middleware, as an API would use it (README, "Protect your API").
      app.get(SAMPLE_API.path, requireAccessToken({ issuer: as.issuer, audience: SAMPLE_API.identifier, scopes: [SAMPLE_API.scope] }), (req, res) => {
        res.json({ messages: ['Hello from the sample API'], for: req.auth?.subject, application: req.auth?.clientId });
      });
    }

    const { client, how } = await demoApplication(as, values['client-id'], redirectUri, env);
    step(2, 'Application', `client_id: ${client.client_id}`, how);

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const authorizationUrl = new URL(as.authorization_endpoint as string);
    for (const [name, value] of Object.entries({
      client_id: client.client_id, redirect_uri: redirectUri, response_type: 'code', scope: api.scopes.join(' '), audience: api.audience,
      state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    })) authorizationUrl.searchParams.set(name, value);
    const opened = !values['no-open'] && openBrowser(authorizationUrl.href);
    step(3, `Authorization request (PKCE S256, state)${opened ? ': opened in your browser' : ''}`,
      `Open this URL in a browser, sign in${issuer.protocol === 'http:' ? ' (in development: demo@example.com / demo-password-123)' : ''} and allow access:`,
      '',
      authorizationUrl.href,
      '',
      `Waiting for the callback on ${redirectUri} …`);

    const params = oauth.validateAuthResponse(as, client, await callback, state);
    step(4, 'Callback', `authorization code received; state matches${params.get('iss') ? `, iss ${params.get('iss')} matches (RFC 9207)` : ''}`);

    const tokens = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, httpAllowed(as.token_endpoint as string)));
    const claims = decodeJwt(tokens.access_token);
    step(5, 'Token exchange (the code and the PKCE verifier)',
      `access token: a JWT for ${String(claims.aud)}, scope "${tokens.scope ?? ''}", expires in ${tokens.expires_in ?? '?'} s${tokens.refresh_token ? ', with a refresh token' : ''}`,
      `claims: ${JSON.stringify({ iss: claims.iss, sub: claims.sub, aud: claims.aud, client_id: claims.client_id, scope: claims.scope })}`);

    const response = await oauth.protectedResourceRequest(tokens.access_token, 'GET', api.url, new Headers(), null, httpAllowed(api.url));
    const body = await response.text();
    step(6, `API call: GET ${api.url.href} with the access token`, `${response.status} ${body}`);
    if (!response.ok) throw new DemoError(`The API refused the token (${response.status}).`);
    process.stdout.write('\nDone: the application acted for the user, with only what the user allowed.\n');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

if (import.meta.main) {
  try {
    await runDemo(process.argv.slice(2), process.env);
  } catch (err) {
    const known = err instanceof DemoError || err instanceof TypeError || err instanceof oauth.ResponseBodyError || err instanceof oauth.AuthorizationResponseError;
    process.stderr.write(`\n${known ? (err as Error).message : (err as Error).stack}\n`);
    process.exitCode = 1;
  }
}
