import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { generate } from 'selfsigned';

/**
 * A certificate authority made for one test run, and a server certificate it signs for localhost and 127.0.0.1. The
 * authority is added to this process's trusted roots (Node's own TLS clients, which Gatehouse's fetcher uses): the
 * server is trusted as a real one would be, with no switch turned off anywhere.
 */
async function testCertificates(): Promise<{ key: string; cert: string }> {
  // A name of its own: a test process may trust several of these authorities, and one is found by its name.
  const ca = await generate([{ name: 'commonName', value: `Gatehouse test CA ${randomBytes(6).toString('hex')}` }], {
    keySize: 2048, algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048, algorithm: 'sha256', ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false }, { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  setDefaultCACertificates([...getCACertificates('default'), ca.cert]);
  return { key: server.private, cert: server.cert };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface DocumentHost {
  /** `https://localhost:<port>` */
  origin: string;
  /** Serves JSON at a path (with these headers), or runs a handler for it. */
  serve(path: string, body: unknown, headers?: Record<string, string>): string;
  handle(path: string, handler: Handler): string;
  /** How many requests each path received. */
  hits(path: string): number;
  close(): Promise<void>;
}

/** An https server on loopback where a test publishes client metadata documents and key sets. */
export async function startDocumentHost(): Promise<DocumentHost> {
  const routes = new Map<string, Handler>();
  const counts = new Map<string, number>();
  const server: Server = createServer(await testCertificates(), (req, res) => {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (handler) return handler(req, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    return undefined;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://localhost:${(server.address() as { port: number }).port}`;
  return {
    origin,
    serve(path, body, headers = {}) {
      routes.set(path, (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body)));
      return `${origin}${path}`;
    },
    handle(path, handler) {
      routes.set(path, handler);
      return `${origin}${path}`;
    },
    hits: (path) => counts.get(path) ?? 0,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
