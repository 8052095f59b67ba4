import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { knownAgents } from '../../src/config/known-agents.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

const load = (env: Record<string, string>) => loadConfig({ env: { NODE_ENV: 'test', ...env } });

describe('configuration', () => {
  it('has working defaults: port 3000, issuer derived from the port, embedded storage', () => {
    const config = load({});
    expect(config).toMatchObject({ env: 'test', port: 3000, issuer: 'http://localhost:3000', mongodbUri: null, redisUrl: null, trustProxy: false });
    expect(config.seed.resource_servers[0]?.identifier).toBe('https://api.example.com/');
  });

  it('applies environment overrides', () => {
    const config = load({ PORT: '4000', ISSUER: 'https://id.example.com', REDIS_URL: 'redis://127.0.0.1:6379', TRUST_PROXY: '2', COOKIE_KEYS: `${'a'.repeat(32)}, ${'b'.repeat(32)}` });
    expect(config).toMatchObject({ port: 4000, issuer: 'https://id.example.com', redisUrl: 'redis://127.0.0.1:6379', trustProxy: 2 });
    expect(config.cookieKeys).toHaveLength(2);
    expect(load({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(load({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
  });

  it('reads the hosts exempted from the public-address rule of metadata documents, empty by default, and checks each', () => {
    expect(load({}).cimd.allowed_private_hosts).toEqual([]);
    expect(load({ GATEHOUSE_CIMD_ALLOWED_HOSTS: 'localhost, agents.internal,10.0.0.0/8' }).cimd.allowed_private_hosts).toEqual(['localhost', 'agents.internal', '10.0.0.0/8']);
    expect(() => load({ GATEHOUSE_CIMD_ALLOWED_HOSTS: 'localhost,http://x' })).toThrow('Invalid configuration: cimd.allowed_private_hosts (GATEHOUSE_CIMD_ALLOWED_HOSTS) entry "http://x" is neither a host name, an IP address nor a CIDR range');
  });

  it('ships the known agents with the sources of their URLs, and adds the operator\'s own after them', () => {
    const own = { client_id: 'https://agents.example.com/client.json', name: 'Our Agent', vendor: 'Example Corp' };
    const agents = knownAgents([own]);
    expect(agents.at(-1)).toEqual(own);
    expect(agents.length).toBeGreaterThan(5);
    for (const agent of agents.slice(0, -1)) {
      expect(agent.client_id).toMatch(/^https:\/\/[^/]+\/./);
      expect(agent.sources?.length).toBeGreaterThan(0);
    }
  });

  it('reads the network ACL signal sources from the environment, and checks the databases exist', () => {
    const config = load({ GEOIP_DATABASE: import.meta.filename, ACL_COUNTRY_HEADER: 'CloudFront-Viewer-Country', ACL_JA4_HEADER: 'x-ja4' });
    expect(config.aclSignals).toEqual({
      geoip_database: import.meta.filename, asn_database: null, country_header: 'CloudFront-Viewer-Country', subdivision_header: null,
      asn_header: null, ja3_header: null, ja4_header: 'x-ja4',
    });
    expect(() => load({ GEOIP_ASN_DATABASE: '/nonexistent/GeoLite2-ASN.mmdb' })).toThrow('aclSignals.asn_database (GEOIP_ASN_DATABASE) names /nonexistent/GeoLite2-ASN.mmdb, which does not exist');
  });

  it.each([
    [{ ACL_COUNTRY_HEADER: 'X Country' }, 'ACL_COUNTRY_HEADER (aclSignals.country_header)'],
    [{ PORT: 'eighty' }, 'PORT (port)'],
    [{ PORT: '70000' }, 'PORT (port)'],
    [{ ISSUER: 'not a url' }, 'ISSUER (issuer)'],
    [{ ISSUER: 'https://id.example.com/?tenant=1' }, 'ISSUER (issuer)'], // a trailing slash is fine (Auth0's style), a query is not
    [{ MONGODB_URI: 'postgres://x' }, 'MONGODB_URI (mongodbUri)'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL (redisUrl)'],
    [{ COOKIE_KEYS: 'short' }, 'COOKIE_KEYS (cookieKeys.0)'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL (logLevel)'],
    [{ GATEHOUSE_ADMIN_CLIENT_ID: 'admin-client-1' }, 'GATEHOUSE_ADMIN_CLIENT_SECRET'],
  ])('names the setting at fault: %p', (env, setting) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(setting);
  });

  it('insists on https, cookie keys and admin credentials in production', () => {
    const production = { NODE_ENV: 'production' };
    expect(() => load(production)).toThrow(/ISSUER \(issuer\) must be an https/);
    expect(() => load({ ...production, ISSUER: 'https://id.example.com' })).toThrow(/COOKIE_KEYS/);
    expect(() => load({ ...production, ISSUER: 'https://id.example.com', COOKIE_KEYS: 'k'.repeat(32) })).toThrow(/GATEHOUSE_ADMIN_CLIENT_ID/);
    const complete = { ...production, ISSUER: 'https://id.example.com', COOKIE_KEYS: 'k'.repeat(32), GATEHOUSE_ADMIN_CLIENT_ID: 'admin-client', GATEHOUSE_ADMIN_CLIENT_SECRET: 's'.repeat(40) };
    expect(() => load(complete)).toThrow(/GATEHOUSE_KEY_ENCRYPTION_KEY \(keyEncryptionKeys\) must be set in production/);
    expect(load({ ...complete, GATEHOUSE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') }).env).toBe('production');
  });

  it('refuses a key-encryption key that is not 32 bytes, without showing it', () => {
    const error = (() => {
      try {
        load({ GATEHOUSE_KEY_ENCRYPTION_KEY: 'c2hvcnQtc2VjcmV0LXZhbHVl' });
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(error).toMatch(/GATEHOUSE_KEY_ENCRYPTION_KEY must be 32 bytes in base64 \(got 18 bytes\)/);
    expect(error).not.toContain('c2hvcnQtc2VjcmV0LXZhbHVl');
  });

  it('names a missing CONFIG_FILE', () => {
    expect(() => load({ CONFIG_FILE: '/nonexistent/gatehouse.json' })).toThrow(/CONFIG_FILE/);
  });
});
