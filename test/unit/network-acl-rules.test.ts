import { describe, expect, it } from '@jest/globals';
import type { NetworkAcl } from '../../src/domain/model.ts';
import { draftNetworkAcl, patchNetworkAcl, replaceNetworkAcl, type NetworkAclInput } from '../../src/domain/network-acl-rules.ts';
import { outcome } from '../support/rules.ts';

const now = '2026-01-01T00:00:00.000Z';
const later = '2026-02-01T00:00:00.000Z';
const input = (rule: Partial<NetworkAclInput['rule']> = {}): NetworkAclInput => ({
  description: 'Block a range',
  rule: { scope: 'dynamic_client_registration', action: { block: true }, match: { ipv4_cidrs: ['198.51.100.0/24'] }, ...rule },
});

describe('draftNetworkAcl', () => {
  it('is active at priority 50 by default', () => {
    expect(draftNetworkAcl(input(), 'acl_1', now)).toEqual({
      id: 'acl_1', description: 'Block a range', active: true, priority: 50,
      rule: { scope: 'dynamic_client_registration', action: { block: true }, match: { ipv4_cidrs: ['198.51.100.0/24'] } },
      created_at: now, updated_at: now,
    });
  });

  it('stores the documented scope alias dcr as dynamic_client_registration', () => {
    expect(draftNetworkAcl(input({ scope: 'dcr' }), 'acl_1', now).rule.scope).toBe('dynamic_client_registration');
    expect(draftNetworkAcl(input({ scope: 'management' }), 'acl_1', now).rule.scope).toBe('management');
  });

  it('needs a condition: a rule without one would apply to every request', () => {
    expect(outcome(() => draftNetworkAcl(input({ match: undefined }), 'acl_1', now)))
      .toBe('invalid: invalid_body: rule needs match or not_match: a rule without conditions would apply to every request');
    expect(outcome(() => draftNetworkAcl(input({ match: {} }), 'acl_1', now))).toBe('invalid: invalid_body: rule.match needs at least one signal');
    expect(outcome(() => draftNetworkAcl(input({ match: undefined, not_match: { user_agents: ['curl/8'] } }), 'acl_1', now))).toBe('ok');
  });

  it.each<[string, 'ipv4_cidrs' | 'ipv6_cidrs', boolean]>([
    ['203.0.113.7', 'ipv4_cidrs', true],
    ['203.0.113.0/24', 'ipv4_cidrs', true],
    ['0.0.0.0/0', 'ipv4_cidrs', true],
    ['203.0.113.0/33', 'ipv4_cidrs', false],
    ['0x7f.1', 'ipv4_cidrs', false],
    ['010.0.0.1', 'ipv4_cidrs', false],
    ['2001:db8::/32', 'ipv4_cidrs', false],
    ['not-an-ip', 'ipv4_cidrs', false],
    ['2001:db8::1', 'ipv6_cidrs', true],
    ['2001:db8::/32', 'ipv6_cidrs', true],
    ['::/0', 'ipv6_cidrs', true],
    ['2001:db8::/129', 'ipv6_cidrs', false],
    ['fe80::1%eth0', 'ipv6_cidrs', false],
    ['203.0.113.0/24', 'ipv6_cidrs', false],
  ])('%s in %s: valid %s', (entry, signal, valid) => {
    const result = outcome(() => draftNetworkAcl(input({ match: { [signal]: [entry] } }), 'acl_1', now));
    if (valid) expect(result).toBe('ok');
    else expect(result).toMatch(new RegExp(`^invalid: invalid_body: rule\\.match\\.${signal} entry "${entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" `));
  });

  it('checks not_match the same way', () => {
    expect(outcome(() => draftNetworkAcl(input({ not_match: { ipv6_cidrs: ['nope'] } }), 'acl_1', now))).toMatch(/rule\.not_match\.ipv6_cidrs entry "nope"/);
  });
});

describe('replacing and patching', () => {
  const existing: NetworkAcl = draftNetworkAcl({ ...input(), priority: 7, active: false }, 'acl_1', now);

  it('PUT replaces everything, omitted fields taking their defaults, and keeps id and creation time', () => {
    expect(replaceNetworkAcl(existing, input({ scope: 'dcr' }), later)).toEqual({
      ...draftNetworkAcl(input(), 'acl_1', later), created_at: now,
    });
  });

  it('PATCH changes what it sends, the rule as a whole', () => {
    expect(patchNetworkAcl(existing, { active: true }, later)).toEqual({ ...existing, active: true, updated_at: later });
    const rule = { scope: 'tenant' as const, action: { log: true as const }, match: { user_agents: ['bot'] } };
    expect(patchNetworkAcl(existing, { rule }, later)).toEqual({ ...existing, rule, updated_at: later });
    expect(outcome(() => patchNetworkAcl(existing, { rule: { ...rule, match: { ipv4_cidrs: ['x'] } } }, later))).toMatch(/ipv4_cidrs entry "x"/);
  });
});
