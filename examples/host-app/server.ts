/**
 * An Express app with its own users that mounts Gatehouse at /auth and serves an API protected by Gatehouse tokens.
 * Run it with `npm run example:host-app` (Node 24; PORT and DATA_DIR change its port, 4000, and its data folder,
 * data/host-app): it prints what to do next. Users: ada@example.com / ada-password (see README, "Use as middleware").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import { createGatehouse, protectedResourceMetadata, requireAccessToken, type Gatehouse, type Stores } from '../../src/index.ts';

/** The host's own user directory (a real app has a database; passwords would be hashed). */
const USERS = new Map([['ada@example.com', { id: 'u-1', name: 'Ada Lovelace', password: 'ada-password' }]]);
const SESSION_KEY = 'example-session-key-change-me';

const sign = (value: string) => `${value}.${createHmac('sha256', SESSION_KEY).update(value).digest('base64url')}`;
function unsign(cookie: string | undefined): string | undefined {
  const signed = decodeURIComponent(cookie ?? '');
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  const expected = Buffer.from(sign(value).slice(dot + 1));
  const mac = Buffer.from(signed.slice(dot + 1));
  return expected.length === mac.length && timingSafeEqual(expected, mac) ? value : undefined;
}
const cookieOf = (req: Request, name: string) => (req.headers.cookie ?? '').split(';').map((c) => c.trim().split('=')).find(([k]) => k === name)?.[1];
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface HostApp {
  server: Server;
  origin: string;
  gatehouse: Gatehouse;
  close(): Promise<void>;
}

export async function startHostApp(options: { port?: number; stores?: Stores; dataDir?: string } = {}): Promise<HostApp> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 4000, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  const notesApi = `${origin}/api/notes`;

  const gatehouse = await createGatehouse({
    config: {
      issuer: `${origin}/auth`,
      logLevel: 'warn',
      dataDir: options.dataDir ?? 'data/host-app',
      tenant: { friendly_name: 'Notes Inc.', default_audience: '', allow_permissive_third_party_clients: false },
      seed: {
        resource_servers: [{
          identifier: notesApi, name: 'Notes API', allow_offline_access: true,
          scopes: [{ value: 'read:notes', description: 'Read your notes' }, { value: 'write:notes', description: 'Write notes for you' }],
          default_third_party_scopes: ['read:notes'],
        }],
        connections: [],
        development_users: [],
      },
    },
    ...(options.stores ? { stores: options.stores } : {}),
    // The host's session decides who the user is; Gatehouse still runs consent and every third-party rule.
    authenticate: {
      user: (req) => {
        const email = unsign(cookieOf(req, 'host_session'));
        const user = email ? USERS.get(email) : undefined;
        return user && email ? { id: user.id, email, name: user.name, emailVerified: true } : undefined;
      },
      loginUrl: (returnTo) => `/login?returnTo=${encodeURIComponent(returnTo)}`,
    },
  });

  const app = express();
  app.use('/auth', gatehouse.router);
  app.use(gatehouse.wellKnown);
  app.use(protectedResourceMetadata({ resource: notesApi, authorizationServers: [gatehouse.config.issuer], scopes: ['read:notes', 'write:notes'], resourceName: 'Notes API' }));

  // The host's own sign-in.
  app.get('/login', (req, res) => {
    res.type('html').send(`<form method="post"><input type="hidden" name="returnTo" value="${escape(String(req.query.returnTo ?? '/'))}">`
      + '<input name="email" type="email" placeholder="email"><input name="password" type="password" placeholder="password"><button>Sign in</button></form>');
  });
  app.post('/login', express.urlencoded({ extended: false }), (req: Request, res: Response) => {
    const user = USERS.get(String(req.body.email));
    if (!user || user.password !== req.body.password) return void res.status(401).send('Wrong email or password');
    const returnTo = String(req.body.returnTo ?? '/');
    res.cookie('host_session', sign(String(req.body.email)), { httpOnly: true, sameSite: 'lax', path: '/' });
    // Only return to our own pages (never an open redirect).
    res.redirect(303, returnTo.startsWith(`${origin}/`) || (returnTo.startsWith('/') && !returnTo.startsWith('//')) ? returnTo : '/');
  });

  // The protected API.
  const notes: string[] = ['Buy milk'];
  const issuer = gatehouse.config.issuer;
  // Tokens whose consent, user or application is revoked are refused within seconds (read from Gatehouse's store).
  const revocations = gatehouse.watchRevocations(notesApi);
  app.get('/api/notes', requireAccessToken({ issuer, audience: notesApi, scopes: ['read:notes'], revocations }), (req, res) => {
    res.json({ notes, for: req.auth?.subject });
  });
  app.post('/api/notes', requireAccessToken({ issuer, audience: notesApi, scopes: ['write:notes'], revocations }), express.json(), (req, res) => {
    notes.push(String(req.body?.text ?? ''));
    res.status(201).json({ notes });
  });
  app.get('/', (_req, res) => void res.type('text').send(`Notes Inc. Discovery: ${origin}/.well-known/oauth-authorization-server/auth`));

  server.on('request', app);
  return {
    server, origin, gatehouse,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gatehouse.close();
    },
  };
}

/** What to do next: a third-party application (npm run demo) registers, asks Ada through consent, reads her notes. */
export function nextSteps(host: HostApp): string {
  const { client_id, client_secret } = host.gatehouse.adminCredentials;
  const credentials = client_secret
    ? `GATEHOUSE_ADMIN_CLIENT_ID=${client_id} GATEHOUSE_ADMIN_CLIENT_SECRET=${client_secret}`
    : `GATEHOUSE_ADMIN_CLIENT_ID=${client_id} GATEHOUSE_ADMIN_CLIENT_SECRET=<the secret printed at this example's first start>`;
  return [
    `Notes Inc. is running at ${host.origin}, with Gatehouse mounted at ${host.origin}/auth.`,
    `Its user signs in on its own page (${host.origin}/login): ada@example.com / ada-password.`,
    '',
    client_secret
      ? 'Gatehouse created a Management API application for this example; its secret is shown this once, save it.'
      : `The example's Management API application is ${client_id} (delete ${host.gatehouse.config.dataDir} to start afresh).`,
    '',
    'Next, in another terminal, act as a third-party application that reads Ada\'s notes: it registers itself, sends you',
    'through Ada\'s sign-in and Gatehouse\'s consent page, and calls the Notes API with the token it gets:',
    '',
    `  ${credentials} npm run demo -- --api ${host.origin}/api/notes`,
    '',
  ].join('\n');
}

if (import.meta.main) {
  const host = await startHostApp({ port: Number(process.env.PORT ?? 4000), ...(process.env.DATA_DIR ? { dataDir: process.env.DATA_DIR } : {}) });
  process.stdout.write(nextSteps(host));
  const stop = () => void host.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
