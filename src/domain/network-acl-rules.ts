import ipaddr from 'ipaddr.js';
import { invalidBody } from './errors.ts';
import type { NetworkAcl, NetworkAclSignals } from './model.ts';
import type { AclScope } from './network-access.ts';
import { applyPatch } from './updates.ts';

export interface NetworkAclRuleInput extends Omit<NetworkAcl['rule'], 'scope'> {
  /** Auth0's documentation calls the registration scope `dcr`, its API `dynamic_client_registration` (spec §6.5). */
  scope: AclScope | 'dcr';
}

export interface NetworkAclInput {
  description: string;
  active?: boolean;
  priority?: number;
  rule: NetworkAclRuleInput;
}

export type NetworkAclPatch = Partial<NetworkAclInput>;

export type SignalName = keyof NetworkAclSignals;

/**
 * Which signals this deployment can observe. Addresses and user agents come with every request; the others need a
 * source the operator configures (src/http/request-signals.ts). `missing` says, for a signal without one, what to set.
 */
export interface SignalAvailability {
  missing(signal: SignalName): string | undefined;
}

export const DEFAULT_PRIORITY = 50;

export function draftNetworkAcl(input: NetworkAclInput, id: string, now: string, signals: SignalAvailability): NetworkAcl {
  return {
    id,
    description: input.description,
    active: input.active ?? true,
    priority: input.priority ?? DEFAULT_PRIORITY,
    rule: normalizeRule(input.rule, signals),
    created_at: now,
    updated_at: now,
  };
}

/** PUT: the whole ACL is replaced (omitted optional fields take their defaults); it keeps its id and creation time. */
export function replaceNetworkAcl(existing: NetworkAcl, input: NetworkAclInput, now: string, signals: SignalAvailability): NetworkAcl {
  return { ...draftNetworkAcl(input, existing.id, now, signals), created_at: existing.created_at };
}

/** PATCH: top-level fields replace, `rule` included (a rule is only meaningful whole). */
export function patchNetworkAcl(existing: NetworkAcl, patch: NetworkAclPatch, now: string, signals: SignalAvailability): NetworkAcl {
  const { rule, ...topLevel } = patch;
  return { ...applyPatch(existing, topLevel, now), ...(rule ? { rule: normalizeRule(rule, signals) } : {}) };
}

function normalizeRule(rule: NetworkAclRuleInput, available: SignalAvailability): NetworkAcl['rule'] {
  if (!rule.match && !rule.not_match) {
    throw invalidBody('rule needs match or not_match: a rule without conditions would apply to every request');
  }
  const conditions = { match: rule.match, not_match: rule.not_match };
  for (const [condition, signals] of Object.entries(conditions)) {
    if (signals) conditions[condition as keyof typeof conditions] = normalizeSignals(condition, signals, available);
  }
  return {
    scope: rule.scope === 'dcr' ? 'dynamic_client_registration' : rule.scope,
    action: rule.action,
    ...(conditions.match ? { match: conditions.match } : {}),
    ...(conditions.not_match ? { not_match: conditions.not_match } : {}),
  };
}

/**
 * Each entry must be well-formed; codes and fingerprints are stored in one case, so that they compare exactly. A
 * signal this deployment cannot observe is refused: the rule would never match (or, under not_match, always).
 */
const ENTRY_RULES: { [S in SignalName]?: { problem: (entry: string) => string | undefined; normalize?: (entry: string) => string } } = {
  ipv4_cidrs: { problem: ipv4Problem },
  ipv6_cidrs: { problem: ipv6Problem },
  geo_country_codes: { problem: shape(/^[A-Z]{2}$/i, 'is not an ISO 3166-1 alpha-2 country code (such as NL)'), normalize: (entry) => entry.toUpperCase() },
  geo_subdivision_codes: { problem: shape(/^[A-Z]{2}-[A-Z0-9]{1,3}$/i, 'is not an ISO 3166-2 subdivision code (such as US-CA)'), normalize: (entry) => entry.toUpperCase() },
  ja3_fingerprints: { problem: shape(/^[0-9a-f]{32}$/i, 'is not a JA3 fingerprint (32 hexadecimal digits)'), normalize: (entry) => entry.toLowerCase() },
  ja4_fingerprints: { problem: shape(/^[a-z0-9]{10}_[0-9a-f]{12}_[0-9a-f]{12}$/i, 'is not a JA4 fingerprint (such as t13d1516h2_8daaf6152771_b186095e22b6)'), normalize: (entry) => entry.toLowerCase() },
};

function normalizeSignals(condition: string, signals: NetworkAclSignals, available: SignalAvailability): NetworkAclSignals {
  const names = Object.keys(signals) as SignalName[];
  if (!names.length) throw invalidBody(`rule.${condition} needs at least one signal`);
  const normalized: Record<string, unknown[]> = {};
  for (const signal of names) {
    const missing = available.missing(signal);
    if (missing) throw invalidBody(`rule.${condition}.${signal} cannot be used: ${missing}`);
    const entries = signals[signal] ?? [];
    const rules = ENTRY_RULES[signal];
    if (!rules) {
      normalized[signal] = entries;
      continue;
    }
    for (const entry of entries as string[]) {
      const problem = rules.problem(entry);
      if (problem) throw invalidBody(`rule.${condition}.${signal} entry "${entry.slice(0, 100)}" ${problem}`);
    }
    normalized[signal] = rules.normalize ? (entries as string[]).map(rules.normalize) : entries;
  }
  return normalized as NetworkAclSignals;
}

function shape(pattern: RegExp, problem: string) {
  return (entry: string) => (pattern.test(entry) ? undefined : problem);
}

/** Dotted-quad only: ipaddr.js would also accept forms such as 0x7f.1, which no proxy header carries. */
function ipv4Problem(entry: string): string | undefined {
  const valid = entry.includes('/') ? ipaddr.IPv4.isValidCIDRFourPartDecimal(entry) : ipaddr.IPv4.isValidFourPartDecimal(entry);
  return valid ? undefined : 'is not an IPv4 address or CIDR range (such as 203.0.113.0/24)';
}

/** Zone ids (fe80::1%eth0) are local to a host: they mean nothing in a rule. */
function ipv6Problem(entry: string): string | undefined {
  if (entry.includes('%')) return 'must not carry a zone id';
  const valid = entry.includes('/') ? ipaddr.IPv6.isValidCIDR(entry) : ipaddr.IPv6.isValid(entry);
  return valid ? undefined : 'is not an IPv6 address or CIDR range (such as 2001:db8::/32)';
}
