import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { tempDir } from '../support/backends.ts';
import { SIGNING_ALGS } from '../../src/domain/model.ts';

const NODE = process.execPath; // Node 24, as npm scripts run it
const root = path.resolve(import.meta.dirname, '../..');

/** Every process a test starts; one still running when its test ends (a failed assertion) is killed. */
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function startProcess(env: Record<string, string>) {
  const child = spawn(NODE, ['src/main.ts'], { cwd: root, env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
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
    expect(jwks.keys).toHaveLength(2 * SIGNING_ALGS.length); // the keys, and those rotated in
    expect(second.output()).not.toContain('GATEHOUSE_ADMIN_CLIENT_SECRET=');
    const exited2 = new Promise((resolve) => second.child.on('exit', resolve));
    second.child.kill('SIGTERM');
    await exited2;
  });

  it('keeps every write it answered with 2xx when it is killed (SIGKILL) in the middle of a burst', async () => {
    const dataDir = tempDir();
    const configFile = path.join(dataDir, 'burst.json'); // a burst well above the Management API's rate limit
    writeFileSync(configFile, JSON.stringify({ management: { rate_limit_per_second: 100000 } }));
    const first = startProcess({ PORT: '0', DATA_DIR: dataDir, CONFIG_FILE: configFile });
    const port = await first.listening;
    const base = `http://127.0.0.1:${port}`;
    const clientId = /GATEHOUSE_ADMIN_CLIENT_ID=(\S+)/.exec(first.output())?.[1] as string;
    const clientSecret = /GATEHOUSE_ADMIN_CLIENT_SECRET=(\S+)/.exec(first.output())?.[1] as string;
    const tokenRes = await fetch(`${base}/oauth/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience: 'http://localhost:0/api/v2/' }),
    });
    const { access_token: token } = await tokenRes.json() as { access_token: string };
    expect(token).toEqual(expect.any(String));
    const answered: string[] = [];
    const create = async (i: number) => {
      const res = await fetch(`${base}/api/v2/clients`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: `burst ${i}` }),
      }).catch(() => undefined); // cut off by the kill
      if (res?.status === 201) answered.push(((await res.json()) as { client_id: string }).client_id);
    };
    const exited = new Promise((resolve) => first.child.on('exit', resolve));
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < 400 && !first.child.killed; i += 8) {
        if (answered.length >= 60) first.child.kill('SIGKILL');
        else await create(i);
      }
    });
    await Promise.all(workers);
    first.child.kill('SIGKILL'); // in case fewer than 60 writes were answered: the assertion below says so
    await exited;
    expect(answered.length).toBeGreaterThanOrEqual(60);

    const second = startProcess({ PORT: '0', DATA_DIR: dataDir, CONFIG_FILE: configFile, GATEHOUSE_ADMIN_CLIENT_ID: clientId, GATEHOUSE_ADMIN_CLIENT_SECRET: clientSecret });
    const base2 = `http://127.0.0.1:${await second.listening}`;
    const token2 = (await (await fetch(`${base2}/oauth/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience: 'http://localhost:0/api/v2/' }),
    })).json() as { access_token: string }).access_token;
    const missing: string[] = [];
    for (const id of answered) {
      const res = await fetch(`${base2}/api/v2/clients/${id}`, { headers: { authorization: `Bearer ${token2}` } });
      if (res.status !== 200) missing.push(id);
    }
    expect(missing).toEqual([]);
    const exited2 = new Promise((resolve) => second.child.on('exit', resolve));
    second.child.kill('SIGTERM');
    await exited2;
  });

  it('stops with a clear message and a non-zero status, having printed and written nothing, when its port is taken', async () => {
    const dataDir = tempDir();
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const busy = startProcess({ PORT: String(port), DATA_DIR: dataDir });
      busy.listening.catch(() => {}); // it must never listen: the exit below says how it ended
      const [code] = await once(busy.child, 'exit') as [number | null];
      expect({ code, output: busy.output() }).toEqual({ code: 1, output: `Port ${port} is already in use by another process. Stop that process, or set PORT to a free port.\n` });
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      taken.close();
    }
    // Nothing was created: the first start that binds is still the one that creates (and shows) the admin secret.
    const next = startProcess({ PORT: '0', DATA_DIR: dataDir });
    await next.listening;
    expect(next.output()).toContain('GATEHOUSE_ADMIN_CLIENT_SECRET=');
    next.child.kill('SIGTERM');
    await once(next.child, 'exit');
  });

  it('on SIGTERM answers /readyz with 503, finishes requests in flight and closes kept-alive connections', async () => {
    const started = startProcess({ PORT: '0', DATA_DIR: tempDir() });
    const port = await started.listening;
    const open = async () => {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      let received = '';
      socket.on('data', (chunk) => { received += chunk; });
      const closed = once(socket, 'close').then(() => received);
      return { socket, received: () => received, closed };
    };
    const until = async (condition: () => boolean) => {
      for (const deadline = Date.now() + 10_000; !condition();) {
        if (Date.now() > deadline) throw new Error(`gave up waiting; the process said: ${started.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    // A request whose headers are still arriving, one whose body is still arriving, and an idle kept-alive connection.
    const readiness = await open();
    readiness.socket.write(`GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    const body = 'grant_type=client_credentials&client_id=nobody&client_secret=nothing';
    const token = await open();
    token.socket.write(`POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    // Answered after the server has read what the two connections above sent first: they are mid-request, not idle.
    const idle = await open();
    idle.socket.write(`GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await until(() => idle.received().includes('"status":"ready"'));
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: keep-alive\r\n/);

    const exited = once(started.child, 'exit');
    started.child.kill('SIGTERM');
    await until(() => started.output().includes('shutting down'));
    await idle.closed;

    readiness.socket.write('\r\n');
    const ready = await readiness.closed;
    expect(ready).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(ready).toContain('Connection: close\r\n');
    expect(ready).toContain('"status":"shutting_down"');

    token.socket.write(body.slice(10));
    const answered = await token.closed;
    expect(answered).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(answered).toContain('Connection: close\r\n');
    expect(answered).toContain('"error":"invalid_client"');

    expect(await exited).toEqual([0, null]);
    expect(started.output()).toContain('"msg":"stopped"');
  });

  it('stops with a message naming a bad setting', () => {
    const result = spawnSync(NODE, ['src/main.ts'], { cwd: root, env: { ...process.env, NODE_ENV: 'development', PORT: 'eighty' }, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration: PORT (port) must be integer');
  });
});
