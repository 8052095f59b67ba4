import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';
import { authorizeQuery } from '../support/fixtures.ts';
import { Browser, callbackOf, createUser, pageOf, signIn } from '../support/flow.ts';

/** OpenID Back-Channel Logout 1.0: a relying party's server on loopback receives and verifies the logout token. */
describe('back-channel logout', () => {
  let live: LiveGatehouse;
  let receiver: Server;
  let receiverUrl: string;
  let adminToken: string;
  const received: { payload?: JWTPayload; header?: Record<string, unknown>; problem?: string }[] = [];
  const email = 'bcl@example.com';
  const password = 'correct horse battery';

  beforeAll(async () => {
    live = await startLiveGatehouse();
    await createUser(live.gatehouse.stores, email, password);
    const keys = createRemoteJWKSet(new URL(`${live.origin}/.well-known/jwks.json`));
    // The relying party's side, as the specification asks it to validate the logout token (§2.6).
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token') ?? '';
        jwtVerify(token, keys, { issuer: live.origin, typ: 'logout+jwt', maxTokenAge: '2 minutes', requiredClaims: ['iat', 'jti', 'events', 'sid', 'sub'] })
          .then(({ payload, protectedHeader }) => {
            if (!(payload.events as Record<string, unknown>)?.['http://schemas.openid.net/event/backchannel-logout']) throw new Error('no back-channel logout event');
            if ('nonce' in payload) throw new Error('a logout token carries no nonce');
            received.push({ payload, header: protectedHeader as Record<string, unknown> });
            res.writeHead(200).end();
          })
          .catch((err: Error) => {
            received.push({ problem: err.message });
            res.writeHead(400).end();
          });
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/backchannel-logout`;
    const admin = live.gatehouse.adminCredentials;
    const token = await fetch(`${live.origin}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: admin.client_id, client_secret: admin.client_secret as string, audience: `${live.origin}/api/v2/` }),
    });
    adminToken = (await token.json() as { access_token: string }).access_token;
  });
  afterAll(async () => {
    await live.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const createClient = (body: Record<string, unknown>) => fetch(`${live.origin}/api/v2/clients`, {
    method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });

  it('posts a signed logout token naming the user and the session to a first-party application when the user signs out', async () => {
    const created = await createClient({
      name: 'Intranet', callbacks: ['https://intranet.example.com/callback'], allowed_logout_urls: ['https://intranet.example.com/bye'],
      oidc_logout: { backchannel_logout_urls: [receiverUrl], backchannel_logout_initiators: { mode: 'all' } },
    });
    expect(created.status).toBe(201);
    const app = await created.json() as { client_id: string; client_secret: string; callbacks: string[] };
    expect(app).toMatchObject({ oidc_logout: { backchannel_logout_urls: [receiverUrl] } });

    const browser = new Browser(live.origin);
    const { path, verifier } = authorizeQuery({ ...app, callbacks: app.callbacks } as never, { scope: 'openid', nonce: 'n' });
    const callback = callbackOf(await signIn(browser, await browser.open(path), email, password));
    const tokens = await fetch(`${live.origin}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: callback.searchParams.get('code') as string, redirect_uri: app.callbacks[0] as string, code_verifier: verifier,
        client_id: app.client_id, client_secret: app.client_secret,
      }),
    }).then((res) => res.json() as Promise<{ id_token: string }>);
    const idToken = decodeJwt(tokens.id_token);
    expect(idToken.sid).toEqual(expect.any(String));

    const confirm = pageOf(await browser.open(`/oidc/logout?${new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: 'https://intranet.example.com/bye' })}`));
    expect(callbackOf(await browser.submit(confirm, { logout: 'yes' })).toString()).toBe('https://intranet.example.com/bye');
    expect(received).toEqual([{ header: expect.objectContaining({ typ: 'logout+jwt' }), payload: expect.objectContaining({ aud: app.client_id, sub: idToken.sub, sid: idToken.sid }) }]);
  });

  it('is for first-party applications only, at one exact http(s) URL', async () => {
    for (const [body, words] of [
      [{ name: 'Partner', is_first_party: false, oidc_logout: { backchannel_logout_urls: ['https://partner.example.com/bcl'] } }, 'oidc_logout'],
      [{ name: 'Own', oidc_logout: { backchannel_logout_urls: ['ftp://own.example.com/bcl'] } }, 'oidc_logout.backchannel_logout_urls.0'],
      [{ name: 'Own', oidc_logout: { backchannel_logout_urls: ['https://a.example.com/bcl', 'https://b.example.com/bcl'] } }, 'backchannel_logout_urls'],
    ] as const) {
      const res = await createClient(body);
      expect(res.status).toBe(400);
      expect((await res.json() as { message: string }).message).toContain(words);
    }
  });
});
