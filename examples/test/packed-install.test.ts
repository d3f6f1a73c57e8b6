import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const PUBLIC_PACKAGES = ['packages/core', 'packages/datasets', 'packages/tfjs', 'packages/onnxruntime', 'conformance'];
const PUBLIC_NAMES = ['@araboza/core', '@araboza/datasets', '@araboza/tfjs', '@araboza/onnxruntime', '@araboza/conformance', '@araboza/conformance/runner'];
const work = await mkdtemp(join(tmpdir(), 'araboza-pack-'));
const app = join(work, 'app');
afterAll(() => rm(work, { recursive: true, force: true }));

// The pnpm running these tests (a script for some installs, a native executable for others); npm is Node's own.
const execPath = process.env.npm_execpath;
const pnpm = execPath && /pnpm/.test(execPath) ? (/\.[cm]?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]) : ['pnpm'];

/**
 * The environment of the user's `npm install`: without the CUDA switches
 * (CI exports ONNXRUNTIME_NODE_INSTALL=skip, which would hide a missing
 * `.npmrc` line), and with onnxruntime-node's download agent pointed at a
 * closed local port, so that any download attempt fails the install even on
 * a machine that can reach NuGet.
 */
function userInstallEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_workspaces: 'false', GLOBAL_AGENT_HTTP_PROXY: 'http://127.0.0.1:9' };
  for (const key of Object.keys(env)) {
    if (/^(ONNXRUNTIME_NODE_INSTALL|npm_config_onnxruntime_node_install)/i.test(key)) delete env[key];
  }
  return env;
}

beforeAll(async () => {
  const tarballs = join(work, 'tarballs');
  for (const pkg of PUBLIC_PACKAGES) {
    await run(pnpm[0], [...pnpm.slice(1), 'pack', '--pack-destination', tarballs], { cwd: join(root, pkg) });
  }
  const files = (await readdir(tarballs)).filter((f) => f.endsWith('.tgz'));
  expect(files).toHaveLength(PUBLIC_PACKAGES.length);
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // The documented way for npm users (packages/onnxruntime/README.md): skip onnxruntime-node's CUDA download.
  await writeFile(join(app, '.npmrc'), 'onnxruntime-node-install=skip\n');
  // vitest too: @araboza/conformance's main entry is for vitest suites (its README has users install both).
  const vitest = `vitest@${(createRequire(import.meta.url)('vitest/package.json') as { version: string }).version}`;
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files.map((f) => join(tarballs, f)), vitest], {
    cwd: app,
    timeout: 600_000,
    env: userInstallEnv(),
  });
}, 900_000);

describe('published packages, installed with npm into a fresh project', () => {
  it('run a dense layer on each backend', async () => {
    await writeFile(
      join(app, 'main.mjs'),
      `import { dense, zeros, ones } from '@araboza/core';
import { tfjsBackend } from '@araboza/tfjs';
import { onnxruntimeBackend } from '@araboza/onnxruntime';
const out = {};
for (const backend of [tfjsBackend({ engine: 'wasm' }), onnxruntimeBackend({ device: 'cpu' })]) {
  const layer = dense({ units: 2, useBias: false, seed: 1 });
  const y = await layer.apply(ones([3, 4]), { backend });
  const k = layer.getWeights()[0].data;
  out[backend.name] = { shape: y.shape, first: y.data[0], expected: k[0] + k[2] + k[4] + k[6] };
}
console.log(JSON.stringify(out));
`,
    );
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: app, timeout: 120_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, { shape: number[]; first: number; expected: number }>;
    expect(Object.keys(result)).toHaveLength(2);
    for (const r of Object.values(result)) {
      expect(r.shape).toEqual([3, 2]);
      expect(r.first).toBeCloseTo(r.expected, 5);
    }
  }, 180_000);

  it.runIf(process.platform === 'linux' && process.arch === 'x64')(
    'the .npmrc line keeps the CUDA provider out (linux x64 would download it by default)',
    () => {
      const bin = join(app, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
      expect(existsSync(join(bin, 'onnxruntime_binding.node'))).toBe(true);
      expect(existsSync(join(bin, 'libonnxruntime_providers_cuda.so'))).toBe(false);
    },
  );

  it('a user file importing every public package type-checks under --strict with skipLibCheck false', async () => {
    await writeFile(
      join(app, 'check.ts'),
      PUBLIC_NAMES.map((name, i) => `import * as m${i} from '${name}';`).join('\n') +
        `
import type { Backend } from '@araboza/core';
const backends: Backend[] = [m2.tfjsBackend({ engine: 'wasm' }), m3.onnxruntimeBackend({ device: 'cpu' })];
export const names: string[] = backends.map((b) => b.name);
export const modules = [${PUBLIC_NAMES.map((_, i) => `m${i}`).join(', ')}];
`,
    );
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext' },
        files: ['check.ts'],
      }),
    );
    // The workspace's TypeScript, run over the app's own node_modules.
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, timeout: 120_000 }).catch(
      (e: { stdout?: string; message: string }) => ({
        stdout: `failed: ${e.stdout ?? ''}${e.message}`,
      }),
    );
    expect(result.stdout).toBe('');
  }, 180_000);
});
