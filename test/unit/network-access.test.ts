import { describe, expect, it } from '@jest/globals';
import { evaluateNetworkAcls, type AclSurface, type RequestSignals } from '../../src/domain/network-access.ts';
import type { NetworkAcl } from '../../src/domain/model.ts';

const now = '2026-01-01T00:00:00.000Z';
const acl = (priority: number, action: NetworkAcl['rule']['action'], fields: Partial<NetworkAcl['rule']> = {}, extra: Partial<NetworkAcl> = {}): NetworkAcl => ({
  id: `acl_${priority}`, description: `rule ${priority}`, active: true, priority,
  rule: { scope: 'dynamic_client_registration', action, ...fields }, created_at: now, updated_at: now, ...extra,
});
const decide = (acls: NetworkAcl[], ip: string, userAgent?: string, more: Omit<RequestSignals, 'ip' | 'userAgent'> = {}, surface: AclSurface = 'registration') => {
  const decision = evaluateNetworkAcls(acls, surface, { ip, ...(userAgent ? { userAgent } : {}), ...more });
  return { action: decision.action, rule: decision.rule?.id, logged: decision.logged.map((l) => l.id) };
};

describe('network ACL evaluation', () => {
  it('blocks or allows by CIDR match, for IPv4, IPv4-mapped IPv6 and IPv6 addresses', () => {
    const rules = [acl(1, { block: true }, { match: { ipv4_cidrs: ['10.0.0.0/8'], ipv6_cidrs: ['2001:db8::/32'] } })];
    expect(decide(rules, '10.1.2.3').action).toBe('block');
    expect(decide(rules, '::ffff:10.1.2.3').action).toBe('block');
    expect(decide(rules, '2001:db8::1').action).toBe('block');
    expect(decide(rules, '192.168.0.1').action).toBe('none');
    expect(decide(rules, '2001:db9::1').action).toBe('none');
  });

  it('matches single addresses without a prefix length', () => {
    expect(decide([acl(1, { block: true }, { match: { ipv4_cidrs: ['127.0.0.1'] } })], '127.0.0.1').action).toBe('block');
    expect(decide([acl(1, { block: true }, { match: { ipv6_cidrs: ['::1'] } })], '::1').action).toBe('block');
  });

  it('applies not_match: block everyone outside an allow-listed range', () => {
    const rules = [acl(1, { block: true }, { not_match: { ipv4_cidrs: ['203.0.113.0/24'] } })];
    expect(decide(rules, '203.0.113.9').action).toBe('none');
    expect(decide(rules, '198.51.100.1').action).toBe('block');
  });

  it('lets the first matching rule decide, by priority, logging monitoring rules on the way', () => {
    const rules = [
      acl(30, { block: true }, { match: { ipv4_cidrs: ['0.0.0.0/0'] } }),
      acl(10, { log: true }, { match: { ipv4_cidrs: ['0.0.0.0/0'] } }),
      acl(20, { allow: true }, { match: { ipv4_cidrs: ['127.0.0.0/8'] } }),
    ];
    expect(decide(rules, '127.0.0.1')).toEqual({ action: 'allow', rule: 'acl_20', logged: ['acl_10'] });
    expect(decide(rules, '8.8.8.8')).toEqual({ action: 'block', rule: 'acl_30', logged: ['acl_10'] });
  });

  it('combines signal kinds with AND', () => {
    const rules = [acl(1, { block: true }, { match: { ipv4_cidrs: ['10.0.0.0/8'], user_agents: ['bad-bot/1.0'] } })];
    expect(decide(rules, '10.0.0.1', 'bad-bot/1.0').action).toBe('block');
    expect(decide(rules, '10.0.0.1', 'curl/8').action).toBe('none');
    expect(decide(rules, '11.0.0.1', 'bad-bot/1.0').action).toBe('none');
  });

  it('ignores inactive rules and rules of other scopes, but applies tenant-wide ones', () => {
    const everyone = { match: { ipv4_cidrs: ['0.0.0.0/0'] } };
    expect(decide([acl(1, { block: true }, everyone, { active: false })], '1.2.3.4').action).toBe('none');
    expect(decide([acl(1, { block: true }, { ...everyone, scope: 'management' })], '1.2.3.4').action).toBe('none');
    expect(decide([acl(1, { block: true }, { ...everyone, scope: 'tenant' })], '1.2.3.4').action).toBe('block');
  });

  it('never matches an address it cannot parse against a range', () => {
    expect(decide([acl(1, { block: true }, { match: { ipv4_cidrs: ['0.0.0.0/0'] } })], 'not-an-ip').action).toBe('none');
    expect(decide([acl(1, { block: true }, { not_match: { ipv4_cidrs: ['10.0.0.0/8'] } })], 'not-an-ip').action).toBe('block');
  });

  it('matches IPv4-mapped IPv6 entries against IPv4 clients, in either form', () => {
    for (const entry of ['::ffff:127.0.0.1', '::ffff:7f00:1/128', '::ffff:127.0.0.0/104', '::ffff:0:0/96']) {
      const rules = [acl(1, { block: true }, { match: { ipv6_cidrs: [entry] } })];
      expect([entry, decide(rules, '127.0.0.1').action, decide(rules, '::ffff:127.0.0.1').action]).toEqual([entry, 'block', 'block']);
      expect([entry, decide(rules, '10.0.0.1').action]).toEqual([entry, entry === '::ffff:0:0/96' ? 'block' : 'none']);
    }
    // An IPv4 entry holds the client however the socket wrote its address.
    expect(decide([acl(1, { block: true }, { match: { ipv4_cidrs: ['127.0.0.1'] } })], '::ffff:7f00:1').action).toBe('block');
    // Other IPv6 ranges, ::/0 included, hold IPv6 clients only.
    expect(decide([acl(1, { block: true }, { match: { ipv6_cidrs: ['::/0'] } })], '127.0.0.1').action).toBe('none');
    expect(decide([acl(1, { block: true }, { match: { ipv6_cidrs: ['::/0'] } })], '2001:db8::1').action).toBe('block');
  });

  it('applies each scope to the surfaces Auth0 applies it to', () => {
    const everyone = { match: { ipv4_cidrs: ['0.0.0.0/0'] } };
    const surfaces: AclSurface[] = ['management', 'authentication', 'registration'];
    const blockedOn = (scope: NetworkAcl['rule']['scope']) =>
      surfaces.filter((surface) => decide([acl(1, { block: true }, { ...everyone, scope })], '1.2.3.4', undefined, {}, surface).action === 'block');
    expect(blockedOn('tenant')).toEqual(['management', 'authentication', 'registration']);
    expect(blockedOn('management')).toEqual(['management']);
    expect(blockedOn('authentication')).toEqual(['authentication', 'registration']);
    expect(blockedOn('dynamic_client_registration')).toEqual(['registration']);
  });

  it('matches geography, autonomous systems and TLS fingerprints, one listed value being enough', () => {
    const signals = { country: 'NL', subdivisions: ['NL-NH'], asn: 64496, ja3: 'a'.repeat(32), ja4: 't13d1516h2_8daaf6152771_b186095e22b6' };
    const cases: [NetworkAcl['rule']['match'], boolean][] = [
      [{ geo_country_codes: ['US', 'NL'] }, true],
      [{ geo_country_codes: ['US'] }, false],
      [{ geo_subdivision_codes: ['NL-NH'] }, true],
      [{ geo_subdivision_codes: ['NL-ZH'] }, false],
      [{ asns: [64496] }, true],
      [{ asns: [64497] }, false],
      [{ ja3_fingerprints: ['a'.repeat(32)] }, true],
      [{ ja4_fingerprints: ['t13d1516h2_8daaf6152771_000000000000'] }, false],
      [{ geo_country_codes: ['NL'], asns: [64497] }, false],
    ];
    for (const [match, blocked] of cases) {
      expect([match, decide([acl(1, { block: true }, { match })], '1.2.3.4', undefined, signals).action]).toEqual([match, blocked ? 'block' : 'none']);
    }
  });

  it('never matches a signal it does not know, so not_match holds for it', () => {
    expect(decide([acl(1, { block: true }, { match: { geo_country_codes: ['NL'] } })], '1.2.3.4').action).toBe('none');
    expect(decide([acl(1, { block: true }, { not_match: { geo_country_codes: ['NL'] } })], '1.2.3.4').action).toBe('block');
    expect(decide([acl(1, { block: true }, { match: { user_agents: ['curl/8'] } })], '1.2.3.4').action).toBe('none');
  });

  it('not_match holds when every kind it lists matches none of its values (Auth0: block all but these)', () => {
    const rules = [acl(1, { block: true }, { not_match: { geo_country_codes: ['NL'], asns: [64496] } })];
    expect(decide(rules, '1.2.3.4', undefined, { country: 'US', asn: 1 }).action).toBe('block');
    expect(decide(rules, '1.2.3.4', undefined, { country: 'NL', asn: 1 }).action).toBe('none');
    expect(decide(rules, '1.2.3.4', undefined, { country: 'US', asn: 64496 }).action).toBe('none');
  });

  it('combines match and not_match: a country but one of its subdivisions', () => {
    const rules = [acl(1, { block: true }, { match: { geo_country_codes: ['US'] }, not_match: { geo_subdivision_codes: ['US-CA'] } })];
    expect(decide(rules, '1.2.3.4', undefined, { country: 'US', subdivisions: ['US-NY'] }).action).toBe('block');
    expect(decide(rules, '1.2.3.4', undefined, { country: 'US', subdivisions: ['US-CA'] }).action).toBe('none');
    expect(decide(rules, '1.2.3.4', undefined, { country: 'NL', subdivisions: ['NL-NH'] }).action).toBe('none');
  });
});
