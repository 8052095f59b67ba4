import ipaddr from 'ipaddr.js';

/**
 * Where Gatehouse may send a request that a client chose (its client id URL, its `jwks_uri`): public unicast addresses
 * only, never a special-use one (RFC 6890: loopback, private, link-local, carrier-grade NAT, documentation, multicast,
 * reserved…), so that a client cannot make Gatehouse reach into its own network. An operator may exempt host names
 * (any address they resolve to) and addresses or CIDR ranges, for development or internal agents.
 */
export interface OutboundExemptions {
  hosts: ReadonlySet<string>;
  ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Why an exemption entry (a host name, an address, or a CIDR range) cannot be used, or undefined. */
export function exemptionProblem(entry: string): string | undefined {
  if (entry.includes('/') ? ipaddr.isValidCIDR(entry) : ipaddr.isValid(entry) || HOST_NAME.test(entry)) return undefined;
  return 'is neither a host name, an IP address nor a CIDR range';
}

/** Parses the operator's exemptions (entries already checked by `exemptionProblem`). */
export function outboundExemptions(entries: readonly string[]): OutboundExemptions {
  const hosts = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const entry of entries.map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    if (entry.includes('/')) ranges.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      const address = ipaddr.process(entry);
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else hosts.add(entry);
  }
  return { hosts, ranges };
}

/** A host name the operator exempted (`[::1]` and `::1` alike). */
export const isExemptHost = (exemptions: OutboundExemptions, host: string) => exemptions.hosts.has(host.toLowerCase().replace(/^\[(.*)\]$/, '$1'));

/** May Gatehouse connect to this address? Public unicast, or within a range the operator exempted. */
export function isAllowedAddress(exemptions: OutboundExemptions, address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address); // IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry
  if (parsed.range() === 'unicast') return true;
  return exemptions.ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
}
