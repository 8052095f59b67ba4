import { describe, expect, it } from '@jest/globals';
import { evaluateNetworkAcls } from '../../src/domain/network-access.ts';
import type { NetworkAcl } from '../../src/domain/model.ts';

const now = '2026-01-01T00:00:00.000Z';
const acl = (priority: number, action: NetworkAcl['rule']['action'], fields: Partial<NetworkAcl['rule']> = {}, extra: Partial<NetworkAcl> = {}): NetworkAcl => ({
  id: `acl_${priority}`, description: `rule ${priority}`, active: true, priority,
  rule: { scope: 'dynamic_client_registration', action, ...fields }, created_at: now, updated_at: now, ...extra,
});
const decide = (acls: NetworkAcl[], ip: string, userAgent?: string) => {
  const decision = evaluateNetworkAcls(acls, 'dynamic_client_registration', { ip, ...(userAgent ? { userAgent } : {}) });
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
});
