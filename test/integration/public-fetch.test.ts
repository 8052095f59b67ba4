import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { outboundExemptions } from '../../src/domain/outbound-addresses.ts';
import { fetchPublicDocument } from '../../src/net/public-fetch.ts';
import { startDocumentHost, type DocumentHost } from '../support/document-host.ts';

/** Fetching what a client points Gatehouse at (its metadata document, its keys) against a real https server on loopback. */
describe('fetching a document a client chose (SSRF-safe)', () => {
  let host: DocumentHost;
  let port: string;
  const options = (exempt: string[] = [], overrides: { maxBytes?: number; timeoutMs?: number } = {}) => ({
    maxBytes: 1024, timeoutMs: 2000, exemptions: outboundExemptions(exempt), accept: 'application/json', ...overrides,
  });
  beforeAll(async () => {
    host = await startDocumentHost();
    port = new URL(host.origin).port;
    host.serve('/doc.json', { hello: 'world' }, { 'cache-control': 'max-age=600' });
    host.handle('/moved', (_req, res) => void res.writeHead(301, { location: '/doc.json' }).end());
    host.handle('/error', (_req, res) => void res.writeHead(500).end('{}'));
    host.serve('/big.json', { padding: 'x'.repeat(2000) });
    host.handle('/slow', () => undefined); // never answers
  });
  afterAll(() => host.close());

  it('fetches from a host the operator exempted, by name or by range, with the answer\'s headers', async () => {
    const byName = await fetchPublicDocument(new URL(`https://localhost:${port}/doc.json`), options(['localhost']));
    expect(JSON.parse(byName.body.toString())).toEqual({ hello: 'world' });
    expect(byName.headers['cache-control']).toBe('max-age=600');
    const byRange = await fetchPublicDocument(new URL(`https://127.0.0.1:${port}/doc.json`), options(['127.0.0.0/8']));
    expect(JSON.parse(byRange.body.toString())).toEqual({ hello: 'world' });
  });

  it('refuses a name that resolves to a special-use address, before connecting', async () => {
    await expect(fetchPublicDocument(new URL(`https://localhost:${port}/doc.json`), options())).rejects.toThrow(/localhost resolves to an address that is not public \(127\.0\.0\.1/);
    expect(host.hits('/doc.json')).toBe(2); // only the two exempted fetches above reached the server
  });

  it('refuses an address written in the URL, on the address actually connected, before sending the request', async () => {
    await expect(fetchPublicDocument(new URL(`https://127.0.0.1:${port}/doc.json`), options(['10.0.0.0/8']))).rejects.toThrow('127.0.0.1 is at 127.0.0.1, an address that is not public');
    await expect(fetchPublicDocument(new URL(`https://[::ffff:127.0.0.1]:${port}/doc.json`), options())).rejects.toThrow(/not public/);
    expect(host.hits('/doc.json')).toBe(2);
  });

  it('accepts 200 only and follows no redirect', async () => {
    await expect(fetchPublicDocument(new URL(`https://localhost:${port}/moved`), options(['localhost']))).rejects.toThrow('the server answered 301 (redirects are not followed); only 200 is accepted');
    await expect(fetchPublicDocument(new URL(`https://localhost:${port}/error`), options(['localhost']))).rejects.toThrow('the server answered 500; only 200 is accepted');
    expect(host.hits('/doc.json')).toBe(2);
  });

  it('reads at most the size limit, and gives up at the deadline', async () => {
    await expect(fetchPublicDocument(new URL(`https://localhost:${port}/big.json`), options(['localhost']))).rejects.toThrow('larger than 1024 bytes');
    await expect(fetchPublicDocument(new URL(`https://localhost:${port}/slow`), options(['localhost'], { timeoutMs: 300 }))).rejects.toThrow('no complete answer within 0.3 s');
  });

  it('fetches https only, and refuses a certificate it cannot trust', async () => {
    await expect(fetchPublicDocument(new URL(`http://localhost:${port}/doc.json`), options(['localhost']))).rejects.toThrow('only https URLs are fetched');
    await expect(fetchPublicDocument(new URL(`https://127.0.0.2:${port}/doc.json`), options(['127.0.0.0/8']))).rejects.toThrow(/the connection failed \((ERR_TLS_CERT_ALTNAME_INVALID|ECONNREFUSED)/);
  });
});
