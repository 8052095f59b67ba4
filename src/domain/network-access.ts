import ipaddr from 'ipaddr.js';
import type { NetworkAcl, NetworkAclSignals } from './model.ts';

export type AclScope = NetworkAcl['rule']['scope'];

/**
 * What a request reaches, as far as network ACLs go: the Management API (`/api/v2`), registration (`/oidc/register`
 * and the portal's registration form), or the rest (`/authorize`, `/oauth/*`, `/u/*`, `/developers`, discovery…).
 */
export type AclSurface = 'management' | 'registration' | 'authentication';

/**
 * The scopes whose rules apply to each surface, as Auth0 defines them: `tenant` everywhere, `management` on the
 * Management API, `authentication` everywhere else (registration included), `dynamic_client_registration` on
 * registration only.
 */
const SCOPES_OF: Record<AclSurface, readonly AclScope[]> = {
  management: ['management', 'tenant'],
  registration: ['dynamic_client_registration', 'authentication', 'tenant'],
  authentication: ['authentication', 'tenant'],
};

/** What is known about a request; a signal left undefined is unknown (no source configured, or none sent). */
export interface RequestSignals {
  /** The client address (src/http/client-address.ts decides it); IPv4-mapped IPv6 addresses count as IPv4. */
  ip: string;
  userAgent?: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country?: string;
  /** ISO 3166-2 codes (`US-CA`), upper case: a location may lie in more than one subdivision. */
  subdivisions?: readonly string[];
  asn?: number;
  /** Lower case. */
  ja3?: string;
  /** Lower case. */
  ja4?: string;
}

export interface NetworkAccessDecision {
  /** `block` stops the request; `allow` lets it through without looking further; `none` means no rule decided. */
  action: 'allow' | 'block' | 'none';
  /** The rule that decided, if any. */
  rule?: NetworkAcl;
  /** Monitoring rules that matched on the way (to be logged). */
  logged: NetworkAcl[];
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/**
 * One form for every address: an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is the IPv4 address it carries. The
 * family is chosen before parsing, because ipaddr.js's generic parsers find it by throwing, which costs tens of µs.
 */
function canonicalAddress(text: string): Address | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  try {
    if (!bare.includes(':')) return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(bare) ? ipaddr.IPv4.parse(bare) : undefined;
    const address = ipaddr.IPv6.parse(bare);
    return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
  } catch {
    return undefined;
  }
}

/** The address in that form, as text (`::ffff:192.0.2.1` → `192.0.2.1`), for lookups keyed by address. */
export const canonicalIp = (text: string): string => canonicalAddress(text)?.toString() ?? text;

/**
 * A rule's entry in the same form as addresses: a range inside `::ffff:0:0/96` (`::ffff:7f00:1/128`,
 * `::ffff:127.0.0.0/104`) is the IPv4 range it covers. Any other IPv6 range (`::/0` included) holds IPv6 clients only.
 */
function parseRange(entry: string): Range | undefined {
  try {
    if (!entry.includes(':')) return entry.includes('/') ? ipaddr.IPv4.parseCIDR(entry) : [ipaddr.IPv4.parse(entry), 32];
    const [range, bits] = entry.includes('/') ? ipaddr.IPv6.parseCIDR(entry) : [ipaddr.IPv6.parse(entry), 128];
    return range.isIPv4MappedAddress() && bits >= 96 ? [range.toIPv4Address(), bits - 96] : [range, bits];
  } catch {
    return undefined;
  }
}

/** Rules are evaluated on every request: each entry is parsed once (entries are few, and written by administrators). */
const parsedRanges = new Map<string, Range | null>();
function canonicalRange(entry: string): Range | undefined {
  let range = parsedRanges.get(entry);
  if (range === undefined) {
    range = parseRange(entry) ?? null;
    if (parsedRanges.size >= 10_000) parsedRanges.clear();
    parsedRanges.set(entry, range);
  }
  return range ?? undefined;
}

function inRange(address: Address, entry: string): boolean {
  const range = canonicalRange(entry);
  return range !== undefined && range[0].kind() === address.kind() && address.match(range);
}

/** The request's signals, and its address parsed once for all the rules. */
interface Evaluation {
  signals: RequestSignals;
  address(): Address | undefined;
}

/**
 * For each kind of signal a rule lists, whether the request's value is one of the listed values. The IPv4 and IPv6
 * lists count as one kind (either may hold the address); an unknown value is none of the listed ones.
 */
function kindsMatched(signals: NetworkAclSignals, { signals: request, address: addressOf }: Evaluation): boolean[] {
  const kinds: boolean[] = [];
  const ranges = [...(signals.ipv4_cidrs ?? []), ...(signals.ipv6_cidrs ?? [])];
  if (ranges.length) {
    const address = addressOf();
    kinds.push(address !== undefined && ranges.some((entry) => inRange(address, entry)));
  }
  // The request's values are read only for the kinds a rule lists: some cost a database lookup.
  const oneOf = <T>(listed: readonly T[] | undefined, actual: () => readonly (T | undefined)[]) => {
    if (listed?.length) kinds.push(actual().some((value) => value !== undefined && listed.includes(value)));
  };
  oneOf(signals.user_agents, () => [request.userAgent]);
  oneOf(signals.geo_country_codes, () => [request.country]);
  oneOf(signals.geo_subdivision_codes, () => request.subdivisions ?? []);
  oneOf(signals.asns, () => [request.asn]);
  oneOf(signals.ja3_fingerprints, () => [request.ja3]);
  oneOf(signals.ja4_fingerprints, () => [request.ja4]);
  return kinds;
}

/**
 * Auth0's conditions: `match` holds when every kind of signal it lists matches (one listed value is enough within a
 * kind); `not_match` when every kind it lists matches none of its values. A rule needs both of those it has.
 */
function ruleApplies(acl: NetworkAcl, request: Evaluation): boolean {
  const { match, not_match: notMatch } = acl.rule;
  if (match && !kindsMatched(match, request).every(Boolean)) return false;
  return !notMatch || !kindsMatched(notMatch, request).some(Boolean);
}

/**
 * Auth0's tenant ACL evaluation: the active rules whose scope covers the surface, by ascending priority; the first
 * matching `block` or `allow` rule decides; `log` rules are only reported and evaluation goes on.
 */
export function evaluateNetworkAcls(acls: readonly NetworkAcl[], surface: AclSurface, signals: RequestSignals): NetworkAccessDecision {
  const scopes = SCOPES_OF[surface];
  let address: Address | null | undefined;
  const request: Evaluation = { signals, address: () => (address === undefined ? (address = canonicalAddress(signals.ip) ?? null) : address) ?? undefined };
  const logged: NetworkAcl[] = [];
  const candidates = acls.filter((acl) => acl.active && scopes.includes(acl.rule.scope)).toSorted((a, b) => a.priority - b.priority);
  for (const acl of candidates) {
    if (!ruleApplies(acl, request)) continue;
    if (acl.rule.action.log) {
      logged.push(acl);
      continue;
    }
    return { action: acl.rule.action.block ? 'block' : 'allow', rule: acl, logged };
  }
  return { action: 'none', logged };
}
