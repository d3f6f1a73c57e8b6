import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The modules a file loads at run time: value imports and re-exports (type-only ones are erased). */
function runtimeDeps(file: string): { deps: string[]; dynamic: string[] } {
  const text = readFileSync(file, 'utf8');
  const deps: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)'/gms)) {
    const names = /\{([^}]*)\}/.exec(m[2]);
    const typeOnly =
      m[1] !== undefined || (names !== null && !/^\w+\s*,/.test(m[2]) && names[1].split(',').every((n) => n.trim() === '' || n.trim().startsWith('type ')));
    if (!typeOnly) deps.push(normalize(join(dirname(file), m[3].replace(/\.js$/, '.ts'))));
  }
  const dynamic = [...text.matchAll(/import\('(\.[^']+)'\)/g)].map((m) => m[1]);
  return { deps, dynamic };
}

describe('core module graph', () => {
  const files = sourceFiles(src);
  const graph = new Map(files.map((f) => [f, runtimeDeps(f)]));

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(src, p)).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const d of graph.get(f)?.deps ?? []) visit(d, [...path, f]);
      state.set(f, 'done');
    };
    files.forEach((f) => visit(f, []));
    expect(cycles).toEqual([]);
  });

  it('has no dynamic import of its own modules', () => {
    const dynamic = files.flatMap((f) => graph.get(f)!.dynamic.map((d) => `${relative(src, f)}: ${d}`));
    expect(dynamic).toEqual([]);
  });
});
