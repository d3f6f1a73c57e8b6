import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

/** Every module specifier in the declaration files reachable from `entry`, following relative imports and re-exports. */
async function reachableSpecifiers(entry: string): Promise<Set<string>> {
  const specifiers = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const specifier = match[1];
      specifiers.add(specifier);
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.d.ts')));
    }
  }
  return specifiers;
}

describe('public declarations (after `pnpm build`)', () => {
  it('the declaration files reachable from the entry import no tfjs package', async () => {
    const specifiers = [...(await reachableSpecifiers(join(dist, 'index.d.ts')))];
    expect(specifiers).toContain('./backend.js');
    expect(specifiers.filter((s) => s.startsWith('@tensorflow/'))).toEqual([]);
  });
});
