import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './processes.ts';

/** The last commit whose embedded store was the JSON-lines journal held in memory (before SQLite, issue 12). */
export const JOURNAL_STORE_COMMIT = '15f19b4';

export interface Checkout {
  /**
   * The commit's tree, with this repository's node_modules linked in: its dependencies are a subset of today's, with
   * the dev dependencies (pino-http is one only for it).
   */
  root: string;
  remove(): void;
}

/**
 * The files of an earlier commit in a temporary folder (`git archive`: nothing is registered in the repository, and
 * nothing of it is committed), so that its benchmark server can run beside today's in the same run. Undefined, with
 * the reason, when the history does not hold it (a shallow clone).
 */
export function checkoutCommit(commit: string): Checkout | { unavailable: string } {
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: REPO_ROOT, stdio: 'ignore' });
  } catch {
    return { unavailable: `commit ${commit} is not in this clone's history (a shallow clone?)` };
  }
  const root = mkdtempSync(path.join(tmpdir(), `gatehouse-bench-${commit}-`));
  try {
    execFileSync('sh', ['-c', `git archive --format=tar ${commit} | tar -x -C "${root}"`], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
