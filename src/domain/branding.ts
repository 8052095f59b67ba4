import type { TenantSettings } from './model.ts';

type Branding = Pick<TenantSettings['branding'], 'primary_color' | 'page_background'>;

/** What the tenant's pages look like before any branding. */
export const DEFAULT_BRANDING: Branding = { primary_color: '#3b5bdb', page_background: '#f4f6fb' };

/**
 * The pages' own colours, which branding does not change (served as CSS variables by /u/theme.css, so that the rule
 * below and the pages never disagree). `muted` is the lightest text; `input_border` outlines form fields.
 */
export const PAGE_COLOURS = {
  text: '#1c2333',
  muted: '#5b6478',
  surface: '#ffffff',
  on_primary: '#ffffff',
  border: '#d9deea',
  input_border: '#767f93',
} as const;

/** WCAG 2.2 AA for text (1.4.3); what identifies a control (1.4.11: borders, focus rings) needs 3:1. */
export const TEXT_CONTRAST = 4.5;

/** Brand colours are `#rrggbb` (the Management API's schema uses this pattern too). */
export const HEX_COLOUR_PATTERN = '^#[0-9A-Fa-f]{6}$';
const HEX_COLOUR = new RegExp(HEX_COLOUR_PATTERN);

export const isHexColour = (value: unknown): value is string => typeof value === 'string' && HEX_COLOUR.test(value);

/** WCAG's relative luminance of a `#rrggbb` colour. */
function luminance(hex: string): number {
  const channel = (offset: number) => {
    const value = Number.parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** WCAG's contrast ratio between two `#rrggbb` colours, from 1 (none) to 21 (black on white). */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** How a brand colour is used on the pages: beside which colour, for what. */
const USES: { field: keyof Branding; beside: (b: Branding) => string; use: (b: Branding) => string }[] = [
  { field: 'primary_color', beside: () => PAGE_COLOURS.on_primary, use: () => 'the white text of buttons' },
  { field: 'primary_color', beside: () => PAGE_COLOURS.surface, use: () => 'links on the white page card' },
  { field: 'primary_color', beside: (b) => b.page_background, use: (b) => `links on branding.page_background ${b.page_background}` },
  { field: 'page_background', beside: () => PAGE_COLOURS.muted, use: () => `the grey text (${PAGE_COLOURS.muted}) shown on it` },
];

/**
 * Why these brand colours would make the pages fail WCAG 2.2 AA (empty when they do not): each names the field, the
 * colour, what it is used for and the contrast found. The focus ring is drawn in the primary colour on white, so the
 * 4.5:1 asked of links covers its 3:1.
 */
export function brandingContrastProblems(branding: Branding): string[] {
  const problems: string[] = [];
  for (const { field, beside, use } of USES) {
    const colour = branding[field];
    const other = beside(branding);
    if (!isHexColour(colour) || !isHexColour(other)) continue; // shapes are the schema's business
    const ratio = contrastRatio(colour, other);
    if (ratio < TEXT_CONTRAST) {
      problems.push(`branding.${field} ${colour} gives ${use(branding)} a contrast of ${(Math.floor(ratio * 100) / 100).toFixed(2)}:1; WCAG 2.2 AA needs at least ${TEXT_CONTRAST}:1`);
    }
  }
  return problems;
}

/**
 * The colours the pages use: the tenant's, when they are well-formed and readable together; otherwise as much of them
 * as stays readable with the defaults (settings stored before this rule, or written around the API).
 */
export function readableBranding(branding: Partial<Branding>): Branding {
  const candidates: Branding[] = [
    { primary_color: branding.primary_color ?? '', page_background: branding.page_background ?? '' },
    { primary_color: branding.primary_color ?? '', page_background: DEFAULT_BRANDING.page_background },
    { primary_color: DEFAULT_BRANDING.primary_color, page_background: branding.page_background ?? '' },
  ];
  return candidates.find((c) => isHexColour(c.primary_color) && isHexColour(c.page_background) && !brandingContrastProblems(c).length) ?? DEFAULT_BRANDING;
}
