import { describe, expect, it } from '@jest/globals';
import { parseLogQuery } from '../../src/domain/log-query.ts';
import { fieldOfError } from '../../src/http/console/kit.ts';
import { detailRows, logQuery } from '../../src/http/console/logs.ts';
import { trustRulesFrom } from '../../src/http/console/settings.ts';

describe('the field a Management API error is shown beside', () => {
  const fields = ['name', 'callbacks', 'token_lifetime', 'token_lifetime_for_web', 'refresh_token.token_lifetime', 'branding.primary_color', 'branding.page_background'];

  it('is the property the message names first, never one whose name is only a part of another', () => {
    expect(fieldOfError('Payload validation error: \'Expected type integer but found type string\' on property refresh_token.token_lifetime', fields)).toBe('refresh_token.token_lifetime');
    expect(fieldOfError('token_lifetime_for_web (7200) cannot be longer than token_lifetime (3600)', fields)).toBe('token_lifetime_for_web');
    expect(fieldOfError('callbacks entry "http://x" must use https', fields)).toBe('callbacks');
    expect(fieldOfError('\'must match format "uri"\' on property callbacks.0', fields)).toBe('callbacks');
    expect(fieldOfError('branding.primary_color #ffff00 gives links on branding.page_background #f4f6fb a contrast of 1.00:1', fields)).toBe('branding.primary_color');
  });

  it('may be found by the words a form lists for a field, else it is none (the error goes above the form)', () => {
    expect(fieldOfError('Grant type password is available to first-party applications only', fields, { grant_types: ['Grant type'] })).toBe('grant_types');
    expect(fieldOfError('The resource was changed by another request at the same time; try again', fields)).toBeUndefined();
  });
});

describe('the console\'s log search and event details', () => {
  it('makes one q of the filters and the free search, each filter value quoted so that it is searched exactly', () => {
    expect(logQuery({ type: 'fp', client_id: '', user_id: 'auth0|a"b\\c', user_name: '', connection: '', ip: '', q: '' })).toBe('type:"fp" AND user_id:"auth0|a\\"b\\\\c"');
    expect(logQuery({ type: '', client_id: 'https://agent.example/client.json', user_id: '', user_name: '', connection: '', ip: '', q: 'audience:x' }))
      .toBe('client_id:"https://agent.example/client.json" AND audience:x');
    expect(logQuery({ type: '', client_id: '', user_id: '', user_name: '', connection: '', ip: '', q: '' })).toBeUndefined();
    // What the console sends, the Management API reads back as the same values.
    expect(parseLogQuery(logQuery({ type: 'fp', client_id: '', user_id: 'auth0|a"b\\c', user_name: '', connection: '', ip: '203.0.113.7', q: 'audience:x' })))
      .toEqual({ type: 'fp', user_id: 'auth0|a"b\\c', ip: '203.0.113.7', audience: 'x' });
  });

  it('shows details as readable rows, however deep', () => {
    expect(detailRows({ grant_type: 'refresh_token', registration: { redirect_hosts: ['a.example', 'b.example'], confidential: false }, keys: [{ kid: 'k1' }], nothing: null }))
      .toEqual([
        { name: 'grant type', value: 'refresh_token' },
        { name: 'registration › redirect hosts', value: 'a.example, b.example' },
        { name: 'registration › confidential', value: 'no' },
        { name: 'keys › 1 › kid', value: 'k1' },
        { name: 'nothing', value: '—' },
      ]);
    expect(detailRows(undefined)).toEqual([]);
  });
});

describe('the trust rules form', () => {
  it('sends the rows that are filled in and not removed, in order (rule i is row i when the form is shown again)', () => {
    const form = {
      rules: '4',
      'rule.0.match': 'cimd_url', 'rule.0.value': ' https://a.example/c.json ', 'rule.0.trust': 'trusted',
      'rule.1.match': 'redirect_host', 'rule.1.value': 'gone.example', 'rule.1.trust': 'blocked', 'rule.1.remove': 'on',
      'rule.2.match': 'not-a-match', 'rule.2.value': 'evil.example', 'rule.2.trust': 'blocked',
      'rule.3.match': 'redirect_host', 'rule.3.value': '', 'rule.3.trust': 'trusted',
    };
    const { rules, rows } = trustRulesFrom(form);
    expect(rules).toEqual([{ cimd_url: 'https://a.example/c.json', trust: 'trusted' }, { redirect_host: 'evil.example', trust: 'blocked' }]);
    expect(rows.map((row) => row.value)).toEqual(['https://a.example/c.json', 'evil.example']);
  });
});
