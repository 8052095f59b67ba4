import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { LookupFunction } from 'node:net';
import { isAllowedAddress, isExemptHost, type OutboundExemptions } from '../domain/outbound-addresses.ts';

/** Why a document could not be fetched, in words an operator (and, folded away, a person) can act on. */
export class PublicFetchError extends Error {}

export interface PublicFetchOptions {
  /** The most bytes read; a longer body is refused. */
  maxBytes: number;
  /** The whole exchange, from the name lookup to the last byte. */
  timeoutMs: number;
  exemptions: OutboundExemptions;
  accept: string;
}

export interface PublicDocument {
  body: Buffer;
  headers: IncomingHttpHeaders;
}

/**
 * GETs a document a client pointed Gatehouse at, refusing to be used against anyone's internal network: https only,
 * no redirects followed (anything but 200 is a failure), a size limit and a deadline, and only public addresses. The
 * address is checked where it is used: the name is resolved once, by this lookup, which hands the connection only an
 * allowed address (so a second, different answer cannot be slipped in), and the socket's remote address is checked
 * again when it connects, before a byte of the request is sent (which also covers hosts written as IP addresses).
 */
export function fetchPublicDocument(url: URL, options: PublicFetchOptions): Promise<PublicDocument> {
  if (url.protocol !== 'https:') return Promise.reject(new PublicFetchError('only https URLs are fetched'));
  const exemptHost = isExemptHost(options.exemptions, url.hostname);
  const allowed = (address: string) => exemptHost || isAllowedAddress(options.exemptions, address);

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(new PublicFetchError(`the name ${hostname} could not be resolved (${err.code ?? err.message})`), '', 0);
      const usable = addresses.filter((a) => allowed(a.address));
      const [first] = usable;
      if (!first) return callback(new PublicFetchError(`${hostname} resolves to an address that is not public (${addresses.map((a) => a.address).join(', ')})`), '', 0);
      if ((lookupOptions as { all?: boolean }).all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, usable);
      return callback(null, first.address, first.family);
    });
  };

  return new Promise<PublicDocument>((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { accept: options.accept, 'user-agent': 'Gatehouse' }, agent: false, lookup });
    let refused: PublicFetchError | undefined;
    const fail = (reason: string) => {
      refused ??= new PublicFetchError(reason);
      req.destroy(refused);
    };
    const deadline = setTimeout(() => fail(`no complete answer within ${options.timeoutMs / 1000} s`), options.timeoutMs);
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        const remote = socket.remoteAddress ?? '';
        if (!allowed(remote)) fail(`${url.hostname} is at ${remote}, an address that is not public`);
      });
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        const redirect = res.statusCode && res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : '';
        return fail(`the server answered ${res.statusCode}${redirect}; only 200 is accepted`);
      }
      if (Number(res.headers['content-length'] ?? 0) > options.maxBytes) return fail(`the document is larger than ${options.maxBytes} bytes`);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) return fail(`the document is larger than ${options.maxBytes} bytes`);
        return chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(deadline);
        if (refused) reject(refused);
        else resolve({ body: Buffer.concat(chunks), headers: res.headers });
      });
      res.on('error', () => undefined); // reported through the request's error
      return undefined;
    });
    req.on('error', (err) => {
      clearTimeout(deadline);
      reject(refused ?? (err instanceof PublicFetchError ? err : new PublicFetchError(`the connection failed (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
    });
    req.end();
  });
}
