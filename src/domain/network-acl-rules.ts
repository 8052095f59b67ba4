import ipaddr from 'ipaddr.js';
import { invalidBody } from './errors.ts';
import type { NetworkAcl, NetworkAclSignals } from './model.ts';
import { applyPatch } from './updates.ts';

type AclScope = NetworkAcl['rule']['scope'];

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

export const DEFAULT_PRIORITY = 50;

export function draftNetworkAcl(input: NetworkAclInput, id: string, now: string): NetworkAcl {
  return {
    id,
    description: input.description,
    active: input.active ?? true,
    priority: input.priority ?? DEFAULT_PRIORITY,
    rule: normalizeRule(input.rule),
    created_at: now,
    updated_at: now,
  };
}

/** PUT: the whole ACL is replaced (omitted optional fields take their defaults); it keeps its id and creation time. */
export function replaceNetworkAcl(existing: NetworkAcl, input: NetworkAclInput, now: string): NetworkAcl {
  return { ...draftNetworkAcl(input, existing.id, now), created_at: existing.created_at };
}

/** PATCH: top-level fields replace, `rule` included (a rule is only meaningful whole). */
export function patchNetworkAcl(existing: NetworkAcl, patch: NetworkAclPatch, now: string): NetworkAcl {
  const { rule, ...topLevel } = patch;
  return { ...applyPatch(existing, topLevel, now), ...(rule ? { rule: normalizeRule(rule) } : {}) };
}

function normalizeRule(rule: NetworkAclRuleInput): NetworkAcl['rule'] {
  if (!rule.match && !rule.not_match) {
    throw invalidBody('rule needs match or not_match: a rule without conditions would apply to every request');
  }
  for (const [condition, signals] of [['match', rule.match], ['not_match', rule.not_match]] as const) {
    if (signals) checkSignals(condition, signals);
  }
  return { ...rule, scope: rule.scope === 'dcr' ? 'dynamic_client_registration' : rule.scope };
}

function checkSignals(condition: string, signals: NetworkAclSignals): void {
  if (!Object.keys(signals).length) throw invalidBody(`rule.${condition} needs at least one signal`);
  const families = [['ipv4_cidrs', ipv4Problem], ['ipv6_cidrs', ipv6Problem]] as const;
  for (const [signal, problemOf] of families) {
    for (const entry of signals[signal] ?? []) {
      const problem = problemOf(entry);
      if (problem) throw invalidBody(`rule.${condition}.${signal} entry "${entry.slice(0, 100)}" ${problem}`);
    }
  }
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
