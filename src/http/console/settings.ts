import type { Request, Response, Router } from 'express';
import { issuerUrl } from '../../domain/issuer.ts';
import type { ResourceServer, TenantSettings } from '../../domain/model.ts';
import { can, checked, contextOf, everyItem, formErrors, renderConsole, type ConsoleKit } from './kit.ts';
import { ok } from './management-client.ts';

const FIELDS = [
  'friendly_name', 'picture_url', 'support_email', 'support_url', 'default_audience', 'flags.enable_dynamic_client_registration',
  'dynamic_client_registration_security_mode', 'branding.primary_color', 'branding.page_background', 'branding.logo_url',
];

/** Text fields sent only when filled in: the Management API takes a URL or an email there, not an empty string. */
const filled = (entries: Record<string, unknown>) => Object.fromEntries(Object.entries(entries).map(([name, value]) => [name, String(value ?? '').trim()]).filter(([, value]) => value));

/** Tenant settings: name and support, default audience, dynamic client registration (with its warning), branding. */
export function settingsPages(router: Router, kit: ConsoleKit, issuer: string): void {
  async function show(req: Request, res: Response, settings: TenantSettings, errors: Record<string, string> = {}, saved = false) {
    const apis = await everyItem<ResourceServer>('resource_servers', (query) => ok(contextOf(req).api.GET('/api/v2/resource-servers', { params: { query } })));
    await renderConsole(kit, req, res, 'settings', 'Tenant settings', 'settings', {
      settings, errors, saved, apis: apis.filter((api) => !api.is_system), editable: can(req, 'update:tenant_settings'),
      registrationEndpoint: issuerUrl(issuer, 'oidc/register'),
    }, Object.keys(errors).length ? 400 : 200);
  }
  const read = (req: Request) => ok(contextOf(req).api.GET('/api/v2/tenants/settings')) as Promise<TenantSettings>;

  router.get('/settings', async (req, res) => show(req, res, await read(req), {}, req.query.saved === '1'));

  router.post('/settings', async (req, res) => {
    const settings = await read(req);
    const form = req.body as Record<string, unknown>;
    const patch = {
      friendly_name: String(form.friendly_name ?? '').trim(),
      ...filled({ picture_url: form.picture_url, support_email: form.support_email, support_url: form.support_url }),
      default_audience: String(form.default_audience ?? ''),
      flags: { enable_dynamic_client_registration: checked(form['flags.enable_dynamic_client_registration']) },
      ...(settings.allow_permissive_third_party_clients
        ? { dynamic_client_registration_security_mode: String(form.dynamic_client_registration_security_mode) as TenantSettings['dynamic_client_registration_security_mode'] }
        : {}),
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
      return show(req, res, shown, formErrors(err, FIELDS));
    }
  });
}
