/**
 * Instructions per request, counted by valgrind's callgrind (every thread of the server, JIT code included): a figure
 * that a busy machine does not move, for A/B comparisons of small per-request costs that CPU-seconds cannot resolve.
 *
 *   node scripts/bench/instructions.ts [gatehouse|bare] [ES256|RS256|register|refresh] [requests] [--root DIR] [--warm-up N]
 *     [--server-args JSON] [--keep]
 *
 * The server (a benchmark server of this checkout, or of the one at DIR, e.g. an earlier commit's files) runs under
 * callgrind with instrumentation off while it starts and serves a warm-up (3,000 requests: the JIT has settled), on for the
 * counted requests, sent four at a time (`refresh`: refresh-token grants with rotation, each worker sending the token it
 * was last given). `--server-args` is the benchmark server's argument (`{"tenantLog":false}`); `--keep` keeps callgrind's
 * files, whose native functions (SQLite, OpenSSL, V8's runtime) callgrind_annotate names.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HttpClient } from './lib/browser.ts';
import type { LoadRequest } from './lib/load.ts';
import { NODE_BINARY, REPO_ROOT } from './lib/processes.ts';
import { tokenRequest } from './scenarios/context.ts';
import { refreshTokenPool, REGISTRATION_REQUEST } from './scenarios/protocol.ts';
import type { BenchAlg, ProtocolServerReady } from './servers/fixtures.ts';

const PARALLEL = 4;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { root: { type: 'string' }, 'warm-up': { type: 'string' }, 'server-args': { type: 'string' }, keep: { type: 'boolean' } } });
// V8 has optimized the request path after a few thousand requests: with 200, a count still held interpreter and
// baseline code, and said 1.28x the bare provider's instructions where a settled path executes about 1.5x.
const WARM_UP = Number(values['warm-up'] ?? 3000);
const [server = 'gatehouse', what = 'ES256', count = '400'] = positionals;
const root = values.root ? path.resolve(values.root) : REPO_ROOT;
const out = mkdtempSync(path.join(tmpdir(), 'gatehouse-callgrind-'));
const child = spawn('valgrind', [
  '--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${out}/callgrind.%p`,
  NODE_BINARY, '--disable-warning=ExperimentalWarning', path.join(root, 'scripts/bench/servers', `${server}.ts`), values['server-args'] ?? '{}',
], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: { ...process.env, NODE_ENV: 'test', GATEHOUSE_PASSWORD_COST: 'low' } });
try {
  const [message] = await once(child, 'message') as [{ ready?: ProtocolServerReady; error?: string }];
  if (!message.ready) throw new Error(message.error ?? 'the server did not start');
  const ready = message.ready;
  // A refresh's form is made per request (formOf), from the token each worker was last given.
  const request: LoadRequest = what === 'register' ? REGISTRATION_REQUEST : what === 'refresh' ? { path: '/oauth/token' } : tokenRequest(ready, what as BenchAlg);
  const http = new HttpClient(ready.origin, PARALLEL);
  const refreshTokens = what === 'refresh' ? await refreshTokenPool(ready, PARALLEL) : [];
  const formOf = (worker: number) => (what === 'refresh'
    ? { grant_type: 'refresh_token', refresh_token: refreshTokens[worker] as string, ...ready.firstParty }
    : request.form);
  const send = async (total: number) => {
    await Promise.all(Array.from({ length: PARALLEL }, async (_, worker) => {
      for (let i = 0; i < total / PARALLEL; i += 1) {
        const form = formOf(worker);
        const res = await http.send('POST', request.path, form
          ? { form }
          : { body: JSON.stringify(request.json), headers: { 'content-type': 'application/json' } });
        if (res.status !== (request.expectStatus ?? 200)) throw new Error(`${request.path} answered ${res.status}: ${res.body.slice(0, 300)}`);
        if (what === 'refresh') refreshTokens[worker] = (JSON.parse(res.body) as { refresh_token: string }).refresh_token;
      }
    }));
  };
  const control = (...args: string[]) => execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });
  await send(WARM_UP);
  control('--instr=on');
  await send(Number(count));
  control('--instr=off');
  control('--dump');
  http.close();
} finally {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
let instructions = 0;
for (const file of readdirSync(out)) instructions += Number(/^totals: (\d+)/m.exec(readFileSync(path.join(out, file), 'utf8'))?.[1] ?? 0);
if (values.keep) process.stdout.write(`callgrind files kept in ${out} (read them with callgrind_annotate)\n`);
else rmSync(out, { recursive: true, force: true });
process.stdout.write(`${server} ${what}: ${(instructions / Number(count) / 1e6).toFixed(3)} M instructions per request (${count} requests after ${WARM_UP} of warm-up)\n`);
