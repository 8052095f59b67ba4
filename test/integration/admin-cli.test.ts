import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { COMMANDS } from '../../scripts/admin.ts';
import { freshEnv, NODE, run, startFreshGatehouse, type GatehouseProcess } from '../support/process.ts';

/** The admin CLI as an operator runs it, against a Gatehouse process started on a fresh data folder. */
describe('the admin CLI against a running Gatehouse', () => {
  let gatehouse: GatehouseProcess;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ({ gatehouse, env } = await startFreshGatehouse());
  });
  afterAll(async () => {
    await gatehouse?.stop();
  });

  /** Runs `scripts/admin.ts` (what `npm run admin --` runs) and resolves with its exit code and output. */
  async function admin(...args: string[]): Promise<{ code: number | null; out: string }> {
    const command = run(NODE, ['scripts/admin.ts', ...args], { env });
    const code = await command.exited;
    return { code, out: command.output() };
  }
  const json = async <T>(...args: string[]): Promise<T> => {
    const { code, out } = await admin(...args, '--json');
    expect([args.join(' '), code]).toEqual([args.join(' '), 0]);
    return JSON.parse(out) as T;
  };

  it('lists every command and its options with --help, and one command\'s with <command> --help', async () => {
    const { code, out } = await admin('--help');
    expect(code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(out).toContain(`    ${name}`);
    for (const option of ['--json', '--help', '--number N', '--scope VALUE[=DESCRIPTION]', '--client CLIENT_ID', '--email EMAIL']) expect(out).toContain(option);
    const one = await admin('grant', '--help');
    expect([one.code, one.out]).toEqual([0, expect.stringContaining('usage: grant <client_id> <audience> [--default] [--scope SCOPE]... [--subject user|client]')]);
    expect(one.out).toContain('--json');
  }, 60_000);

  it('creates, lists, shows and deletes applications, APIs and client grants, and rotates a secret', async () => {
    const created = await admin('create-api', 'https://notes.example.com/', '--name', 'Notes', '--scope', 'read:notes=Read your notes', '--offline-access');
    expect([created.code, created.out]).toEqual([0, expect.stringMatching(/^identifier +https:\/\/notes\.example\.com\/$/m)]);
    const apis = await admin('list-apis');
    expect(apis.out).toMatch(/^ID +IDENTIFIER +NAME +SCOPES\n/);
    expect(apis.out).toMatch(/^\w+ +https:\/\/notes\.example\.com\/ +Notes +read:notes$/m);
    expect(await json('show-api', 'https://notes.example.com/')).toMatchObject({ name: 'Notes', allow_offline_access: true });

    const app = await json<{ client_id: string; client_secret: string }>('create-app', 'Partner', '--callback', 'https://partner.example.com/cb');
    expect(app.client_secret).toEqual(expect.stringMatching(/^\S{32,}$/));
    expect((await admin('list-apps')).out).toMatch(new RegExp(`^${app.client_id} +Partner +regular_web +third$`, 'm'));
    expect(await json('show-app', app.client_id)).toMatchObject({ name: 'Partner', is_first_party: false, callbacks: ['https://partner.example.com/cb'] });
    const rotated = await json<{ client_secret: string }>('rotate-secret', app.client_id);
    expect(rotated.client_secret).toEqual(expect.stringMatching(/^\S{32,}$/));
    expect(rotated.client_secret).not.toBe(app.client_secret);

    const grant = await json<{ id: string }>('grant', app.client_id, 'https://notes.example.com/', '--scope', 'read:notes');
    expect(await json('list-grants', '--client', app.client_id)).toEqual([expect.objectContaining({ id: grant.id, scope: ['read:notes'] })]);
    expect((await admin('list-grants', '--audience', 'https://notes.example.com/')).out).toMatch(new RegExp(`^${grant.id} +${app.client_id} +https://notes.example.com/ +read:notes +user$`, 'm'));
    expect(await json('show-grant', grant.id)).toMatchObject({ client_id: app.client_id, audience: 'https://notes.example.com/' });

    expect((await admin('delete-grant', grant.id)).out).toBe(`Deleted client grant ${grant.id}.\n`);
    expect((await admin('delete-app', app.client_id)).out).toBe(`Deleted application ${app.client_id}.\n`);
    expect((await admin('delete-api', 'https://notes.example.com/')).out).toBe('Deleted API https://notes.example.com/.\n');
    expect(await admin('show-app', app.client_id)).toEqual({ code: 1, out: `404 The client ${app.client_id} does not exist\n` });
    expect((await admin('list-grants', '--client', app.client_id)).out).toBe('None.\n');
  }, 60_000);

  it('shows, blocks, unblocks and deletes users, and lists and revokes consents', async () => {
    const [demo] = await json<{ user_id: string }[]>('list-users', '--email', 'DEMO@example.com');
    const userId = (demo as { user_id: string }).user_id;
    expect((await admin('list-users')).out).toMatch(new RegExp(`^${userId.replace('|', '\\|')} +demo@example.com +Username-Password-Authentication +no$`, 'm'));
    expect((await admin('block', userId)).out).toBe(`Blocked ${userId}.\n`);
    expect(await json('show-user', userId)).toMatchObject({ email: 'demo@example.com', blocked: true });
    expect((await admin('unblock', userId)).out).toBe(`Unblocked ${userId}.\n`);
    expect(await json('show-user', userId)).toMatchObject({ blocked: false });

    expect((await admin('list-consents', '--user', userId)).out).toBe('None.\n');
    expect((await admin('revoke-consent', '--user', userId)).out).toBe(`Revoked every consent of ${userId}.\n`);
    expect(await admin('revoke-consent', 'nope')).toEqual({ code: 1, out: expect.stringMatching(/^404 /) });
    expect(await admin('revoke-consent')).toEqual({ code: 2, out: 'usage: revoke-consent (<id> | --user USER_ID)\n' });

    expect((await admin('delete-user', userId)).out).toBe(`Deleted user ${userId}.\n`);
    expect((await admin('list-users')).out).toBe('None.\n');
  }, 60_000);

  it('shows and deletes connections, and turns registration on and off', async () => {
    const connection = (await json<{ id: string; name: string }[]>('list-connections')).find(({ name }) => name === 'Username-Password-Authentication');
    const id = connection?.id as string;
    expect((await admin('list-connections')).out).toMatch(new RegExp(`^${id} +Username-Password-Authentication +auth0 +yes$`, 'm'));
    expect(await json('show-connection', id)).toMatchObject({ is_domain_connection: true });

    expect((await admin('enable-dcr')).out).toBe('Dynamic client registration is on.\n');
    expect(await json('show-settings')).toMatchObject({ flags: { enable_dynamic_client_registration: true } });
    const registered = await fetch(`${env.GATEHOUSE_URL}/oidc/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://agent.example.com/cb'] }),
    });
    expect(registered.status).toBe(201);
    expect((await admin('disable-dcr')).out).toBe('Dynamic client registration is off.\n');
    expect(await json('show-settings')).toMatchObject({ flags: { enable_dynamic_client_registration: false } });

    expect((await admin('delete-connection', id)).out).toBe(`Deleted connection ${id}.\n`);
    expect((await admin('list-connections')).out).not.toContain('Username-Password-Authentication');
  }, 60_000);

  it('prints a Management API token for curl', async () => {
    const { code, out } = await admin('token');
    expect(code).toBe(0);
    expect(decodeJwt(out.trim())).toMatchObject({ aud: `${env.GATEHOUSE_URL}/api/v2/`, client_id: env.GATEHOUSE_ADMIN_CLIENT_ID });
    expect(await json('token')).toMatchObject({ token_type: 'Bearer', expires_in: 86400 });
  });

  it('pages through long lists, and refuses what it cannot do with the reason', async () => {
    for (let i = 0; i < 3; i += 1) await admin('create-app', `Paged ${i}`, '--callback', 'https://paged.example.com/cb');
    expect(await json<unknown[]>('list-apps', '--number', '2')).toHaveLength(2);
    expect((await json<{ name: string }[]>('list-apps')).filter((app) => app.name.startsWith('Paged'))).toHaveLength(3);

    expect(await admin('launch')).toEqual({ code: 2, out: expect.stringContaining('unknown command "launch"') });
    expect(await admin('list-apps', '--bogus')).toEqual({ code: 2, out: expect.stringContaining("Unknown option '--bogus'") });
    expect(await admin('list-apps', '--number', 'many')).toEqual({ code: 2, out: '--number must be a whole number from 1 to 1000\n' });
    expect(await admin('show-app')).toEqual({ code: 2, out: 'usage: show-app <client_id>\n' });
    const withoutCredentials = run(NODE, ['scripts/admin.ts', 'list-apps'], { env: freshEnv({ GATEHOUSE_URL: env.GATEHOUSE_URL as string }) });
    expect([await withoutCredentials.exited, withoutCredentials.output()]).toEqual([2, expect.stringContaining('set GATEHOUSE_ADMIN_CLIENT_ID and GATEHOUSE_ADMIN_CLIENT_SECRET')]);
  }, 60_000);
});
