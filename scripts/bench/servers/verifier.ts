import express, { type RequestHandler } from 'express';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { requireAccessToken } from '../../../src/http/resource-server.ts';
import { watchRevocations } from '../../../src/http/revocation-watch.ts';
import type { Credentials } from './fixtures.ts';
import { childArgs, listenOnLoopback, runChild, startChild } from './child.ts';

export interface VerifierArgs {
  issuer: string;
  jwks: JSONWebKeySet;
  /** Route name → the API identifier its tokens are for. */
  audiences: Record<string, string>;
  /** The APIs' own application, which reads their revocations from Gatehouse's feed. */
  revocationReader: Credentials;
}

/**
 * An API protected two ways in one Express process: `/gatehouse/<name>` by `requireAccessToken`, following the API's
 * revocations from Gatehouse's feed, `/jose/<name>` by a bare `jwtVerify` with the same keys and the same claim checks.
 * Both answer the token's subject.
 */
const args = childArgs<VerifierArgs>();

function bareJoseVerification(audience: string): RequestHandler {
  const keys = createLocalJWKSet(args.jwks);
  return async (req, res) => {
    const token = (req.get('authorization') ?? '').replace(/^Bearer /, '');
    try {
      const { payload } = await jwtVerify(token, keys, { issuer: args.issuer, audience, typ: 'at+jwt' });
      res.json({ sub: payload.sub });
    } catch {
      res.status(401).json({ error: 'invalid_token' });
    }
  };
}

async function main(): Promise<void> {
  const listener = await listenOnLoopback();
  const app = express();
  app.disable('x-powered-by');
  for (const [name, audience] of Object.entries(args.audiences)) {
    const revocations = watchRevocations({ issuer: args.issuer, audience, clientId: args.revocationReader.client_id, clientSecret: args.revocationReader.client_secret });
    app.get(`/gatehouse/${name}`, requireAccessToken({ issuer: args.issuer, audience, jwks: args.jwks, revocations }), (req, res) => {
      res.json({ sub: req.auth?.subject });
    });
    app.get(`/jose/${name}`, bareJoseVerification(audience));
  }
  listener.serve(app);
  runChild({ origin: listener.origin }, {}, async () => {
    listener.server.closeAllConnections();
  });
}

startChild(main);
