/**
 * An API in a process of its own that knows nothing of Gatehouse but its issuer URL and the API's own application
 * credentials: `node test/support/resource-server.ts '<json settings>'`. It follows the API's revocations from the feed
 * (`watchRevocations`), prints its origin as one JSON line, then serves `GET /notes` behind `requireAccessToken` until
 * it is killed.
 */
import { createServer } from 'node:http';
import express from 'express';
import { requireAccessToken, watchRevocations } from '../../src/index.ts';

export interface ResourceServerSettings {
  issuer: string;
  audience: string;
  clientId: string;
  clientSecret: string;
  /** Accept tokens however long the feed is away (`maxStalenessSeconds: Infinity`). */
  failOpen?: boolean;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as ResourceServerSettings;
const revocations = watchRevocations({
  issuer: settings.issuer, audience: settings.audience, clientId: settings.clientId, clientSecret: settings.clientSecret,
  ...(settings.failOpen ? { maxStalenessSeconds: Number.POSITIVE_INFINITY } : {}),
});
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const api = express();
api.get('/notes', requireAccessToken({ issuer: settings.issuer, audience: settings.audience, revocations }), (req, res) => {
  res.json({ sub: req.auth?.subject });
});
server.on('request', api);
process.stdout.write(`${JSON.stringify({ origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` })}\n`);
