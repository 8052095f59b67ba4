import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import express from 'express';
import proxyaddr from 'proxy-addr';
import type { GatehouseConfig } from '../config/schema.ts';

/**
 * Who is asking, and how: the one answer every part of Gatehouse uses (network ACLs, sign-in failure limits,
 * registration limits, and oidc-provider's `ctx.ip`, `ctx.secure` and `ctx.host`, see src/oidc/provider.ts).
 * It applies Gatehouse's own `trustProxy` setting with Express's meaning: X-Forwarded-* headers are believed only from
 * a trusted proxy, and the client's address is the nearest untrusted one in X-Forwarded-For (as Express's `req.ip`).
 * In middleware mode the host application's `trust proxy` does not change it (README, "Behind a proxy").
 */
export interface ClientOrigin {
  /** The client's address, as Express's `req.ip` would give it under Gatehouse's `trustProxy`. */
  address(req: IncomingMessage): string;
  /** Whether the request came straight from a trusted proxy, so that the headers it sets can be believed. */
  viaTrustedProxy(req: IncomingMessage): boolean;
  /** `https` over TLS, or when a trusted proxy says so in X-Forwarded-Proto (as Express's `req.protocol`). */
  protocol(req: IncomingMessage): string;
  /** The Host header, or X-Forwarded-Host from a trusted proxy (as Express's `req.host`). */
  host(req: IncomingMessage): string | undefined;
}

type TrustFunction = (address: string, hop: number) => boolean;

/** Express's own reading of a `trust proxy` value (true, a hop count, `loopback`, addresses, CIDR ranges…). */
const compileTrust = (setting: GatehouseConfig['trustProxy']): TrustFunction => express().set('trust proxy', setting).get('trust proxy fn');

/** The first of a header's comma-separated values: the one the nearest proxy wrote. */
const firstValue = (header: string | string[] | undefined) => (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim() || undefined;

export function clientOrigin(trustProxy: GatehouseConfig['trustProxy']): ClientOrigin {
  const trust = compileTrust(trustProxy);
  const addresses = new WeakMap<IncomingMessage, string>();
  const viaTrustedProxy = (req: IncomingMessage) => trust(req.socket.remoteAddress ?? '', 0);
  return {
    address(req) {
      let address = addresses.get(req);
      if (address === undefined) {
        address = proxyaddr(req, trust);
        addresses.set(req, address);
      }
      return address;
    },
    viaTrustedProxy,
    protocol(req) {
      const own = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
      return (viaTrustedProxy(req) && firstValue(req.headers['x-forwarded-proto'])?.toLowerCase()) || own;
    },
    host(req) {
      return (viaTrustedProxy(req) && firstValue(req.headers['x-forwarded-host'])) || req.headers.host || undefined;
    },
  };
}
