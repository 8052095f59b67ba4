import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/backends.ts';
import { freePort } from '../support/global-setup.ts';
import { freshEnv, printedAdminCredentials, ROOT, run, type RunningProcess } from '../support/process.ts';

/**
 * The commands of one `sh` block, as a shell reads them: a line ends a command unless it ends with `\\` or leaves a
 * quoted string open (a JSON body over several lines).
 */
function shellCommands(block: string): string[] {
  const commands: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const line of block.split('\n')) {
    for (const char of line) {
      if (quote) quote = char === quote ? undefined : quote;
      else if (char === "'" || char === '"') quote = char;
    }
    current = current ? `${current}\n${line}` : line;
    if (!quote && !line.endsWith('\\')) {
      if (current.trim()) commands.push(current.trim());
      current = '';
    }
  }
  return commands;
}

/** The commands of README.md, in the order a reader meets them: its `sh` blocks, and `npm …` in running text. */
export function readmeCommands(readme: string): string[] {
  const found: { at: number; command: string }[] = [];
  for (const block of readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    shellCommands(block[1] as string).forEach((command, i) => found.push({ at: block.index + i, command }));
  }
  for (const inline of readme.matchAll(/`(npm (?:start|test|install|run [^`]+))`/g)) found.push({ at: inline.index, command: inline[1] as string });
  const commands = found.sort((a, b) => a.at - b.at).map(({ command }) => command);
  return commands.filter((command, i) => commands.indexOf(command) === i);
}

/** The command without its trailing shell comment. */
const withoutComment = (command: string) => command.replace(/\s+#.*$/, '');

/** README commands this test does not run, each with the reason and where it is proven instead. */
const RUN_ELSEWHERE: Record<string, string> = {
  'npm install': 'CI installs with `npm ci` from the lock file before running the tests; installing here would change the running tests\' own node_modules',
  'npm test': 'it is the command running this test',
  'npm run demo': 'it waits for a person in a browser: test/e2e/demo.e2e.test.ts drives it in Chromium against `npm start`',
  'npm run bench': 'it takes minutes: test/bench/bench-smoke.test.ts runs the benchmark',
  'npm run bench -- --quick': 'it takes a minute: test/bench/bench-smoke.test.ts runs the benchmark',
  'npm run example:host-app': 'a second server: test/e2e/host-app.e2e.test.ts starts it and follows its output in Chromium',
  'npm run openapi:types': 'a developer\'s command that rewrites src/http/console/management-api.ts: test/unit/management-api-types.test.ts checks that it writes what is committed',
};

/** Examples that reach a service outside this machine (tests only talk to loopback), and where the same is proven. */
const EXTERNAL: [RegExp, string][] = [
  [/"strategy":\s*"oidc"/, 'creating an oidc connection fetches its provider\'s discovery document: test/integration/connections-upstream.test.ts does it with a provider on loopback'],
  [/"type":\s*"http"/, 'a log stream delivers to its endpoint: test/integration/log-streams.test.ts delivers to one on loopback'],
];

/** A line that starts with an option is a request body for the curl command before it, not a command. */
const isRequestBodyOnly = (command: string) => command.startsWith('-');

/**
 * A reader's shell pasting the admin credentials `npm start` printed: `export NAME=... NAME=...` with `...` for the
 * values. The test fills in what its own `npm start` printed.
 */
const PASTE_PRINTED = /^export ((?:GATEHOUSE_ADMIN_CLIENT_(?:ID|SECRET)=\.\.\.\s*)+)$/;

describe('every command in README.md, on a fresh data folder, against `npm start`', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  let server: RunningProcess | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('finds the commands a newcomer runs first', () => {
    const commands = readmeCommands(readme).map(withoutComment);
    expect(commands.slice(0, 2)).toEqual(['npm install', 'npm start']);
    expect(commands).toContain('npm run demo');
  });

  it('runs each one successfully, in the README\'s order (or says where it is proven)', async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const scratch = tempDir('gatehouse-readme-');
    const backups = path.join(scratch, 'backups');
    mkdirSync(backups);
    // The README's addresses, on this test's port and scratch folder.
    const adapt = (command: string) => command.replaceAll('http://localhost:3000', origin).replaceAll('/backups/', `${backups}/`);
    const env = freshEnv({ PORT: String(port), DATA_DIR: path.join(scratch, 'data'), GATEHOUSE_URL: origin });

    const ran: string[] = [];
    for (const command of readmeCommands(readme)) {
      const bare = withoutComment(command);
      if (bare in RUN_ELSEWHERE || isRequestBodyOnly(bare) || EXTERNAL.some(([pattern]) => pattern.test(bare))) continue;
      if (bare === 'npm start') {
        server = run('npm', ['start'], { env });
        await server.waitFor(/"msg":"Gatehouse listening"/);
        Object.assign(env, printedAdminCredentials(server.output()));
        ran.push(bare);
        continue;
      }
      const pasted = PASTE_PRINTED.exec(bare);
      if (pasted) {
        for (const name of (pasted[1] as string).split(/=\.\.\.\s*/).filter(Boolean)) expect([name, env[name]]).toEqual([name, expect.any(String)]);
        continue;
      }
      expect([command, server ? 'after npm start' : 'before npm start']).toEqual([command, 'after npm start']);
      if (bare.startsWith('export ')) {
        // The reader's shell keeps what it exports for the commands after it: so does the test's environment.
        const names = [...bare.matchAll(/(?:^export|\s)([A-Za-z_]\w*)=/g)].map((match) => match[1] as string);
        const exported = run('sh', ['-c', `${adapt(bare)} && env -0`], { env });
        expect([command, await exported.exited]).toEqual([command, 0]);
        const values = new Map(exported.output().split('\0').map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
        for (const name of names) env[name] = values.get(name);
        ran.push(bare);
        continue;
      }
      const shell = run('sh', ['-c', adapt(command)], { env });
      const code = await shell.exited;
      // curl exits 0 on an HTTP error: its answer must not be one either.
      expect({ command, code, output: shell.output() }).toEqual({ command, code: 0, output: expect.not.stringMatching(/"error"|"statusCode":\s*[45]/) });
      ran.push(bare);
    }
    expect(ran).toEqual(expect.arrayContaining(['npm start', 'npm run keys:rotate', expect.stringMatching(/^export GATEHOUSE=/),
      expect.stringMatching(/^curl -s \$GATEHOUSE\/api\/v2\/connections/), expect.stringMatching(/^npm run backup -- /)]));
    expect(server?.output()).not.toMatch(/"level":50/); // nothing the README has a reader do makes Gatehouse log an error
  }, 240_000);
});
