import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

interface LockedPackage {
  version?: string;
  optionalDependencies?: Record<string, string>;
}
const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as { lockfileVersion: number; packages: Record<string, LockedPackage> };

/** Where Node would find `name` from the package at `location`: its own node_modules, then each parent's, then the root's. */
function resolveFrom(location: string, name: string): string | undefined {
  for (let base = location; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (candidate in lock.packages) return candidate;
    if (!base) return undefined;
  }
}

/**
 * `npm ci` installs exactly the lock file, and refuses one that misses a package any locked package may need, even an
 * optional build for another platform (npm writes such an incomplete lock when it installs over an existing
 * node_modules, npm/cli#4828). Regenerate with `rm -rf node_modules && npm install`.
 */
describe('package-lock.json', () => {
  it('records every optional dependency of every locked package, for every platform, so that `npm ci` accepts it', () => {
    expect(lock.lockfileVersion).toBe(3);
    const missing = Object.entries(lock.packages).flatMap(([location, locked]) =>
      Object.keys(locked.optionalDependencies ?? {}).filter((name) => !resolveFrom(location, name)).map((name) => `${name} (for ${location || 'the root'})`));
    expect(missing).toEqual([]);
  });
});
