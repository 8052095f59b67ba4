import { describe, expect, it } from '@jest/globals';
import type { NetworkAcl } from '../../src/domain/model.ts';
import { draftNetworkAcl, patchNetworkAcl, replaceNetworkAcl, type NetworkAclInput, type SignalAvailability } from '../../src/domain/network-acl-rules.ts';
import { outcome } from '../support/rules.ts';

/** A deployment with a source for every signal. */
const everySignal: SignalAvailability = { missing: () => undefined };

const now = '2026-01-01T00:00:00.000Z';
const later = '2026-02-01T00:00:00.000Z';
const input = (rule: Partial<NetworkAclInput['rule']> = {}): NetworkAclInput => ({
  description: 'Block a range',
  rule: { scope: 'dynamic_client_registration', action: { block: true }, match: { ipv4_cidrs: ['198.51.100.0/24'] }, ...rule },
});

describe('draftNetworkAcl', () => {
  it('is active at priority 50 by default', () => {
    expect(draftNetworkAcl(input(), 'acl_1', now, everySignal)).toEqual({
      id: 'acl_1', description: 'Block a range', active: true, priority: 50,
      rule: { scope: 'dynamic_client_registration', action: { block: true }, match: { ipv4_cidrs: ['198.51.100.0/24'] } },
      created_at: now, updated_at: now,
    });
  });

  it('stores the documented scope alias dcr as dynamic_client_registration', () => {
    expect(draftNetworkAcl(input({ scope: 'dcr' }), 'acl_1', now, everySignal).rule.scope).toBe('dynamic_client_registration');
    expect(draftNetworkAcl(input({ scope: 'management' }), 'acl_1', now, everySignal).rule.scope).toBe('management');
  });

  it('needs a condition: a rule without one would apply to every request', () => {
    expect(outcome(() => draftNetworkAcl(input({ match: undefined }), 'acl_1', now, everySignal)))
      .toBe('invalid: invalid_body: rule needs match or not_match: a rule without conditions would apply to every request');
    expect(outcome(() => draftNetworkAcl(input({ match: {} }), 'acl_1', now, everySignal))).toBe('invalid: invalid_body: rule.match needs at least one signal');
    expect(outcome(() => draftNetworkAcl(input({ match: undefined, not_match: { user_agents: ['curl/8'] } }), 'acl_1', now, everySignal))).toBe('ok');
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
    const result = outcome(() => draftNetworkAcl(input({ match: { [signal]: [entry] } }), 'acl_1', now, everySignal));
    if (valid) expect(result).toBe('ok');
    else expect(result).toMatch(new RegExp(`^invalid: invalid_body: rule\\.match\\.${signal} entry "${entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" `));
  });

  it('checks not_match the same way', () => {
    expect(outcome(() => draftNetworkAcl(input({ not_match: { ipv6_cidrs: ['nope'] } }), 'acl_1', now, everySignal))).toMatch(/rule\.not_match\.ipv6_cidrs entry "nope"/);
  });
});

describe('signals beyond addresses and user agents', () => {
  const noGeo: SignalAvailability = { missing: (signal) => (signal.startsWith('geo_') ? 'set GEOIP_DATABASE' : undefined) };

  it('refuses a signal this deployment cannot observe, naming the field and what to set', () => {
    expect(outcome(() => draftNetworkAcl(input({ match: { geo_country_codes: ['NL'] } }), 'acl_1', now, noGeo)))
      .toBe('invalid: invalid_body: rule.match.geo_country_codes cannot be used: set GEOIP_DATABASE');
    expect(outcome(() => draftNetworkAcl(input({ match: undefined, not_match: { geo_subdivision_codes: ['US-CA'] } }), 'acl_1', now, noGeo)))
      .toBe('invalid: invalid_body: rule.not_match.geo_subdivision_codes cannot be used: set GEOIP_DATABASE');
    expect(outcome(() => draftNetworkAcl(input({ match: { asns: [64496] } }), 'acl_1', now, noGeo))).toBe('ok');
    const existing = draftNetworkAcl(input(), 'acl_1', now, noGeo);
    expect(outcome(() => patchNetworkAcl(existing, { rule: input({ match: { geo_country_codes: ['NL'] } }).rule }, later, noGeo))).toMatch(/geo_country_codes cannot be used/);
    expect(outcome(() => replaceNetworkAcl(existing, input({ match: { geo_country_codes: ['NL'] } }), later, noGeo))).toMatch(/geo_country_codes cannot be used/);
  });

  it('stores codes and fingerprints in one case, so that they compare exactly', () => {
    const rule = draftNetworkAcl(input({ match: {
      geo_country_codes: ['nl'], geo_subdivision_codes: ['us-ca'], asns: [64496], ja3_fingerprints: ['ABCDEF0123456789ABCDEF0123456789'],
      ja4_fingerprints: ['T13D1516H2_8DAAF6152771_B186095E22B6'], user_agents: ['Bot/1.0'],
    } }), 'acl_1', now, everySignal).rule;
    expect(rule.match).toEqual({
      geo_country_codes: ['NL'], geo_subdivision_codes: ['US-CA'], asns: [64496], ja3_fingerprints: ['abcdef0123456789abcdef0123456789'],
      ja4_fingerprints: ['t13d1516h2_8daaf6152771_b186095e22b6'], user_agents: ['Bot/1.0'],
    });
  });

  it.each<[string, string]>([
    ['geo_country_codes', 'NLD'],
    ['geo_country_codes', '1A'],
    ['geo_subdivision_codes', 'CA'],
    ['geo_subdivision_codes', 'US-CALI'],
    ['ja3_fingerprints', 'xyz'],
    ['ja4_fingerprints', 't13d1516h2-8daaf6152771-b186095e22b6'],
  ])('refuses %s entry %s', (signal, entry) => {
    expect(outcome(() => draftNetworkAcl(input({ match: { [signal]: [entry] } }), 'acl_1', now, everySignal))).toMatch(new RegExp(`^invalid: invalid_body: rule\\.match\\.${signal} entry "${entry}" is not `));
  });
});

describe('replacing and patching', () => {
  const existing: NetworkAcl = draftNetworkAcl({ ...input(), priority: 7, active: false }, 'acl_1', now, everySignal);

  it('PUT replaces everything, omitted fields taking their defaults, and keeps id and creation time', () => {
    expect(replaceNetworkAcl(existing, input({ scope: 'dcr' }), later, everySignal)).toEqual({
      ...draftNetworkAcl(input(), 'acl_1', later, everySignal), created_at: now,
    });
  });

  it('PATCH changes what it sends, the rule as a whole', () => {
    expect(patchNetworkAcl(existing, { active: true }, later, everySignal)).toEqual({ ...existing, active: true, updated_at: later });
    const rule = { scope: 'tenant' as const, action: { log: true as const }, match: { user_agents: ['bot'] } };
    expect(patchNetworkAcl(existing, { rule }, later, everySignal)).toEqual({ ...existing, rule, updated_at: later });
    expect(outcome(() => patchNetworkAcl(existing, { rule: { ...rule, match: { ipv4_cidrs: ['x'] } } }, later, everySignal))).toMatch(/ipv4_cidrs entry "x"/);
  });
});
