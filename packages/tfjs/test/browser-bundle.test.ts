import { build, type Metafile } from 'esbuild';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

it('bundles @araboza/tfjs (and the @araboza/core it imports) for the browser platform with no Node built-in', async () => {
  let metafile: Metafile | undefined;
  let failures: string[] = [];
  try {
    ({ metafile } = await build({
      stdin: { contents: "export * from '@araboza/tfjs';", resolveDir: packageRoot, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    }));
  } catch (e) {
    failures = ((e as { errors?: { text: string }[] }).errors ?? []).map((x) => x.text);
  }
  expect(failures).toEqual([]);
  const reached = Object.keys(metafile!.inputs);
  expect(reached.filter((p) => builtins.has(p) || p.includes('/tfjs/dist/runtime-paths.js') || p.includes('/core/dist/files.js'))).toEqual([]);
  // The GPU engines come along (dynamically imported), so a page can use them.
  expect(reached.some((p) => p.includes('tfjs-backend-webgpu/'))).toBe(true);
});
