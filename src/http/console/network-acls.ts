import type { Request, Response, Router } from 'express';
import type { NetworkAcl, NetworkAclSignals } from '../../domain/model.ts';
import { networkAclBody } from '../management/schemas.ts';
import { can, checked, contextOf, everyItem, formErrors, integerField, lines, renderConsole, type ConsoleKit } from './kit.ts';
import { ok } from './management-client.ts';

/** The signals a rule may match on and the surfaces it may cover, as the Management API's schema lists them. */
const ruleSchema = (networkAclBody.properties as { rule: { properties: Record<string, { properties?: object; enum?: string[] }> } }).rule.properties;
const SIGNALS = Object.keys(ruleSchema.match?.properties ?? {}) as (keyof NetworkAclSignals)[];
const SCOPES = (ruleSchema.scope?.enum ?? []).filter((scope) => scope !== 'dcr');
const ACTIONS = ['block', 'allow', 'log'] as const;
const CONDITIONS = ['match', 'not_match'] as const;

const SIGNAL_LABELS: Record<string, string> = {
  ipv4_cidrs: 'IPv4 addresses or ranges', ipv6_cidrs: 'IPv6 addresses or ranges', user_agents: 'User agents', geo_country_codes: 'Countries (ISO 3166-1)',
  geo_subdivision_codes: 'Subdivisions (ISO 3166-2)', asns: 'Autonomous systems (numbers)', ja3_fingerprints: 'JA3 fingerprints', ja4_fingerprints: 'JA4 fingerprints',
};

const FIELDS = ['description', 'active', 'priority', 'rule.scope', 'rule.action', 'rule', ...CONDITIONS.flatMap((c) => [`rule.${c}`, ...SIGNALS.map((s) => `rule.${c}.${s}`)])];

type AclInput = Pick<NetworkAcl, 'description' | 'active' | 'priority' | 'rule'>;

/** The rule a submitted form stands for: each signal one entry per line, the empty ones left out. */
function aclFrom(form: Record<string, unknown>): AclInput {
  const condition = (name: string) => {
    const signals = Object.fromEntries(SIGNALS.map((signal) => {
      const entries = lines(form[`rule.${name}.${signal}`]);
      return [signal, signal === 'asns' ? entries.map(Number) : entries];
    }).filter(([, entries]) => (entries as unknown[]).length));
    return Object.keys(signals).length ? { [name]: signals } : {};
  };
  const action = String(form['rule.action'] ?? 'block');
  return {
    description: String(form.description ?? '').trim(),
    active: checked(form.active),
    priority: integerField(form.priority) ?? 50,
    rule: { scope: String(form['rule.scope'] ?? '') as NetworkAcl['rule']['scope'], action: { [action]: true }, ...condition('match'), ...condition('not_match') },
  };
}

/** Network ACLs: who may reach which surface, by address, network, country, user agent or TLS fingerprint. */
export function networkAclPages(router: Router, kit: ConsoleKit): void {
  const base = `${kit.root}/network-acls`;

  router.get('/network-acls', async (req, res) => {
    const acls = await everyItem<NetworkAcl>('network_acls', (query) => ok(contextOf(req).api.GET('/api/v2/network-acls', { params: { query } })));
    await renderConsole(kit, req, res, 'network-acls', 'Network ACLs', 'network-acls', {
      acls: acls.sort((a, b) => a.priority - b.priority).map((acl) => ({ ...acl, action: Object.keys(acl.rule.action)[0] })), deleted: req.query.deleted === '1',
    });
  });

  async function show(req: Request, res: Response, acl: AclInput & { id?: string }, errors: Record<string, string> = {}, saved = false) {
    await renderConsole(kit, req, res, 'network-acl', acl.id ? acl.description : 'Create network ACL', 'network-acls', {
      acl, errors, saved, signals: SIGNALS.map((value) => ({ value, label: SIGNAL_LABELS[value] ?? value })), scopes: SCOPES, actions: ACTIONS, conditions: CONDITIONS,
      action: Object.keys(acl.rule.action)[0],
      editable: can(req, acl.id ? 'update:network_acls' : 'create:network_acls'), deletable: Boolean(acl.id) && can(req, 'delete:network_acls'),
    }, Object.keys(errors).length ? 400 : 200);
  }

  router.get('/network-acls/new', (req, res) => show(req, res, { description: '', active: true, priority: 50, rule: { scope: 'management', action: { block: true } } }));

  router.post('/network-acls', async (req, res) => {
    const acl = aclFrom(req.body);
    try {
      const created = await ok(contextOf(req).api.POST('/api/v2/network-acls', { body: acl as never })) as NetworkAcl;
      return res.redirect(303, `${base}/${encodeURIComponent(created.id)}?saved=1`);
    } catch (err) {
      return show(req, res, acl, formErrors(err, FIELDS));
    }
  });

  const findAcl = (req: Request) => ok(contextOf(req).api.GET('/api/v2/network-acls/{id}', { params: { path: { id: String(req.params.id) } } })) as Promise<NetworkAcl>;

  router.get('/network-acls/:id', async (req, res) => show(req, res, await findAcl(req), {}, req.query.saved === '1'));

  router.post('/network-acls/:id', async (req, res) => {
    const existing = await findAcl(req);
    const acl = aclFrom(req.body);
    try {
      await ok(contextOf(req).api.PUT('/api/v2/network-acls/{id}', { params: { path: { id: existing.id } }, body: acl as never }));
      return res.redirect(303, `${base}/${encodeURIComponent(existing.id)}?saved=1`);
    } catch (err) {
      return show(req, res, { ...acl, id: existing.id }, formErrors(err, FIELDS));
    }
  });

  router.post('/network-acls/:id/delete', async (req, res) => {
    const acl = await findAcl(req);
    await ok(contextOf(req).api.DELETE('/api/v2/network-acls/{id}', { params: { path: { id: acl.id } } }));
    return res.redirect(303, `${base}?deleted=1`);
  });
}
