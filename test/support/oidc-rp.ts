/**
 * A relying party built with Auth0's express-openid-connect, run as its own process (the library is CommonJS and
 * loads jose, which Jest's ESM sandbox cannot do): `node test/support/oidc-rp.ts '<json settings>'`. It prints its
 * origin as one JSON line, then serves `/login`, `/callback` and `/profile` (the user's claims from /userinfo, via
 * `req.oidc.fetchUserInfo()`, and the access token) until it is killed.
 */
import { createServer } from 'node:http';
import express from 'express';
import { auth } from 'express-openid-connect';

const settings = JSON.parse(process.argv[2] ?? '{}') as { issuer: string; clientId: string; clientSecret: string; audience: string; scope: string };
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const site = express();
site.use(auth({
  issuerBaseURL: settings.issuer, baseURL: origin, clientID: settings.clientId, clientSecret: settings.clientSecret,
  secret: 'a session secret of the relying party, long enough', authRequired: false, idpLogout: false,
  authorizationParams: { response_type: 'code', response_mode: 'query', audience: settings.audience, scope: settings.scope },
}));
site.get('/', (_req, res) => void res.send('home'));
site.get('/profile', async (req, res) => {
  try {
    res.json({ userinfo: await req.oidc.fetchUserInfo(), accessToken: req.oidc.accessToken?.access_token });
  } catch (err) {
    res.status(502).json({ error: String(err) });
  }
});
server.on('request', site);
process.stdout.write(`${JSON.stringify({ origin })}\n`);
