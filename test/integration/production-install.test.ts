import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../support/backends.ts';
import { freshEnv, ROOT, startGatehouseProcess, type GatehouseProcess } from '../support/process.ts';

const exec = promisify(execFile);

/** What the image runs: the Dockerfile's CMD (`node <entry>`, relative to the package) and its health check. */
function dockerfileFacts() {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replaceAll('\\\n', ' '); // one line per instruction
  const [command, entry] = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
  return { command, entry, healthCheck: /^HEALTHCHECK .*$/m.exec(dockerfile)?.[0] ?? '', user: /^USER (\S+)$/m.exec(dockerfile)?.[1] };
}

/**
 * What the container image does (Dockerfile), proven without Docker: the package as npm publishes it (`npm pack`, which
 * builds dist/ first), installed with production dependencies only in an empty folder, started from dist/ under
 * node_modules (where Node strips no types) in production, with only the settings production requires.
 */
describe('a production install of the packed package', () => {
  let gatehouse: GatehouseProcess | undefined;
  afterAll(async () => {
    await gatehouse?.stop('SIGKILL');
  });

  it('installs with production dependencies only, starts the image\'s CMD in production, becomes ready, serves, and stops on SIGTERM', async () => {
    const image = dockerfileFacts();
    expect(image).toEqual({ command: 'node', entry: 'dist/main.js', healthCheck: expect.stringContaining('/readyz'), user: 'node' });

    const work = tempDir('gatehouse-pack-');
    await exec('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, env: { ...process.env, npm_config_loglevel: 'error' } });
    const [tarball] = readdirSync(work).filter((name) => name.endsWith('.tgz'));
    expect(tarball).toMatch(/^gatehouse-\d+\.\d+\.\d+\.tgz$/);

    const app = path.join(work, 'app');
    await exec('mkdir', [app]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'gatehouse-deployment', private: true }));
    await exec('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock', path.join(work, tarball as string)], { cwd: app, env: process.env });
    const installed = path.join(app, 'node_modules');
    const entry = path.join(installed, 'gatehouse', image.entry as string);
    expect(existsSync(entry)).toBe(true);
    expect(existsSync(path.join(installed, 'gatehouse/src'))).toBe(false); // the package ships the build, not the sources
    for (const devOnly of ['jest', 'typescript', 'node', 'supertest']) expect([devOnly, existsSync(path.join(installed, devOnly))]).toEqual([devOnly, false]);

    const issuer = 'https://id.example.test';
    const admin = { id: 'production-admin', secret: randomBytes(32).toString('hex') };
    gatehouse = await startGatehouseProcess([entry], {
      cwd: app,
      env: freshEnv({
        NODE_ENV: 'production',
        ISSUER: issuer,
        COOKIE_KEYS: randomBytes(32).toString('hex'),
        GATEHOUSE_ADMIN_CLIENT_ID: admin.id,
        GATEHOUSE_ADMIN_CLIENT_SECRET: admin.secret,
        GATEHOUSE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        DATA_DIR: path.join(app, 'data'),
      }),
    });
    const { origin } = gatehouse;
    const ready = await fetch(`${origin}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', durable: 'embedded', ephemeral: 'embedded' }]);
    expect(gatehouse.output()).toContain('"env":"production"');
    expect(gatehouse.output()).not.toContain('GATEHOUSE_ADMIN_CLIENT_SECRET='); // given, so never printed

    const discovery = await (await fetch(`${origin}/.well-known/openid-configuration`)).json() as { issuer: string };
    expect(discovery.issuer).toBe(issuer);
    // The views and config/default.json travel with the package: the start page renders, the sample API is seeded.
    const start = await fetch(`${origin}/`, { headers: { accept: 'text/html' } });
    expect([start.status, await start.text()]).toEqual([200, expect.stringContaining('<title>')]);
    const token = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: admin.id, client_secret: admin.secret, audience: `${issuer}/api/v2/` }),
    });
    const { access_token: accessToken } = await token.json() as { access_token: string };
    const apis = await (await fetch(`${origin}/api/v2/resource-servers`, { headers: { authorization: `Bearer ${accessToken}` } })).json() as { identifier: string }[];
    expect(apis.map((api) => api.identifier)).toContain('https://api.example.com/');
    const users = await (await fetch(`${origin}/api/v2/users`, { headers: { authorization: `Bearer ${accessToken}` } })).json() as unknown[];
    expect(users).toEqual([]); // production seeds no sample user

    expect(await gatehouse.stop('SIGTERM')).toBe(0);
    expect(gatehouse.output()).toContain('"msg":"stopped"');
  }, 300_000);
});
