import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * docs/ARCHITECTURE.md's layers, from the bottom: a module may import its own layer and those below, never one above.
 * The files at the top of src/ (gatehouse.ts, main.ts, index.ts) put the layers together.
 */
const RANK: Record<string, number> = { domain: 0, config: 0, store: 1, net: 1, services: 2, oidc: 3, http: 4, '.': 5 };

const layerOf = (file: string) => {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length ? (first as string) : '.';
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('layers', () => {
  it('never import upward', () => {
    const upward: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const from = layerOf(file);
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const to = layerOf(path.resolve(path.dirname(file), specifier as string));
        if ((RANK[to] ?? Infinity) > (RANK[from] ?? -1)) upward.push(`${path.relative(SRC, file)} (${from}) imports ${specifier} (${to})`);
      }
    }
    expect(upward).toEqual([]);
  });
});
