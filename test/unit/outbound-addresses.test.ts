import { describe, expect, it } from '@jest/globals';
import { exemptionProblem, isAllowedAddress, isExemptHost, outboundExemptions } from '../../src/domain/outbound-addresses.ts';

describe('where Gatehouse may connect on a client\'s say-so (RFC 6890)', () => {
  const none = outboundExemptions([]);

  it.each(['8.8.8.8', '2606:4700::1111', '1.1.1.1'])('allows the public address %s', (address) => {
    expect(isAllowedAddress(none, address)).toBe(true);
  });

  it.each([
    '127.0.0.1', '::1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1',
    '192.0.2.1', '198.51.100.1', '203.0.113.1', '198.18.0.1', '240.0.0.1', 'fc00::1', 'fe80::1', '2001:db8::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1',
    '64:ff9b::a00:1', '2002:a00:1::1', 'not an address',
  ])('refuses the special-use address %s', (address) => {
    expect(isAllowedAddress(none, address)).toBe(false);
  });

  it('lets the operator exempt ranges, addresses and host names', () => {
    const exempt = outboundExemptions(['10.0.0.0/8', '192.168.1.7', 'Agents.Internal', 'fd00::/8']);
    expect(isAllowedAddress(exempt, '10.200.0.1')).toBe(true);
    expect(isAllowedAddress(exempt, '::ffff:10.0.0.1')).toBe(true);
    expect(isAllowedAddress(exempt, '192.168.1.7')).toBe(true);
    expect(isAllowedAddress(exempt, '192.168.1.8')).toBe(false);
    expect(isAllowedAddress(exempt, 'fd12::1')).toBe(true);
    expect(isAllowedAddress(exempt, '127.0.0.1')).toBe(false);
    expect(isExemptHost(exempt, 'agents.internal')).toBe(true);
    expect(isExemptHost(exempt, 'other.internal')).toBe(false);
  });

  it('checks each exemption the operator writes', () => {
    for (const entry of ['localhost', 'agents.example.com', '10.0.0.0/8', '::1', 'fd00::/8']) expect(exemptionProblem(entry)).toBeUndefined();
    for (const entry of ['10.0.0.0/33', 'http://x', 'bad host', '*.example.com']) expect(exemptionProblem(entry)).toBe('is neither a host name, an IP address nor a CIDR range');
  });
});
