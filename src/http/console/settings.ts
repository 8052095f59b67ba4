import type { Request, Response, Router } from 'express';
import { issuerUrl } from '../../domain/issuer.ts';
import type { ResourceServer, TenantSettings, TrustRule } from '../../domain/model.ts';
import { can, checked, contextOf, everyItem, formErrors, renderConsole, type ConsoleKit } from './kit.ts';
import { ok } from './management-client.ts';

const TRUST_RULES = 'self_registered_clients.trust_rules';
const FIELDS = [
  'friendly_name', 'picture_url', 'support_email', 'support_url', 'default_audience', 'flags.enable_dynamic_client_registration',
  'dynamic_client_registration_security_mode', 'client_id_metadata_document_supported', 'self_registered_clients.initial_trust.dynamic_registration',
  'self_registered_clients.initial_trust.client_id_metadata_document', 'self_registered_clients.over_budget', TRUST_RULES,
  'branding.primary_color', 'branding.page_background', 'branding.logo_url',
];

/** Text fields sent only when filled in: the Management API takes a URL or an email there, not an empty string. */
const filled = (entries: Record<string, unknown>) => Object.fromEntries(Object.entries(entries).map(([name, value]) => [name, String(value ?? '').trim()]).filter(([, value]) => value));

/** What a trust rule matches on: exactly one of these (the Management API checks it). */
const RULE_MATCHES = [
  { value: 'cimd_url', label: 'Client id URL, exactly' },
  { value: 'cimd_url_prefix', label: 'Client id URLs starting with' },
  { value: 'redirect_host', label: 'Redirect host' },
] as const;
type RuleMatch = (typeof RULE_MATCHES)[number]['value'];

/** One row of the trust rules' table, as the form shows it (a rule being written may not be valid yet). */
interface RuleRow {
  match: RuleMatch;
  value: string;
  trust: TrustRule['trust'];
}

const ruleRow = (rule: TrustRule): RuleRow => {
  const match = RULE_MATCHES.find((m) => rule[m.value] !== undefined)?.value ?? 'redirect_host';
  return { match, value: rule[match] ?? '', trust: rule.trust };
};

/**
 * The trust rules a submitted form stands for: its rows (`rule.N.*`, N below `rules`), without the removed and the
 * empty ones, and those rows as the form shows them again (in the same order: rule i is row i).
 */
export function trustRulesFrom(form: Record<string, unknown>): { rules: TrustRule[]; rows: RuleRow[] } {
  const count = Math.min(Math.max(0, Number.parseInt(String(form.rules ?? '0'), 10) || 0), 101);
  const rows: RuleRow[] = [];
  for (let i = 0; i < count; i += 1) {
    const match = RULE_MATCHES.find((m) => m.value === form[`rule.${i}.match`])?.value ?? 'redirect_host';
    const row: RuleRow = { match, value: String(form[`rule.${i}.value`] ?? '').trim(), trust: form[`rule.${i}.trust`] === 'blocked' ? 'blocked' : 'trusted' };
    if (!checked(form[`rule.${i}.remove`]) && row.value) rows.push(row);
  }
  return { rules: rows.map((row) => ({ [row.match]: row.value, trust: row.trust })), rows };
}

/** The rule a Management API error about `trust_rules[i]` (or `trust_rules.i`) is about: row i of the form shown again. */
const ruleOfError = (message: string) => {
  const index = /trust_rules(?:\[(\d+)\]|\.(\d+))/.exec(message);
  return index ? Number(index[1] ?? index[2]) : undefined;
};

/**
 * Tenant settings: name and support, default audience, dynamic client registration (with its warning), Client ID
 * Metadata Documents, the trust ladder of self-registered applications, branding.
 */
export function settingsPages(router: Router, kit: ConsoleKit, issuer: string): void {
  async function show(req: Request, res: Response, settings: TenantSettings, options: { errors?: Record<string, string>; saved?: boolean; rows?: RuleRow[]; ruleError?: number } = {}) {
    const apis = await everyItem<ResourceServer>('resource_servers', (query) => ok(contextOf(req).api.GET('/api/v2/resource-servers', { params: { query } })));
    const errors = options.errors ?? {};
    const editable = can(req, 'update:tenant_settings');
    const rows = options.rows ?? settings.self_registered_clients.trust_rules.map(ruleRow);
    await renderConsole(kit, req, res, 'settings', 'Tenant settings', 'settings', {
      settings, errors, saved: options.saved, apis: apis.filter((api) => !api.is_system), editable,
      registrationEndpoint: issuerUrl(issuer, 'oidc/register'),
      // One empty row to add a rule with (no script: a saved page offers the next one).
      ruleRows: editable ? [...rows, { match: 'redirect_host', value: '', trust: 'trusted' }] : rows, ruleMatches: RULE_MATCHES, ruleError: options.ruleError,
    }, Object.keys(errors).length ? 400 : 200);
  }
  const read = (req: Request) => ok(contextOf(req).api.GET('/api/v2/tenants/settings')) as Promise<TenantSettings>;

  router.get('/settings', async (req, res) => show(req, res, await read(req), { saved: req.query.saved === '1' }));

  router.post('/settings', async (req, res) => {
    const settings = await read(req);
    const form = req.body as Record<string, unknown>;
    const { rules, rows } = trustRulesFrom(form);
    const patch = {
      friendly_name: String(form.friendly_name ?? '').trim(),
      ...filled({ picture_url: form.picture_url, support_email: form.support_email, support_url: form.support_url }),
      default_audience: String(form.default_audience ?? ''),
      flags: { enable_dynamic_client_registration: checked(form['flags.enable_dynamic_client_registration']) },
      ...(settings.allow_permissive_third_party_clients
        ? { dynamic_client_registration_security_mode: String(form.dynamic_client_registration_security_mode) as TenantSettings['dynamic_client_registration_security_mode'] }
        : {}),
      client_id_metadata_document_supported: checked(form.client_id_metadata_document_supported),
      self_registered_clients: {
        initial_trust: {
          dynamic_registration: form['self_registered_clients.initial_trust.dynamic_registration'] === 'pending' ? 'pending' as const : 'trusted' as const,
          client_id_metadata_document: form['self_registered_clients.initial_trust.client_id_metadata_document'] === 'pending' ? 'pending' as const : 'trusted' as const,
        },
        trust_rules: rules,
        over_budget: form['self_registered_clients.over_budget'] === 'admit_as_pending' ? 'admit_as_pending' as const : 'refuse' as const,
      },
      branding: {
        primary_color: String(form['branding.primary_color'] ?? ''),
        page_background: String(form['branding.page_background'] ?? ''),
        ...filled({ logo_url: form['branding.logo_url'] }),
      },
    };
    try {
      await ok(contextOf(req).api.PATCH('/api/v2/tenants/settings', { body: patch }));
      return res.redirect(303, `${kit.root}/settings?saved=1`);
    } catch (err) {
      const shown = { ...settings, ...patch, flags: { ...settings.flags, ...patch.flags }, branding: { ...settings.branding, ...patch.branding } };
      const errors = formErrors(err, FIELDS);
      return show(req, res, shown, { errors, rows, ruleError: errors[TRUST_RULES] === undefined ? undefined : ruleOfError(errors[TRUST_RULES]) });
    }
  });
}
