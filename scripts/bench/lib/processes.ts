import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForRedis } from '../../../test/support/global-setup.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Node 24 from the `node` dev dependency, so that servers run on the version the project pins. */
export const NODE_BINARY = existsSync(path.join(REPO_ROOT, 'node_modules/.bin/node')) ? path.join(REPO_ROOT, 'node_modules/.bin/node') : process.execPath;

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a /proc stat file, in seconds. */
function statCpuSeconds(file: string): number {
  const stat = readFileSync(file, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds (user + system, every thread) a process has used so far. */
export const cpuSeconds = (pid: number): number => statCpuSeconds(`/proc/${pid}/stat`);

/**
 * CPU seconds of a process's main thread alone (its thread id is the process id): JavaScript, GC pauses on it, system
 * calls. The rest is V8's helper threads (concurrent GC, compilers) and libuv's pool (crypto jobs, Argon2id).
 */
export const mainThreadCpuSeconds = (pid: number): number => statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);

/** Where server children write V8 CPU profiles (`--profile DIR`), if anywhere. */
let profileDir: string | undefined;
export function profileServersInto(dir: string): void {
  profileDir = dir;
}

/** Messages a server child answers: a request carries an id, the reply echoes it. */
interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** A benchmark server in its own process (so that its CPU time can be read alone), driven over the IPC channel. */
export class ServerProcess<Ready> {
  readonly name: string;
  readonly child: ChildProcess;
  readonly ready: Ready;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();

  private constructor(name: string, child: ChildProcess, ready: Ready) {
    this.name = name;
    this.child = child;
    this.ready = ready;
    child.on('message', (message: Reply) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`${name}: ${message.error}`));
      else waiter.resolve(message.result);
    });
    child.on('exit', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited`));
      this.pending.clear();
    });
  }

  /**
   * Starts `script` (a file under scripts/bench/servers/, of this checkout or of the one at `root`) and waits for its
   * first message, which says it is listening.
   */
  static async start<Ready>(name: string, script: string, options: { args?: unknown; env?: NodeJS.ProcessEnv; exposeGc?: boolean; timeoutMs?: number; root?: string } = {}): Promise<ServerProcess<Ready>> {
    const file = options.root ? path.join(options.root, 'scripts/bench/servers', script) : fileURLToPath(new URL(`../servers/${script}`, import.meta.url));
    const child = fork(file, [JSON.stringify(options.args ?? {})], {
      execPath: NODE_BINARY,
      execArgv: [
        '--disable-warning=ExperimentalWarning', ...(options.exposeGc ? ['--expose-gc'] : []),
        ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${script.replace(/\.ts$/, '')}-${Date.now()}.cpuprofile`] : []),
      ],
      env: { ...process.env, NODE_ENV: 'test', ...options.env },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start in time`)), options.timeoutMs ?? 60_000);
      child.once('message', (message: { ready?: Ready; error?: string }) => {
        clearTimeout(timer);
        if (message.error) reject(new Error(`${name}: ${message.error}`));
        else resolve(message.ready as Ready);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before it was ready`));
      });
    });
    return new ServerProcess(name, child, ready);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Asks the child to run one of its commands. */
  call<T>(command: string, args: unknown = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, command, args });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export interface RedisServer {
  url: string;
  version: string;
  stop(): Promise<void>;
}

function redisVersion(): string | undefined {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * A Redis for the run: REDIS_URL when given, else a private redis-server on a free loopback port without persistence
 * (started as the test suite starts its own). The reason instead, when neither is available.
 */
export async function startRedis(): Promise<RedisServer | { unavailable: string }> {
  if (process.env.REDIS_URL) {
    return { url: process.env.REDIS_URL, version: 'from REDIS_URL', async stop() {} };
  }
  const version = redisVersion();
  if (!version) return { unavailable: 'redis-server is not installed (apt-get install redis-server) and REDIS_URL is not set' };
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  try {
    await waitForRedis(port);
  } catch (err) {
    child.kill();
    return { unavailable: `redis-server did not answer: ${(err as Error).message}` };
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes of data Redis holds (INFO memory: used_memory). */
export async function redisUsedMemory(url: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const info = await client.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  } finally {
    client.disconnect();
  }
}

/** Deletes what one benchmark server wrote under its key prefix (REDIS_URL may name a Redis that others use). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
