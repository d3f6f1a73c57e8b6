import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runServer } from 'verdaccio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
/** The published packages, by folder; the fresh project installs all but datasets by name (conformance brings it). */
const PUBLIC = {
  'packages/core': '@araboza/core',
  'packages/datasets': '@araboza/datasets',
  'packages/tfjs': '@araboza/tfjs',
  'packages/onnxruntime': '@araboza/onnxruntime',
  conformance: '@araboza/conformance',
} as const;
const FOLDERS = Object.keys(PUBLIC) as (keyof typeof PUBLIC)[];

// The pnpm running these tests (a script for some installs, a native executable for others); npm is Node's own.
const execPath = process.env.npm_execpath;
const pnpm = execPath && /pnpm/.test(execPath) ? (/\.[cm]?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]) : ['pnpm'];

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
}

const work = await mkdtemp(join(tmpdir(), 'araboza-release-'));
const repo = join(work, 'repo');
const app = join(work, 'app');
let server: Server | undefined;
let registry = '';
/** Each public package's manifest in the repository before `changeset version`. */
const before = new Map<string, Manifest>();

async function manifest(folder: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(folder, 'package.json'), 'utf8')) as Manifest;
}

/** Starts Verdaccio on 127.0.0.1 with its storage and users in `work`, serving only what is published to it (no uplinks). */
async function startRegistry(): Promise<void> {
  const self = join(work, 'verdaccio');
  await mkdir(self, { recursive: true });
  const config = {
    self_path: self,
    configPath: join(self, 'config.yaml'),
    storage: join(self, 'storage'),
    auth: { htpasswd: { file: join(self, 'htpasswd'), max_users: 1 } },
    uplinks: {},
    packages: { '**': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' } },
    log: { type: 'stdout', format: 'pretty', level: 'error' },
    web: { enable: false },
  };
  const app = (await runServer(config as unknown as Parameters<typeof runServer>[0])) as Server;
  await new Promise<void>((resolve, reject) => {
    app.once('error', reject);
    app.listen(0, '127.0.0.1', () => resolve());
  });
  server = app;
  registry = `http://127.0.0.1:${(app.address() as AddressInfo).port}/`;
}

/** Adds a user to the registry (what `npm adduser` does) and returns its token. */
async function addUser(): Promise<string> {
  const response = await fetch(`${registry}-/user/org.couchdb.user:release-test`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release-test', password: 'release-test-password' }),
  });
  if (!response.ok) throw new Error(`adding a registry user failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

/** Copies the repository's files (tracked, or untracked and not ignored) and the public packages' builds, and installs from the pnpm store. */
async function copyRepository(): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 64 << 20 });
  for (const file of stdout.split('\0').filter(Boolean)) {
    await cp(join(root, file), join(repo, file), { recursive: true, dereference: false, errorOnExist: false }).catch((e: NodeJS.ErrnoException) => {
      // A file deleted in the working tree but still tracked.
      if (e.code !== 'ENOENT') throw e;
    });
  }
  for (const folder of FOLDERS) await cp(join(root, folder, 'dist'), join(repo, folder, 'dist'), { recursive: true });
  // What a release checkout has: `pnpm publish` reads the linked workspace packages' versions from node_modules.
  await run(pnpm[0], [...pnpm.slice(1), 'install', '--offline', '--frozen-lockfile'], { cwd: repo, timeout: 120_000 });
}

beforeAll(async () => {
  await startRegistry();
  await copyRepository();
  for (const folder of FOLDERS) before.set(folder, await manifest(join(repo, folder)));
  const token = await addUser();
  const host = registry.replace(/^http:/, '');
  // Project-level config only (the user's ~/.npmrc is not written); the registry twice, so nothing can reach the real one.
  await writeFile(join(repo, '.npmrc'), `registry=${registry}\n${host}:_authToken=${token}\n`);
  // The release flow of the root package.json (`version-packages`, then `release` without its build: dist is copied).
  await run(process.execPath, [join(repo, 'node_modules/@changesets/cli/bin.js'), 'version'], { cwd: repo });
  await run(pnpm[0], [...pnpm.slice(1), 'publish', '-r', '--access', 'public', '--no-git-checks', '--registry', registry], { cwd: repo, timeout: 120_000 });
}, 180_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await rm(work, { recursive: true, force: true });
});

describe('release flow against a local registry', () => {
  it('changeset version bumps every public package and writes its changelog entry', async () => {
    // Consumed: every changeset that names a public package (one naming only the unpublished examples stays).
    for (const file of (await readdir(join(repo, '.changeset'))).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
      const frontMatter = (await readFile(join(repo, '.changeset', file), 'utf8')).split('---')[1];
      for (const name of Object.values(PUBLIC)) expect(frontMatter, file).not.toContain(`"${name}"`);
    }
    for (const folder of FOLDERS) {
      const { version } = await manifest(join(repo, folder));
      expect(version, folder).not.toBe(before.get(folder)!.version);
      const changelog = await readFile(join(repo, folder, 'CHANGELOG.md'), 'utf8');
      expect(changelog, folder).toMatch(new RegExp(`^# ${PUBLIC[folder]}\n\n## ${version.replaceAll('.', '\\.')}\n\n### (Major|Minor|Patch) Changes\n`));
    }
  });

  it('the registry serves each public package at its new version, with workspace: ranges replaced', async () => {
    const versions = new Map<string, string>();
    for (const folder of FOLDERS) versions.set(PUBLIC[folder], (await manifest(join(repo, folder))).version);
    for (const [name, version] of versions) {
      const document = (await (await fetch(`${registry}${name.replace('/', '%2f')}`)).json()) as {
        'dist-tags': { latest: string };
        versions: Record<string, Manifest>;
      };
      expect(document['dist-tags'].latest, name).toBe(version);
      const published = document.versions[version];
      for (const [dep, range] of Object.entries(published.dependencies ?? {})) {
        expect(range, `${name} → ${dep}`).not.toMatch(/^workspace:/);
        if (versions.has(dep)) expect(range, `${name} → ${dep}`).toBe(`^${versions.get(dep)}`);
      }
    }
  });

  describe('a fresh npm project installing @araboza/* from the registry by version', () => {
    beforeAll(async () => {
      await mkdir(app, { recursive: true });
      await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
      // @araboza/* from the local registry, everything else from the user's usual registry; no CUDA download.
      await writeFile(join(app, '.npmrc'), `@araboza:registry=${registry}\nonnxruntime-node-install=skip\n`);
      const specs: string[] = [];
      for (const folder of FOLDERS) if (folder !== 'packages/datasets') specs.push(`${PUBLIC[folder]}@${(await manifest(join(repo, folder))).version}`);
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], {
        cwd: app,
        timeout: 600_000,
        env: { ...process.env, npm_config_workspaces: 'false' },
      });
    }, 600_000);

    it('each installed package carries its changelog, headed by its version', async () => {
      for (const folder of FOLDERS) {
        const installed = join(app, 'node_modules', PUBLIC[folder]);
        const { version } = await manifest(installed);
        expect(version, folder).toBe((await manifest(join(repo, folder))).version);
        expect(await readFile(join(installed, 'CHANGELOG.md'), 'utf8'), folder).toContain(`\n## ${version}\n`);
      }
    });

    it('trains and predicts with the same dense model on each backend, which agree', async () => {
      await writeFile(
        join(app, 'dense.mjs'),
        `import { dense, sequential, randomUniform } from '@araboza/core';
import { tfjsBackend } from '@araboza/tfjs';
import { onnxruntimeBackend } from '@araboza/onnxruntime';
const x = randomUniform([8, 4], { seed: 1 });
const y = randomUniform([8, 3], { seed: 2 });
const out = {};
for (const backend of [tfjsBackend({ engine: 'wasm' }), onnxruntimeBackend({ device: 'cpu' })]) {
  const m = sequential({ inputShape: [4], layers: [dense({ units: 3, activation: 'sigmoid', seed: 3 })] });
  m.compile({ backend, optimizer: 'sgd', loss: 'meanSquaredError' });
  const history = await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
  const p = await m.predict(x);
  out[backend.name] = { loss: history.history.loss, shape: p.shape, data: Array.from(p.data) };
}
console.log(JSON.stringify(out));
`,
      );
      const { stdout } = await run(process.execPath, ['dense.mjs'], { cwd: app, timeout: 120_000 });
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, { loss: number[]; shape: number[]; data: number[] }>;
      const [tfjs, ort] = [result['tfjs-wasm'], result['onnxruntime-cpu']];
      expect(tfjs.shape).toEqual([8, 3]);
      expect(ort.shape).toEqual([8, 3]);
      for (let i = 0; i < 2; i++) expect(tfjs.loss[i]).toBeCloseTo(ort.loss[i], 5);
      for (let i = 0; i < tfjs.data.length; i++) expect(tfjs.data[i]).toBeCloseTo(ort.data[i], 5);
    }, 120_000);

    it('araboza-conformance passes a small selection on the onnxruntime backend', async () => {
      // The bin npm linked, as a user's `npx araboza-conformance` runs it.
      const bin = join(app, 'node_modules/.bin/araboza-conformance');
      const { stdout } = await run(bin, ['--backend', '@araboza/onnxruntime', '--include', 'golden/dense/*', '--include', 'reference/linear-*', '--quiet'], {
        cwd: app,
        timeout: 120_000,
      });
      expect(stdout).toMatch(/\n(\d+) passed, 0 failed/);
      expect(Number(/\n(\d+) passed/.exec(stdout)![1])).toBeGreaterThan(0);
    }, 120_000);
  });
});
