import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Bundles core's built entry point as a browser bundler does (package.json `browser` field honoured): the modules it reached, or the bundler's errors. */
async function bundleForBrowser(): Promise<{ inputs: string[]; errors: string[] }> {
  try {
    const { metafile } = await build({
      entryPoints: [join(root, 'dist/index.js')],
      bundle: true,
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    return { inputs: Object.keys(metafile.inputs), errors: [] };
  } catch (e) {
    return { inputs: [], errors: ((e as { errors?: { text: string }[] }).errors ?? [{ text: String(e) }]).map((x) => x.text) };
  }
}

describe('@araboza/core in a browser bundle', () => {
  it('bundles for the browser platform without any Node built-in or Node-only dependency', async () => {
    const { inputs, errors } = await bundleForBrowser();
    expect(errors).toEqual([]);
    const offending = inputs.filter((p) => NODE_BUILTINS.has(p) || /node_modules\/(cli-progress|signal-exit)\//.test(p));
    expect(offending).toEqual([]);
    expect(inputs.some((p) => p.endsWith('dist/files.browser.js'))).toBe(true);
  });

  it('gives each browser replacement exactly the runtime exports of the Node module it replaces', async () => {
    for (const name of ['files', 'saved-model', 'checkpoint', 'progress-bar']) {
      const node = Object.keys(await import(`../src/${name}.ts`)).sort();
      const browser = Object.keys(await import(`../src/${name}.browser.ts`)).sort();
      expect({ name, exports: browser }).toEqual({ name, exports: node });
    }
  });
});
