import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const PUBLIC_PACKAGES = ['packages/core', 'packages/datasets', 'packages/tfjs', 'packages/onnxruntime', 'conformance'];
const work = await mkdtemp(join(tmpdir(), 'araboza-pack-'));
afterAll(() => rm(work, { recursive: true, force: true }));

// The pnpm running these tests (a script for some installs, a native executable for others); npm is Node's own.
const execPath = process.env.npm_execpath;
const pnpm = execPath && /pnpm/.test(execPath) ? (/\.[cm]?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]) : ['pnpm'];

describe('published packages', () => {
  it('pack, install into a fresh npm project and run a dense layer on each backend', async () => {
    const tarballs = join(work, 'tarballs');
    for (const pkg of PUBLIC_PACKAGES) {
      await run(pnpm[0], [...pnpm.slice(1), 'pack', '--pack-destination', tarballs], { cwd: join(root, pkg) });
    }
    const files = (await readdir(tarballs)).filter((f) => f.endsWith('.tgz'));
    expect(files).toHaveLength(PUBLIC_PACKAGES.length);
    const app = join(work, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files.map((f) => join(tarballs, f))], {
      cwd: app,
      timeout: 600_000,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_workspaces: 'false' },
    });
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
  }, 900_000);
});
