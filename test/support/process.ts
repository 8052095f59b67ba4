import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tempDir } from './backends.ts';
import { freePort } from './global-setup.ts';

/** Node 24: npm scripts (and so the tests) run on the `node` dev dependency. */
export const NODE = process.execPath;
export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The environment a newcomer's shell would give a command: PATH and HOME only (not the test run's NODE_ENV=test, nor the
 * private Redis of the global setup), plus what the test sets.
 */
export const freshEnv = (env: Record<string, string> = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...env });

export interface RunningProcess {
  child: ChildProcess;
  /** Everything printed so far, stdout and stderr together. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first, or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Sends the signal (SIGTERM by default) unless the process already exited, and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a command (`node …`, `npm …`, `sh -c …`) whose output the test reads, in a process group of its own: `npm run`
 * starts the script through a shell, and a signal must reach the script itself, not only npm.
 */
export function run(command: string, args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): RunningProcess {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const listeners = new Set<() => void>();
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  let hasExited = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    hasExited = true;
    for (const listener of listeners) listener();
    resolve(code);
  }));
  return {
    child,
    output: () => output,
    exited,
    waitFor: (pattern, timeoutMs = 20_000) => new Promise((resolve, reject) => {
      const fail = (why: string) => {
        listeners.delete(check);
        reject(new Error(`${command} ${args.join(' ')} ${why} before printing ${pattern}:\n${output}`));
      };
      const timer = setTimeout(() => fail(`went on for ${timeoutMs} ms`), timeoutMs);
      function check() {
        const match = pattern.exec(output);
        if (match) {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(match);
        } else if (hasExited) {
          clearTimeout(timer);
          fail(`exited (${String(child.exitCode ?? child.signalCode)})`);
        }
      }
      listeners.add(check);
      check();
    }),
    async stop(signal = 'SIGTERM') {
      if (!hasExited) process.kill(-(child.pid as number), signal);
      return exited;
    },
  };
}

/** A Gatehouse process and the origin it listens on (PORT=0: it logs the port it got). */
export interface GatehouseProcess extends RunningProcess {
  origin: string;
}

export async function startGatehouseProcess(args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<GatehouseProcess> {
  const started = run(NODE, args, { ...options, env: { PORT: '0', ...options.env, LOG_LEVEL: 'info' } }); // the port is logged at info
  const [, port] = await started.waitFor(/"port":(\d+),"discovery"/).catch(async (err: unknown) => {
    await started.stop('SIGKILL');
    throw err;
  });
  return { ...started, origin: `http://127.0.0.1:${port}` };
}

/** The admin credentials a first start prints (once). */
export function printedAdminCredentials(output: string): { GATEHOUSE_ADMIN_CLIENT_ID: string; GATEHOUSE_ADMIN_CLIENT_SECRET: string } {
  const id = /GATEHOUSE_ADMIN_CLIENT_ID=(\S+)/.exec(output)?.[1];
  const secret = /GATEHOUSE_ADMIN_CLIENT_SECRET=(\S+)/.exec(output)?.[1];
  if (!id || !secret) throw new Error(`no admin credentials printed:\n${output}`);
  return { GATEHOUSE_ADMIN_CLIENT_ID: id, GATEHOUSE_ADMIN_CLIENT_SECRET: secret };
}

/**
 * `npm start`'s process (src/main.ts, development) on a fresh data folder and a free port, and the environment an
 * operator's commands get: GATEHOUSE_URL and the admin credentials it printed.
 */
export async function startFreshGatehouse(): Promise<{ gatehouse: GatehouseProcess; env: NodeJS.ProcessEnv }> {
  const port = await freePort();
  const gatehouse = await startGatehouseProcess(['src/main.ts'], { env: freshEnv({ PORT: String(port), DATA_DIR: path.join(tempDir(), 'data') }) });
  return { gatehouse, env: freshEnv({ GATEHOUSE_URL: `http://localhost:${port}`, ...printedAdminCredentials(gatehouse.output()) }) };
}
