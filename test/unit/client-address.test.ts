import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { clientOrigin } from '../../src/http/client-address.ts';

/** A request as it arrives: the socket's peer (and whether it spoke TLS) and the headers it sent. */
const arriving = (peer: string, headers: Record<string, string> = {}, encrypted = false) =>
  ({ socket: { remoteAddress: peer, encrypted }, headers }) as unknown as IncomingMessage;

describe('the client address, with Express trust-proxy semantics', () => {
  const forged = { 'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };

  it('believes no header when no proxy is trusted', () => {
    const origin = clientOrigin(false);
    const req = arriving('203.0.113.9', { ...forged, host: 'id.example.com' });
    expect([origin.address(req), origin.protocol(req), origin.host(req), origin.viaTrustedProxy(req)]).toEqual(['203.0.113.9', 'http', 'id.example.com', false]);
  });

  it('believes X-Forwarded-* only from a trusted proxy', () => {
    const origin = clientOrigin('10.0.0.0/8');
    const direct = arriving('203.0.113.9', { ...forged, host: 'id.example.com' });
    expect([origin.address(direct), origin.protocol(direct), origin.host(direct)]).toEqual(['203.0.113.9', 'http', 'id.example.com']);
    const proxied = arriving('10.1.2.3', { ...forged, host: 'internal:3000' });
    expect([origin.address(proxied), origin.protocol(proxied), origin.host(proxied), origin.viaTrustedProxy(proxied)]).toEqual(['198.51.100.7', 'https', 'evil.example', true]);
  });

  it('takes the nearest untrusted address, not the leftmost one a client can write', () => {
    const origin = clientOrigin('10.0.0.0/8');
    // The client wrote 192.0.2.66; the trusted proxy appended the address it saw.
    expect(origin.address(arriving('10.1.2.3', { 'x-forwarded-for': '192.0.2.66, 203.0.113.9' }))).toBe('203.0.113.9');
    expect(origin.address(arriving('10.1.2.3', { 'x-forwarded-for': '192.0.2.66, 203.0.113.9, 10.9.9.9' }))).toBe('203.0.113.9');
  });

  it('reads true, hop counts and names as Express does', () => {
    expect(clientOrigin(true).address(arriving('203.0.113.9', { 'x-forwarded-for': '192.0.2.66, 198.51.100.1' }))).toBe('192.0.2.66');
    expect(clientOrigin(1).address(arriving('203.0.113.9', { 'x-forwarded-for': '192.0.2.66, 198.51.100.1' }))).toBe('198.51.100.1');
    expect(clientOrigin('loopback').address(arriving('::ffff:127.0.0.1', { 'x-forwarded-for': '198.51.100.1' }))).toBe('198.51.100.1');
    expect(clientOrigin('loopback, 10.0.0.0/8').address(arriving('10.0.0.1', { 'x-forwarded-for': '198.51.100.1' }))).toBe('198.51.100.1');
  });

  it('knows TLS from the socket', () => {
    expect(clientOrigin(false).protocol(arriving('203.0.113.9', {}, true))).toBe('https');
  });
});
