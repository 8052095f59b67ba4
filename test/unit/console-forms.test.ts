import { describe, expect, it } from '@jest/globals';
import { fieldOfError } from '../../src/http/console/kit.ts';

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
