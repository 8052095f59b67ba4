import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import request from 'supertest';
import type { GatehouseConfig } from '../../src/config/schema.ts';
import { tempDir } from '../support/backends.ts';
import { startGatehouse, testConfig, type TestGatehouse } from '../support/harness.ts';
import { expectApiError, managementCaller, type ManagementCaller } from '../support/management.ts';
import { writeMmdb } from '../support/mmdb.ts';

const NO_SOURCES = testConfig().aclSignals;
const NL_CLIENT = '203.0.113.5';
const US_CLIENT = '198.51.100.5';
const JA3 = 'e7d705a3286e19ea42f587b344ee6865';
const JA4 = 't13d1516h2_8daaf6152771_b186095e22b6';

/** MaxMind databases made here, with the real format and MaxMind's record shapes (never a copy of a real database). */
function databases() {
  const dir = tempDir('gatehouse-geoip-');
  const city = path.join(dir, 'city.mmdb');
  const country = path.join(dir, 'country.mmdb');
  const asn = path.join(dir, 'asn.mmdb');
  writeMmdb(city, 'GeoIP2-City', [
    { cidr: '203.0.113.0/24', data: { country: { iso_code: 'NL' }, subdivisions: [{ iso_code: 'NH' }] } },
    { cidr: '198.51.100.0/24', data: { country: { iso_code: 'US' }, subdivisions: [{ iso_code: 'CA' }] } },
  ]);
  writeMmdb(country, 'GeoLite2-Country', [{ cidr: '203.0.113.0/24', data: { country: { iso_code: 'NL' } } }]);
  writeMmdb(asn, 'GeoLite2-ASN', [{ cidr: '203.0.113.0/24', data: { autonomous_system_number: 64496, autonomous_system_organization: 'Example Net' } }]);
  return { city, country, asn };
}

async function gatehouseWith(aclSignals: Partial<GatehouseConfig['aclSignals']>, trustProxy: GatehouseConfig['trustProxy'] = 'loopback') {
  const test = await startGatehouse({ config: { trustProxy, aclSignals: { ...NO_SOURCES, ...aclSignals } } });
  return { test, api: await managementCaller(test) };
}

const blockRule = (match: object, priority = 10) => ({ description: 'block', priority, rule: { scope: 'authentication', action: { block: true }, match } });
const portal = (test: TestGatehouse, headers: Record<string, string>) => request(test.app).get('/developers').set(headers);

describe('network ACL signals from MaxMind databases', () => {
  const files = databases();
  let test: TestGatehouse;
  let api: ManagementCaller;
  beforeAll(async () => {
    ({ test, api } = await gatehouseWith({ geoip_database: files.city, asn_database: files.asn }));
  });
  afterAll(() => test.close());

  it.each<[string, object, string, string]>([
    ['country', { geo_country_codes: ['nl'] }, NL_CLIENT, US_CLIENT],
    ['subdivision', { geo_subdivision_codes: ['US-CA'] }, US_CLIENT, NL_CLIENT],
    ['autonomous system', { asns: [64496] }, NL_CLIENT, US_CLIENT],
  ])('blocks by %s, looked up from the client address', async (_name, match, blocked, through) => {
    const { body: rule } = await api('post', '/network-acls', blockRule(match)).expect(201);
    expect((await portal(test, { 'X-Forwarded-For': blocked })).status).toBe(403);
    expect((await portal(test, { 'X-Forwarded-For': through })).status).toBe(200);
    await api('delete', `/network-acls/${rule.id}`).expect(204);
  });

  it('refuses subdivisions when the database has none, and a database of the wrong kind at start', async () => {
    const { test: countryOnly, api: countryApi } = await gatehouseWith({ geoip_database: files.country });
    expectApiError(await countryApi('post', '/network-acls', blockRule({ geo_subdivision_codes: ['US-CA'] })), 400, 'invalid_body',
      /^rule\.match\.geo_subdivision_codes cannot be used: .*aclSignals\.subdivision_header \(ACL_SUBDIVISION_HEADER\) \(the GeoLite2-Country database has no subdivisions: use a City one\)$/);
    await countryApi('post', '/network-acls', blockRule({ geo_country_codes: ['NL'] })).expect(201);
    await countryOnly.close();
    await expect(gatehouseWith({ asn_database: files.city })).rejects.toThrow('aclSignals.asn_database (GEOIP_ASN_DATABASE) names a GeoIP2-City database, which has no autonomous systems');
  });
});

describe('network ACL signals from a trusted proxy\'s headers', () => {
  const headers = {
    country_header: 'CloudFront-Viewer-Country', subdivision_header: 'CloudFront-Viewer-Country-Region', asn_header: 'CloudFront-Viewer-ASN',
    ja3_header: 'CloudFront-Viewer-JA3-Fingerprint', ja4_header: 'CloudFront-Viewer-JA4-Fingerprint',
  };

  it.each<[string, object, Record<string, string>, Record<string, string>]>([
    ['country', { geo_country_codes: ['NL'] }, { 'CloudFront-Viewer-Country': 'nl' }, { 'CloudFront-Viewer-Country': 'US' }],
    ['subdivision (sent without the country)', { geo_subdivision_codes: ['US-CA'] }, { 'CloudFront-Viewer-Country': 'US', 'CloudFront-Viewer-Country-Region': 'CA' }, { 'CloudFront-Viewer-Country': 'US', 'CloudFront-Viewer-Country-Region': 'NY' }],
    ['autonomous system', { asns: [64496] }, { 'CloudFront-Viewer-ASN': '64496' }, { 'CloudFront-Viewer-ASN': '64497' }],
    ['JA3 fingerprint', { ja3_fingerprints: [JA3] }, { 'CloudFront-Viewer-JA3-Fingerprint': JA3.toUpperCase() }, { 'CloudFront-Viewer-JA3-Fingerprint': 'a'.repeat(32) }],
    ['JA4 fingerprint', { ja4_fingerprints: [JA4] }, { 'CloudFront-Viewer-JA4-Fingerprint': JA4 }, { 'CloudFront-Viewer-JA4-Fingerprint': 't13d1516h2_8daaf6152771_000000000000' }],
  ])('blocks by %s', async (_name, match, blocked, through) => {
    const { test, api } = await gatehouseWith(headers);
    await api('post', '/network-acls', blockRule(match)).expect(201);
    expect((await portal(test, blocked)).status).toBe(403);
    expect((await portal(test, through)).status).toBe(200);
    await test.close();
  });

  it('ignores the headers when the caller is not a trusted proxy: anyone could write them', async () => {
    const { test, api } = await gatehouseWith(headers, '10.0.0.0/8');
    await api('post', '/network-acls', blockRule({ geo_country_codes: ['NL'] })).expect(201);
    await api('post', '/network-acls', blockRule({ ja3_fingerprints: [JA3] }, 11)).expect(201);
    expect((await portal(test, { 'CloudFront-Viewer-Country': 'NL', 'CloudFront-Viewer-JA3-Fingerprint': JA3 })).status).toBe(200);
    await test.close();
  });

  it('prefers the proxy\'s country to the database\'s', async () => {
    const { city } = databases();
    const { test, api } = await gatehouseWith({ ...headers, geoip_database: city });
    await api('post', '/network-acls', blockRule({ geo_country_codes: ['NL'] })).expect(201);
    expect((await portal(test, { 'X-Forwarded-For': US_CLIENT, 'CloudFront-Viewer-Country': 'NL' })).status).toBe(403);
    expect((await portal(test, { 'X-Forwarded-For': NL_CLIENT, 'CloudFront-Viewer-Country': 'US' })).status).toBe(200);
    expect((await portal(test, { 'X-Forwarded-For': NL_CLIENT })).status).toBe(403);
    await test.close();
  });
});

describe('signals without a source', () => {
  let test: TestGatehouse;
  let api: ManagementCaller;
  beforeAll(async () => {
    ({ test, api } = await gatehouseWith({}));
  });
  afterAll(() => test.close());

  it.each<[string, unknown[], string]>([
    ['geo_country_codes', ['NL'], 'aclSignals.geoip_database (GEOIP_DATABASE) or aclSignals.country_header (ACL_COUNTRY_HEADER)'],
    ['geo_subdivision_codes', ['US-CA'], 'aclSignals.geoip_database (GEOIP_DATABASE) or aclSignals.subdivision_header (ACL_SUBDIVISION_HEADER)'],
    ['asns', [64496], 'aclSignals.asn_database (GEOIP_ASN_DATABASE) or aclSignals.asn_header (ACL_ASN_HEADER)'],
    ['ja3_fingerprints', [JA3], 'aclSignals.ja3_header (ACL_JA3_HEADER)'],
    ['ja4_fingerprints', [JA4], 'aclSignals.ja4_header (ACL_JA4_HEADER)'],
  ])('refuses %s on create, replace and update, naming the field and the setting', async (signal, values, settings) => {
    const message = `rule.not_match.${signal} cannot be used: this server has no source for it; set ${settings}`;
    const body = { description: 'x', rule: { scope: 'tenant', action: { block: true }, not_match: { [signal]: values } } };
    expectApiError(await api('post', '/network-acls', body), 400, 'invalid_body', message);
    const { body: existing } = await api('post', '/network-acls', { description: 'x', priority: 90, rule: { scope: 'dcr', action: { log: true }, match: { user_agents: ['x'] } } }).expect(201);
    expectApiError(await api('put', `/network-acls/${existing.id}`, body), 400, 'invalid_body', message);
    expectApiError(await api('patch', `/network-acls/${existing.id}`, { rule: body.rule }), 400, 'invalid_body', message);
    await api('delete', `/network-acls/${existing.id}`).expect(204);
    expect((await api('get', '/network-acls').expect(200)).body).toEqual([]);
  });
});
