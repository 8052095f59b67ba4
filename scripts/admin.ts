/**
 * A small admin CLI over the Management API: it needs only Gatehouse's URL and the admin application's credentials.
 *
 *   npm run admin -- create-api https://api.example.com/ --name "Example API" --scope "read:items=Read your items" --offline-access
 *   npm run admin -- create-app "Partner App" --callback https://partner.example.com/callback [--type spa]
 *   npm run admin -- grant <client_id> https://api.example.com/ --scope read:items [--subject client]
 *   npm run admin -- grant --default https://api.example.com/ --scope read:items
 *   npm run admin -- enable-dcr [--off]
 *
 * create-app makes a strict third-party application and prints its secret, which is shown this once. grant gives
 * user-delegated access unless --subject client is given. Environment: GATEHOUSE_URL (default http://localhost:3000),
 * GATEHOUSE_ADMIN_CLIENT_ID, GATEHOUSE_ADMIN_CLIENT_SECRET.
 */
import { parseArgs } from 'node:util';
import { managementAudience } from '../src/domain/system-api.ts';

export interface ManagementRequest {
  method: 'POST' | 'PATCH';
  path: string;
  body: Record<string, unknown>;
}

export class UsageError extends Error {}

/** `value=description` (the description is optional). */
const apiScope = (text: string) => {
  const [value = '', ...description] = text.split('=');
  return description.length ? { value, description: description.join('=') } : { value };
};

/** The one Management API request a command line stands for. */
export function requestFor(argv: string[]): ManagementRequest {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scope: { type: 'string', multiple: true },
      'offline-access': { type: 'boolean' },
      callback: { type: 'string', multiple: true },
      type: { type: 'string' },
      default: { type: 'boolean' },
      subject: { type: 'string' },
      off: { type: 'boolean' },
    },
  });
  const need = (count: number, usage: string) => {
    if (positionals.length !== count) throw new UsageError(`usage: ${usage}`);
  };
  switch (command) {
    case 'create-api':
      need(1, 'create-api <identifier> [--name NAME] [--scope value[=description]]... [--offline-access]');
      return {
        method: 'POST',
        path: '/resource-servers',
        body: {
          identifier: positionals[0],
          ...(values.name ? { name: values.name } : {}),
          scopes: (values.scope ?? []).map(apiScope),
          allow_offline_access: values['offline-access'] ?? false,
        },
      };
    case 'create-app':
      need(1, 'create-app <name> --callback URL [--callback URL]... [--type regular_web|spa|native|non_interactive]');
      return {
        method: 'POST',
        path: '/clients',
        body: { name: positionals[0], is_first_party: false, app_type: values.type ?? 'regular_web', callbacks: values.callback ?? [] },
      };
    case 'grant': {
      need(values.default ? 1 : 2, 'grant (<client_id> | --default) <audience> [--scope SCOPE]... [--subject user|client]');
      const holder = values.default ? { default_for: 'third_party_clients' } : { client_id: positionals[0] };
      return {
        method: 'POST',
        path: '/client-grants',
        body: { ...holder, audience: positionals.at(-1), scope: values.scope ?? [], subject_type: values.subject ?? 'user' },
      };
    }
    case 'enable-dcr':
      need(0, 'enable-dcr [--off]');
      return { method: 'PATCH', path: '/tenants/settings', body: { flags: { enable_dynamic_client_registration: !values.off } } };
    default:
      throw new UsageError('commands: create-api, create-app, grant, enable-dcr (see scripts/admin.ts)');
  }
}

async function json(res: Response): Promise<Record<string, unknown>> {
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${res.status} ${String(body.message ?? body.error_description ?? body.error ?? res.statusText)}`);
  return body;
}

/** Gets a Management API token (the audience comes from the issuer that discovery names) and sends the request. */
export async function runAdmin(argv: string[], env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const request = requestFor(argv);
  const base = (env.GATEHOUSE_URL ?? 'http://localhost:3000').replace(/\/$/, '');
  const { GATEHOUSE_ADMIN_CLIENT_ID: clientId, GATEHOUSE_ADMIN_CLIENT_SECRET: clientSecret } = env;
  if (!clientId || !clientSecret) throw new UsageError('set GATEHOUSE_ADMIN_CLIENT_ID and GATEHOUSE_ADMIN_CLIENT_SECRET');
  const discovery = await fetch(`${base}/.well-known/openid-configuration`).catch((err: Error) => {
    throw new Error(`Cannot reach Gatehouse at ${base} (${String((err.cause as Error | undefined)?.message ?? err.message)})`);
  });
  const { issuer } = await json(discovery);
  const token = await json(await fetch(`${base}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience: managementAudience(String(issuer)) }),
  }));
  return json(await fetch(`${base}/api/v2${request.path}`, {
    method: request.method,
    headers: { authorization: `Bearer ${String(token.access_token)}`, 'content-type': 'application/json' },
    body: JSON.stringify(request.body),
  }));
}

if (import.meta.main) {
  try {
    process.stdout.write(`${JSON.stringify(await runAdmin(process.argv.slice(2), process.env), null, 2)}\n`);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
