import { describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/backends.ts';

const NODE = process.execPath; // Node 24, as npm scripts run it
const root = path.resolve(import.meta.dirname, '../..');

function startProcess(env: Record<string, string>) {
  const child = spawn(NODE, ['src/main.ts'], { cwd: root, env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /"port":(\d+),"discovery"/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  return { child, listening, output: () => output };
}

describe('the gatehouse process', () => {
  it('starts on a fresh data folder, serves discovery, prints generated admin credentials once, and stops cleanly on SIGTERM', async () => {
    const dataDir = path.join(tempDir(), 'data'); // created by Gatehouse
    const first = startProcess({ PORT: '0', DATA_DIR: dataDir });
    const port = await first.listening;
    const discovery = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(first.output()).toContain('GATEHOUSE_ADMIN_CLIENT_SECRET=');
    expect(first.output()).toContain(`"node":"${process.version}"`);
    const exited = new Promise<number | null>((resolve) => first.child.on('exit', resolve));
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');

    const rotate = spawnSync(NODE, ['scripts/rotate-keys.ts'], { cwd: root, env: { ...process.env, NODE_ENV: 'development', DATA_DIR: dataDir }, encoding: 'utf8' });
    expect(rotate.stdout).toContain('Rotated signing keys');
    // Only the owner may read the data folder and the databases.
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    for (const file of ['gatehouse.db', 'gatehouse-sessions.db']) expect(statSync(path.join(dataDir, file)).mode & 0o777).toBe(0o600);

    const second = startProcess({ PORT: '0', DATA_DIR: dataDir });
    const port2 = await second.listening;
    const jwks = await (await fetch(`http://127.0.0.1:${port2}/.well-known/jwks.json`)).json() as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(4);
    expect(second.output()).not.toContain('GATEHOUSE_ADMIN_CLIENT_SECRET=');
    const exited2 = new Promise((resolve) => second.child.on('exit', resolve));
    second.child.kill('SIGTERM');
    await exited2;
  });

  it('stops with a message naming a bad setting', () => {
    const result = spawnSync(NODE, ['src/main.ts'], { cwd: root, env: { ...process.env, NODE_ENV: 'development', PORT: 'eighty' }, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration: PORT (port) must be integer');
  });
});
