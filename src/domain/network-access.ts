import ipaddr from 'ipaddr.js';
import type { NetworkAcl, NetworkAclSignals } from './model.ts';

export interface RequestSignals {
  /** The client address as the server sees it (IPv4-mapped IPv6 addresses are treated as IPv4). */
  ip: string;
  userAgent?: string;
}

export interface NetworkAccessDecision {
  /** `block` stops the request; `allow` lets it through without looking further; `none` means no rule decided. */
  action: 'allow' | 'block' | 'none';
  /** The rule that decided, if any. */
  rule?: NetworkAcl;
  /** Monitoring rules that matched on the way (to be logged). */
  logged: NetworkAcl[];
}

function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  try {
    return ipaddr.process(ip.replace(/^\[|\]$/g, ''));
  } catch {
    return undefined;
  }
}

function inRange(address: ipaddr.IPv4 | ipaddr.IPv6, entry: string): boolean {
  try {
    const [range, bits] = entry.includes('/') ? ipaddr.parseCIDR(entry) : [ipaddr.parse(entry), address.kind() === 'ipv4' ? 32 : 128];
    return range.kind() === address.kind() && address.match(range, bits);
  } catch {
    return false;
  }
}

/** Signals of one kind match when any entry does; the address lists (IPv4 or IPv6) count as one kind; kinds combine with AND. */
function signalsMatch(signals: NetworkAclSignals, request: RequestSignals): boolean {
  const address = parseAddress(request.ip);
  const ranges = [...(signals.ipv4_cidrs ?? []), ...(signals.ipv6_cidrs ?? [])];
  const checks: boolean[] = [];
  if (ranges.length) checks.push(address !== undefined && ranges.some((entry) => inRange(address, entry)));
  if (signals.user_agents?.length) checks.push(signals.user_agents.includes(request.userAgent ?? ''));
  return checks.length > 0 && checks.every(Boolean);
}

const ruleApplies = (acl: NetworkAcl, request: RequestSignals) =>
  (!acl.rule.match || signalsMatch(acl.rule.match, request)) && (!acl.rule.not_match || !signalsMatch(acl.rule.not_match, request));

/**
 * Auth0's tenant ACL evaluation: active rules of the scope (or tenant-wide), by ascending priority; the first
 * matching `block` or `allow` rule decides; `log` rules are only reported and evaluation goes on.
 */
export function evaluateNetworkAcls(acls: readonly NetworkAcl[], scope: NetworkAcl['rule']['scope'], request: RequestSignals): NetworkAccessDecision {
  const logged: NetworkAcl[] = [];
  const candidates = acls.filter((acl) => acl.active && (acl.rule.scope === scope || acl.rule.scope === 'tenant')).toSorted((a, b) => a.priority - b.priority);
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
