import { createServer, type Server } from 'node:http';
import express, { type Express } from 'express';
import * as oauth from 'oauth4webapi';
import type { Gatehouse } from '../../src/gatehouse.ts';
import { startGatehouse, type TestGatehouse } from './harness.ts';

export interface ServedGatehouse extends TestGatehouse {
  /** The issuer: `http://127.0.0.1:<port>`, reachable by real client libraries over fetch. */
  origin: string;
  server: Server;
}

/**
 * A Gatehouse listening on a loopback port (its issuer is that origin), for real clients that speak HTTP themselves.
 * `before` mounts the test's own routes (an API, a client application) in front of Gatehouse.
 */
export async function serveGatehouse(options: Parameters<typeof startGatehouse>[0] & { before?: (app: Express, gatehouse: Gatehouse) => void } = {}): Promise<ServedGatehouse> {
  const { before, ...start } = options;
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  let test: TestGatehouse;
  try {
    test = await startGatehouse({ ...start, config: { issuer: origin, ...start.config } });
  } catch (err) {
    server.close();
    throw err;
  }
  const app = express();
  before?.(app, test.gatehouse);
  app.use(test.app);
  server.on('request', app);
  return {
    ...test, app, origin, server,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await test.close();
    },
  };
}

/** oauth4webapi over plain http on loopback. */
export const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** The authorization server as oauth4webapi discovers it. */
export async function discover(origin: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(origin);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
}
