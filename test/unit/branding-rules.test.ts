import { describe, expect, it } from '@jest/globals';
import { brandingContrastProblems, contrastRatio, DEFAULT_BRANDING, PAGE_COLOURS, readableBranding, TEXT_CONTRAST } from '../../src/domain/branding.ts';
import { defaultTenantSettings, patchTenantSettings } from '../../src/domain/tenant.ts';
import { outcome } from '../support/rules.ts';

const tenant = defaultTenantSettings({ friendly_name: 'Acme', default_audience: '', allow_permissive_third_party_clients: false });

describe('contrast (WCAG 2.2)', () => {
  it('measures contrast ratios as WCAG defines them', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#000000')).toBeCloseTo(21, 5);
    expect(contrastRatio('#777777', '#777777')).toBe(1);
    expect(contrastRatio('#3b5bdb', '#ffffff')).toBeCloseTo(5.67, 2);
    expect(contrastRatio('#ffd700', '#ffffff')).toBeCloseTo(1.4, 2);
  });

  it('keeps the pages\' own colours readable: text at 4.5:1, field borders at 3:1 (WCAG 1.4.11)', () => {
    for (const text of [PAGE_COLOURS.text, PAGE_COLOURS.muted]) {
      expect(contrastRatio(text, PAGE_COLOURS.surface)).toBeGreaterThanOrEqual(TEXT_CONTRAST);
      expect(contrastRatio(text, DEFAULT_BRANDING.page_background)).toBeGreaterThanOrEqual(TEXT_CONTRAST);
    }
    expect(contrastRatio(PAGE_COLOURS.input_border, PAGE_COLOURS.surface)).toBeGreaterThanOrEqual(3);
    expect(brandingContrastProblems(DEFAULT_BRANDING)).toEqual([]);
  });
});

describe('branding', () => {
  it('names the field, the colour, its use and the contrast found when brand colours would make the pages unreadable', () => {
    expect(brandingContrastProblems({ primary_color: '#ffd700', page_background: '#f4f6fb' })).toEqual([
      'branding.primary_color #ffd700 gives the white text of buttons a contrast of 1.40:1; WCAG 2.2 AA needs at least 4.5:1',
      'branding.primary_color #ffd700 gives links on the white page card a contrast of 1.40:1; WCAG 2.2 AA needs at least 4.5:1',
      'branding.primary_color #ffd700 gives links on branding.page_background #f4f6fb a contrast of 1.29:1; WCAG 2.2 AA needs at least 4.5:1',
    ]);
    expect(brandingContrastProblems({ primary_color: '#3b5bdb', page_background: '#1c2333' })).toEqual([
      'branding.primary_color #3b5bdb gives links on branding.page_background #1c2333 a contrast of 2.77:1; WCAG 2.2 AA needs at least 4.5:1',
      'branding.page_background #1c2333 gives the grey text (#5b6478) shown on it a contrast of 2.64:1; WCAG 2.2 AA needs at least 4.5:1',
    ]);
    expect(brandingContrastProblems({ primary_color: '#aa3300', page_background: '#fff4ec' })).toEqual([]);
  });

  it('are refused at the settings update, checked against the colour already stored beside them', () => {
    expect(outcome(() => patchTenantSettings(tenant, { branding: { primary_color: '#ffd700' } }, true))).toMatch(/^invalid: invalid_body: branding\.primary_color #ffd700 gives the white text of buttons a contrast of 1\.40:1/);
    expect(outcome(() => patchTenantSettings(tenant, { branding: { page_background: '#2f3e8c' } }, true))).toBe('invalid: invalid_body: '
      + 'branding.primary_color #3b5bdb gives links on branding.page_background #2f3e8c a contrast of 1.69:1; WCAG 2.2 AA needs at least 4.5:1; '
      + 'branding.page_background #2f3e8c gives the grey text (#5b6478) shown on it a contrast of 1.61:1; WCAG 2.2 AA needs at least 4.5:1');
    const dark = patchTenantSettings(tenant, { branding: { primary_color: '#112233' } }, true);
    expect(dark.branding).toEqual({ ...tenant.branding, primary_color: '#112233' });
    // Settings stored before the rule do not block unrelated changes.
    const legacy = { ...tenant, branding: { primary_color: '#ffd700', page_background: '#ffffff' } };
    expect(patchTenantSettings(legacy, { friendly_name: 'Acme Inc' }, true).friendly_name).toBe('Acme Inc');
  });

  it('are corrected on the pages when stored around the rule: what stays readable is kept, the rest is the default', () => {
    expect(readableBranding({ primary_color: '#aa3300', page_background: '#fff4ec' })).toEqual({ primary_color: '#aa3300', page_background: '#fff4ec' });
    expect(readableBranding({ primary_color: '#ffd700', page_background: '#fff4ec' })).toEqual({ primary_color: DEFAULT_BRANDING.primary_color, page_background: '#fff4ec' });
    expect(readableBranding({ primary_color: '#aa3300', page_background: '#1c2333' })).toEqual({ primary_color: '#aa3300', page_background: DEFAULT_BRANDING.page_background });
    expect(readableBranding({ primary_color: 'red;}body{display:none', page_background: '#000000' })).toEqual(DEFAULT_BRANDING);
    expect(readableBranding({})).toEqual(DEFAULT_BRANDING);
  });
});
