/**
 * The admin CLI over the Management API: it needs only Gatehouse's URL and the admin application's credentials
 * (GATEHOUSE_URL, default http://localhost:3000; GATEHOUSE_ADMIN_CLIENT_ID; GATEHOUSE_ADMIN_CLIENT_SECRET).
 *
 *   npm run admin -- --help                       every command and option
 *   npm run admin -- list-apps --json             the Management API's own JSON
 *
 * Each command is one entry of COMMANDS: its usage, its options and the Management API requests it stands for, so
 * that `--help`, argument checking and the requests cannot disagree.
 */
import { parseArgs } from 'node:util';
import { managementAudience } from '../src/domain/system-api.ts';

export interface ManagementRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: Record<string, unknown>;
  /** A list: fetched page by page (100 at a time) until it ends or holds `limit` items. */
  limit?: number;
}

export class UsageError extends Error {}

type Values = Record<string, string | boolean | string[] | undefined>;
interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** `--name VALUE` in the help text, and what the option does. */
  value?: string;
  help: string;
}

/** How a person reads the answer (`--json` prints the Management API's JSON instead). */
type Presenter = { table: Record<string, (row: Record<string, unknown>) => unknown> } | { fields: true } | { done: (positionals: string[], values: Values) => string }
  | { text: (result: Record<string, unknown>) => string };

interface Command {
  group: string;
  /** The positional arguments, as the usage line shows them; `[x]` is optional. */
  args: string[];
  summary: string;
  options?: Record<string, OptionSpec>;
  /** How many positional arguments the options call for, when `args` alone does not say it. */
  arity?: (values: Values) => number;
  /** The requests it stands for; none: the command's answer is the admin application's token answer itself. */
  requests(positionals: string[], values: Values): ManagementRequest[];
  present: Presenter;
}

const id = encodeURIComponent;
const limitOption: Record<string, OptionSpec> = { number: { type: 'string', value: 'N', help: 'show at most N (default 50, at most 1000)' } };
const limitOf = (values: Values) => {
  const raw = (values.number as string | undefined) ?? '50';
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 1000) throw new UsageError('--number must be a whole number from 1 to 1000');
  return Number(raw);
};
const query = (filters: Record<string, string | undefined>) => {
  const search = new URLSearchParams(Object.entries(filters).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return search.size ? `?${search}` : '';
};
const list = (path: string, values: Values, filters: Record<string, string | undefined> = {}): ManagementRequest[] =>
  [{ method: 'GET', path: `${path}${query(filters)}`, limit: limitOf(values) }];

/** `value=description` (the description is optional). */
const apiScope = (text: string) => {
  const [value = '', ...description] = text.split('=');
  return description.length ? { value, description: description.join('=') } : { value };
};
const joined = (value: unknown) => (Array.isArray(value) ? value.map((v) => (typeof v === 'object' && v && 'value' in v ? v.value : v)).join(' ') : value);

const tenantFlag = (enabled: boolean): ManagementRequest[] => [{ method: 'PATCH', path: '/tenants/settings', body: { flags: { enable_dynamic_client_registration: enabled } } }];
const registrationDone = (enabled: boolean) => () => `Dynamic client registration is ${enabled ? 'on' : 'off'}.`;

/** `show-…`: one entity by its id (or an API's identifier), one field a line. */
const showCommand = (group: string, arg: string, summary: string, collection: string): Command => ({
  group, args: [arg], summary,
  requests: ([key]) => [{ method: 'GET', path: `${collection}/${id(key as string)}` }],
  present: { fields: true },
});
/** `delete-…`: one entity by its id; the Management API answers 204. */
const deleteCommand = (group: string, arg: string, summary: string, collection: string, noun: string): Command => ({
  group, args: [arg], summary,
  requests: ([key]) => [{ method: 'DELETE', path: `${collection}/${id(key as string)}` }],
  present: { done: ([key]) => `Deleted ${noun} ${key}.` },
});

export const COMMANDS: Record<string, Command> = {
  'list-apps': {
    group: 'Applications', args: [], summary: 'List applications', options: limitOption,
    requests: (_, values) => list('/clients', values),
    present: { table: { client_id: (r) => r.client_id, name: (r) => r.name, type: (r) => r.app_type, party: (r) => (r.is_first_party ? 'first' : 'third') } },
  },
  'show-app': showCommand('Applications', '<client_id>', 'Show an application', '/clients'),
  'create-app': {
    group: 'Applications', args: ['<name>'], summary: 'Create a strict third-party application (its secret is shown this once)',
    options: {
      callback: { type: 'string', multiple: true, value: 'URL', help: 'an allowed callback URL' },
      type: { type: 'string', value: 'TYPE', help: 'regular_web (default), spa, native or non_interactive' },
    },
    requests: ([name], values) => [{
      method: 'POST', path: '/clients',
      body: { name, is_first_party: false, app_type: values.type ?? 'regular_web', callbacks: values.callback ?? [] },
    }],
    present: { fields: true },
  },
  'delete-app': deleteCommand('Applications', '<client_id>', 'Delete an application, its client grants, consents and tokens', '/clients', 'application'),
  'rotate-secret': {
    group: 'Applications', args: ['<client_id>'], summary: 'Give an application a new secret (shown this once; the old one stops working)',
    requests: ([clientId]) => [{ method: 'POST', path: `/clients/${id(clientId as string)}/rotate-secret` }],
    present: { fields: true },
  },

  'list-apis': {
    group: 'APIs', args: [], summary: 'List APIs', options: limitOption,
    requests: (_, values) => list('/resource-servers', values),
    present: { table: { id: (r) => r.id, identifier: (r) => r.identifier, name: (r) => r.name, scopes: (r) => joined(r.scopes) } },
  },
  'show-api': showCommand('APIs', '<id|identifier>', 'Show an API', '/resource-servers'),
  'create-api': {
    group: 'APIs', args: ['<identifier>'], summary: 'Create an API',
    options: {
      name: { type: 'string', value: 'NAME', help: 'its name (default: the identifier)' },
      scope: { type: 'string', multiple: true, value: 'VALUE[=DESCRIPTION]', help: 'a scope it defines' },
      'offline-access': { type: 'boolean', help: 'allow refresh tokens for it' },
    },
    requests: ([identifier], values) => [{
      method: 'POST', path: '/resource-servers',
      body: {
        identifier,
        ...(values.name ? { name: values.name } : {}),
        scopes: ((values.scope as string[] | undefined) ?? []).map(apiScope),
        allow_offline_access: values['offline-access'] ?? false,
      },
    }],
    present: { fields: true },
  },
  'delete-api': deleteCommand('APIs', '<id|identifier>', 'Delete an API and its client grants', '/resource-servers', 'API'),

  'list-grants': {
    group: 'Client grants', args: [], summary: 'List client grants (what applications may ask of APIs)',
    options: {
      client: { type: 'string', value: 'CLIENT_ID', help: 'only this application\'s' },
      audience: { type: 'string', value: 'IDENTIFIER', help: 'only for this API' },
      ...limitOption,
    },
    requests: (_, values) => list('/client-grants', values, { client_id: values.client as string | undefined, audience: values.audience as string | undefined }),
    present: { table: { id: (r) => r.id, for: (r) => r.client_id ?? `default: ${String(r.default_for)}`, audience: (r) => r.audience, scope: (r) => joined(r.scope), subject: (r) => r.subject_type } },
  },
  'show-grant': showCommand('Client grants', '<id>', 'Show a client grant', '/client-grants'),
  grant: {
    group: 'Client grants', args: ['<client_id>', '<audience>'], summary: 'Let an application (or, with --default, every third-party one) use an API',
    arity: (values) => (values.default ? 1 : 2),
    options: {
      default: { type: 'boolean', help: 'instead of <client_id>: the default grant of third-party applications' },
      scope: { type: 'string', multiple: true, value: 'SCOPE', help: 'a scope it allows' },
      subject: { type: 'string', value: 'user|client', help: 'for users\' tokens (default) or the application\'s own' },
    },
    requests: (positionals, values) => {
      const holder = values.default ? { default_for: 'third_party_clients' } : { client_id: positionals[0] };
      return [{ method: 'POST', path: '/client-grants', body: { ...holder, audience: positionals.at(-1), scope: values.scope ?? [], subject_type: values.subject ?? 'user' } }];
    },
    present: { fields: true },
  },
  'delete-grant': deleteCommand('Client grants', '<id>', 'Delete a client grant', '/client-grants', 'client grant'),

  'list-connections': {
    group: 'Connections', args: [], summary: 'List connections', options: limitOption,
    requests: (_, values) => list('/connections', values),
    present: { table: { id: (r) => r.id, name: (r) => r.name, strategy: (r) => r.strategy, domain: (r) => (r.is_domain_connection ? 'yes' : 'no') } },
  },
  'show-connection': showCommand('Connections', '<id>', 'Show a connection', '/connections'),
  'delete-connection': deleteCommand('Connections', '<id>', 'Delete a connection and its users', '/connections', 'connection'),

  'list-users': {
    group: 'Users', args: [], summary: 'List users',
    options: { email: { type: 'string', value: 'EMAIL', help: 'only users with this email' }, ...limitOption },
    requests: (_, values) => list('/users', values, { q: values.email === undefined ? undefined : `email:"${String(values.email)}"` }),
    present: { table: { user_id: (r) => r.user_id, email: (r) => r.email, connection: (r) => r.connection, blocked: (r) => (r.blocked ? 'yes' : 'no') } },
  },
  'show-user': showCommand('Users', '<user_id>', 'Show a user', '/users'),
  'delete-user': deleteCommand('Users', '<user_id>', 'Delete a user, their consents and tokens', '/users', 'user'),
  block: {
    group: 'Users', args: ['<user_id>'], summary: 'Block a user from signing in',
    requests: ([user]) => [{ method: 'PATCH', path: `/users/${id(user as string)}`, body: { blocked: true } }],
    present: { done: ([user]) => `Blocked ${user}.` },
  },
  unblock: {
    group: 'Users', args: ['<user_id>'], summary: 'Unblock a user: lift an administrator\'s block and the block after failed sign-ins',
    requests: ([user]) => [
      { method: 'DELETE', path: `/user-blocks/${id(user as string)}` },
      { method: 'PATCH', path: `/users/${id(user as string)}`, body: { blocked: false } },
    ],
    present: { done: ([user]) => `Unblocked ${user}.` },
  },
  'list-consents': {
    group: 'Users', args: [], summary: 'List the consents users gave to applications',
    options: {
      user: { type: 'string', value: 'USER_ID', help: 'only this user\'s' },
      client: { type: 'string', value: 'CLIENT_ID', help: 'only to this application' },
      ...limitOption,
    },
    requests: (_, values) => list('/grants', values, { user_id: values.user as string | undefined, client_id: values.client as string | undefined }),
    present: { table: { id: (r) => r.id, user_id: (r) => r.user_id, client_id: (r) => r.clientID, audience: (r) => r.audience, scope: (r) => joined(r.scope) } },
  },
  'revoke-consent': {
    group: 'Users', args: ['[<id>]'], summary: 'Revoke a consent, or with --user all of a user\'s, and the tokens issued under them',
    options: { user: { type: 'string', value: 'USER_ID', help: 'revoke every consent of this user' } },
    requests: ([grant], values) => {
      if (Boolean(grant) === Boolean(values.user)) throw new UsageError('usage: revoke-consent (<id> | --user USER_ID)');
      return [{ method: 'DELETE', path: grant ? `/grants/${id(grant)}` : `/grants${query({ user_id: values.user as string })}` }];
    },
    present: { done: ([grant], values) => (grant ? `Revoked consent ${grant}.` : `Revoked every consent of ${String(values.user)}.`) },
  },

  token: {
    group: 'Tenant', args: [], summary: 'Print a Management API access token (for curl: export TOKEN=$(npm run -s admin -- token))',
    requests: () => [],
    present: { text: (answer) => String(answer.access_token) },
  },
  'enable-dcr': {
    group: 'Tenant', args: [], summary: 'Turn dynamic client registration on (or off, with --off)',
    options: { off: { type: 'boolean', help: 'turn it off' } },
    requests: (_, values) => tenantFlag(!values.off),
    present: { done: (_, values) => registrationDone(!values.off)() },
  },
  'disable-dcr': {
    group: 'Tenant', args: [], summary: 'Turn dynamic client registration off',
    requests: () => tenantFlag(false),
    present: { done: registrationDone(false) },
  },
  'show-settings': {
    group: 'Tenant', args: [], summary: 'Show the tenant settings',
    requests: () => [{ method: 'GET', path: '/tenants/settings' }],
    present: { fields: true },
  },
};

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', help: 'print the Management API\'s JSON instead of a table or a sentence' },
  help: { type: 'boolean', help: 'show the usage of a command (or of all, without one)' },
};

const usageOf = (name: string, command: Command) => {
  const options = Object.entries(command.options ?? {}).map(([option, spec]) => `[--${option}${spec.value ? ` ${spec.value}` : ''}]${spec.multiple ? '...' : ''}`);
  return [name, ...command.args, ...options].join(' ');
};
const optionLines = (options: Record<string, OptionSpec>) =>
  Object.entries(options).map(([option, spec]) => `    --${`${option}${spec.value ? ` ${spec.value}` : ''}`.padEnd(26)} ${spec.help}${spec.multiple ? ' (repeatable)' : ''}`);

/** `--help`: every command by group, or one command with its options. */
export function helpText(commandName?: string): string {
  const command = commandName ? COMMANDS[commandName] : undefined;
  if (command && commandName) {
    return [`usage: ${usageOf(commandName, command)}`, '', `  ${command.summary}`, '', '  options:', ...optionLines({ ...command.options, ...GLOBAL_OPTIONS }), ''].join('\n');
  }
  const groups = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const usage = usageOf(name, spec);
    const line = usage.length < 48 ? `    ${usage.padEnd(48)} ${spec.summary}` : `    ${usage}\n    ${''.padEnd(48)} ${spec.summary}`;
    groups.set(spec.group, [...(groups.get(spec.group) ?? []), line]);
  }
  return [
    'usage: npm run admin -- <command> [arguments] [--json]',
    '',
    'Administers Gatehouse through its Management API. Environment: GATEHOUSE_URL (default http://localhost:3000),',
    'GATEHOUSE_ADMIN_CLIENT_ID and GATEHOUSE_ADMIN_CLIENT_SECRET (printed by Gatehouse\'s first start).',
    ...[...groups].flatMap(([group, lines]) => ['', `  ${group}:`, ...lines]),
    '',
    '  Every command takes:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
  ].join('\n');
}

export interface Invocation {
  name: string;
  command: Command;
  positionals: string[];
  values: Values;
}

/** The command a command line names, its arguments checked against its usage. */
export function parseCommandLine(argv: string[]): Invocation | { help: string } {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') return { help: helpText(name === 'help' ? rest[0] : undefined) };
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}". The set-up commands: create-api, create-app, grant, enable-dcr; every command: npm run admin -- --help`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(Object.entries({ ...command.options, ...GLOBAL_OPTIONS }).map(([option, spec]) => [option, { type: spec.type, multiple: spec.multiple ?? false }])),
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nusage: ${usageOf(name, command)}`);
  }
  const { values, positionals } = parsed as { values: Values; positionals: string[] };
  if (values.help) return { help: helpText(name) };
  const required = command.arity?.(values) ?? command.args.filter((arg) => !arg.startsWith('[')).length;
  const optional = command.args.filter((arg) => arg.startsWith('[')).length;
  if (positionals.length < required || positionals.length > required + optional) throw new UsageError(`usage: ${usageOf(name, command)}`);
  return { name, command, positionals, values };
}

/** The Management API requests a command line stands for (the answer of the last one is the command's answer). */
export function requestFor(argv: string[]): ManagementRequest[] {
  const invocation = parseCommandLine(argv);
  if ('help' in invocation) return [];
  return invocation.command.requests(invocation.positionals, invocation.values);
}

async function answer(res: Response): Promise<unknown> {
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = text ? JSON.parse(text) as Record<string, unknown> : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) throw new Error(`${res.status} ${String(body?.message ?? body?.error_description ?? body?.error ?? res.statusText)}`);
  return body;
}

export interface AdminClient {
  /** The token endpoint's answer (`access_token`, `expires_in`, `scope`…). */
  token: Record<string, unknown>;
  send(request: ManagementRequest): Promise<unknown>;
}

/** A Management API token for the admin application (the audience comes from the issuer that discovery names). */
export async function adminClient(env: NodeJS.ProcessEnv): Promise<AdminClient> {
  const base = (env.GATEHOUSE_URL ?? 'http://localhost:3000').replace(/\/$/, '');
  const { GATEHOUSE_ADMIN_CLIENT_ID: clientId, GATEHOUSE_ADMIN_CLIENT_SECRET: clientSecret } = env;
  if (!clientId || !clientSecret) throw new UsageError('set GATEHOUSE_ADMIN_CLIENT_ID and GATEHOUSE_ADMIN_CLIENT_SECRET (Gatehouse prints them at its first start)');
  const discovery = await fetch(`${base}/.well-known/openid-configuration`).catch((err: Error) => {
    throw new Error(`Cannot reach Gatehouse at ${base} (${String((err.cause as Error | undefined)?.message ?? err.message)})`);
  });
  const { issuer } = await answer(discovery) as { issuer: string };
  const token = await answer(await fetch(`${base}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience: managementAudience(issuer) }),
  })) as { access_token: string } & Record<string, unknown>;
  const call = async (method: string, path: string, body?: Record<string, unknown>) => answer(await fetch(`${base}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token.access_token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  }));
  return {
    token,
    async send(request) {
      if (request.limit === undefined) return call(request.method, request.path, request.body);
      const items: unknown[] = [];
      for (let page = 0; items.length < request.limit; page += 1) {
        const perPage = Math.min(100, request.limit - items.length);
        const separator = request.path.includes('?') ? '&' : '?';
        const batch = await call('GET', `${request.path}${separator}page=${page}&per_page=${perPage}`) as unknown[];
        items.push(...batch);
        if (batch.length < perPage) break;
      }
      return items;
    },
  };
}

/**
 * Runs a command line; its answer is the Management API's (for a list, every page fetched), of the shape the caller
 * names (an object by default).
 */
export async function runAdmin<Answer = Record<string, unknown>>(argv: string[], env: NodeJS.ProcessEnv): Promise<Answer> {
  const requests = requestFor(argv);
  const client = await adminClient(env);
  let result: unknown = client.token;
  for (const request of requests) result = await client.send(request);
  return result as Answer;
}

const cell = (value: unknown) => (value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));
/** Table cells stay readable: a long one (the Management API's scope list) is cut, the whole value is in --json. */
const TABLE_CELL_WIDTH = 60;
const tableCell = (value: unknown) => {
  const text = cell(value);
  return text.length > TABLE_CELL_WIDTH ? `${text.slice(0, TABLE_CELL_WIDTH - 1)}…` : text;
};

/** What a person reads: a table for a list, one field a line for an object, a sentence for a change without answer. */
export function present(invocation: Invocation, result: unknown): string {
  const { present: presenter } = invocation.command;
  if ('done' in presenter) return `${presenter.done(invocation.positionals, invocation.values)}\n`;
  if ('text' in presenter) return `${presenter.text(result as Record<string, unknown>)}\n`;
  if ('fields' in presenter) {
    const fields = Object.entries(result as Record<string, unknown>);
    const width = Math.max(...fields.map(([key]) => key.length));
    return `${fields.map(([key, value]) => `${key.padEnd(width)}  ${cell(value)}`).join('\n')}\n`;
  }
  const rows = (result as Record<string, unknown>[]).map((row) => Object.values(presenter.table).map((column) => tableCell(column(row))));
  if (!rows.length) return 'None.\n';
  const header = Object.keys(presenter.table).map((title) => title.toUpperCase());
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  return `${[header, ...rows].map((row) => row.map((value, i) => (i === row.length - 1 ? value : value.padEnd(widths[i] as number))).join('  ')).join('\n')}\n`;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  try {
    const invocation = parseCommandLine(argv);
    if ('help' in invocation) process.stdout.write(invocation.help);
    else {
      const result = await runAdmin(argv, process.env);
      if (!invocation.values.json) process.stdout.write(present(invocation, result));
      else if (result !== undefined) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
