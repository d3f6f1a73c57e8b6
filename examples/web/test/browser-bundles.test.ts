import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Bundles `specifier` (resolved from this package, as a page's bundler would) for the browser platform: every module reached, or the bundler's errors. */
async function bundle(specifier: string): Promise<{ modules: string[]; errors: string[] }> {
  return build({
    stdin: { contents: `export * from '${specifier}';`, resolveDir: here, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  }).then(
    (r) => ({ modules: Object.keys(r.metafile.inputs), errors: [] }),
    (e: { errors?: { text: string }[] }) => ({ modules: [], errors: (e.errors ?? []).map((x) => x.text) }),
  );
}

/** Modules of a bundle that only Node can run: built-ins, and the Node-only files and packages the browser builds replace. */
function nodeOnly(modules: readonly string[]): string[] {
  return modules.filter(
    (m) =>
      isBuiltin(m) ||
      /\/(onnxruntime-node|cli-progress|signal-exit)\//.test(m) ||
      /\/core\/dist\/(files|saved-model|checkpoint|progress-bar)\.js$/.test(m) ||
      /\/tfjs\/dist\/runtime-paths\.js$/.test(m) ||
      /\/onnxruntime\/dist\/device\.js$/.test(m) ||
      /\/conformance\/dist\/(fixture-files|cli|describe|checkpoint-checks)\.js$/.test(m) ||
      /\/(datasets\/dist|vitest|commander|import-meta-resolve)\//.test(m),
  );
}

describe('browser bundles (esbuild, platform browser, no stubs or plugins)', () => {
  it('@araboza/core carries no Node built-in', async () => {
    const { modules, errors } = await bundle('@araboza/core');
    expect(errors).toEqual([]);
    expect(nodeOnly(modules)).toEqual([]);
    expect(modules.some((m) => m.endsWith('core/dist/files.browser.js'))).toBe(true);
  });

  it('@araboza/tfjs carries no Node built-in, and brings its webgl and webgpu engines', async () => {
    const { modules, errors } = await bundle('@araboza/tfjs');
    expect(errors).toEqual([]);
    expect(nodeOnly(modules)).toEqual([]);
    expect(modules.some((m) => m.includes('/tfjs-backend-webgl/')) && modules.some((m) => m.includes('/tfjs-backend-webgpu/'))).toBe(true);
  });

  it('@araboza/onnxruntime/web carries neither onnxruntime-node nor a Node built-in', async () => {
    const { modules, errors } = await bundle('@araboza/onnxruntime/web');
    expect(errors).toEqual([]);
    expect(nodeOnly(modules)).toEqual([]);
    expect(modules.some((m) => m.includes('/onnxruntime-web/'))).toBe(true);
  });

  it("@araboza/onnxruntime/web brings the ONNX generator, the same modules as onnxruntime-node's entry", async () => {
    const { modules } = await bundle('@araboza/onnxruntime/web');
    for (const generator of ['model-gen', 'onnx-graph', 'losses', 'optimizers']) {
      expect(modules.filter((m) => m.endsWith(`/onnxruntime/dist/${generator}.js`)).length, generator).toBe(1);
    }
  });

  it("@araboza/conformance/browser (the runner's browser entry) carries no Node built-in, test framework or disk reader", async () => {
    const { modules, errors } = await bundle('@araboza/conformance/browser');
    expect(errors).toEqual([]);
    expect(nodeOnly(modules)).toEqual([]);
    expect(modules.some((m) => m.endsWith('/conformance/dist/fixture-files.browser.js'))).toBe(true);
  });

  it("@araboza/core's errors keep their names when minified (a minifier renames the classes)", async () => {
    const names = ['ArabozaError', 'ConfigError', 'ShapeError', 'NonFiniteLossError', 'BackendError', 'FormatError', 'FileError'];
    const out = await build({
      stdin: { contents: `export { ${names.join(', ')} } from '@araboza/core';`, resolveDir: here, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    const dir = mkdtempSync(join(tmpdir(), 'araboza-minified-'));
    try {
      const file = join(dir, 'core.min.mjs');
      writeFileSync(file, out.outputFiles[0].text);
      const core = (await import(pathToFileURL(file).href)) as Record<string, new (...args: unknown[]) => Error>;
      expect(names.map((n) => new core[n]('x').name)).toEqual(names);
      expect(core.ShapeError.name).not.toBe('ShapeError');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
