import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

interface EngineReport {
  firstLoss?: number;
  lastLoss?: number;
  msPerStep?: number;
  steps?: number;
  error?: string;
  wasm?: { build: string; threads: number };
}
interface Report {
  engines: Record<string, EngineReport>;
  unet: Record<string, EngineReport>;
  reference: number;
  references: { autoencoder: number[]; unet: number[] };
  screenshot: string | null;
  unetScreenshot: string | null;
  conformance: Record<string, { passed?: number; failed?: number; skipped?: number; error?: string }>;
}

let report: Report;

// Like the WebGPU tests: without Debian's chromium the check skips, saying why, unless ARABOZA_REQUIRE_BROWSER=1
// (set by .ci/run, which installs chromium) makes it fail instead.
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const required = process.env.ARABOZA_REQUIRE_BROWSER === '1';
const available = existsSync(chromiumPath) || required;

// The whole check in one run of scripts/browser-check.mjs (headless /usr/bin/chromium; CI installs it), as
// `pnpm browser-check --json` runs it: each engine trains in a fresh page and the last line is the JSON report.
beforeAll(async () => {
  if (!available) return;
  if (!existsSync(join(root, 'dist/index.html'))) await run('npx', ['vite', 'build', '--logLevel', 'error'], { cwd: root });
  const { stdout } = await run('node', ['scripts/browser-check.mjs', '--json'], { cwd: root, maxBuffer: 1 << 24 }).catch(
    (e: { stdout?: string; stderr?: string }) => {
      if (e.stdout?.trim()) return { stdout: e.stdout };
      throw new Error(`browser-check printed no report: ${e.stderr}`);
    },
  );
  report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Report;
}, 720_000);

describe.skipIf(!available)('the demo page in headless Chromium', () => {
  for (const engine of ['tfjs-wasm', 'tfjs-webgl', 'onnxruntime-web-wasm']) {
    it(`${engine} trains: first-step loss within 1e-4 of onnxruntime-node's, and the loss falls`, () => {
      const r = report.engines[engine];
      expect(r.error).toBeUndefined();
      expect(Math.abs(r.firstLoss! - report.reference)).toBeLessThanOrEqual(1e-4);
      expect(r.lastLoss!).toBeLessThan(r.firstLoss!);
    });
  }

  it('reports every WebGPU engine, with its losses or the reason it could not train here', () => {
    for (const engine of ['tfjs-webgpu', 'onnxruntime-web-webgpu']) {
      const r = report.engines[engine];
      expect(r.error !== undefined || (Math.abs(r.firstLoss! - report.reference) <= 1e-4 && r.lastLoss! < r.firstLoss!)).toBe(true);
    }
  });

  it('keeps a screenshot of a trained page', () => {
    expect(report.screenshot).not.toBeNull();
    expect(existsSync(join(root, report.screenshot!))).toBe(true);
  });

  for (const engine of ['tfjs-wasm', 'onnxruntime-web-wasm']) {
    it(`${engine} trains the denoising U-Net: first and last losses within 1e-4 of onnxruntime-node's, and the loss falls`, () => {
      const r = report.unet[engine];
      const want = report.references.unet;
      expect(r.error).toBeUndefined();
      expect(Math.abs(r.firstLoss! - want[0])).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(r.lastLoss! - want[want.length - 1])).toBeLessThanOrEqual(1e-4);
      expect(r.lastLoss!).toBeLessThan(r.firstLoss!);
    });
  }

  it('keeps a screenshot of a page with the U-Net trained (noisy, denoised and clean digits)', () => {
    expect(report.unetScreenshot).not.toBeNull();
    expect(existsSync(join(root, report.unetScreenshot!))).toBe(true);
  });

  it("runs @araboza/conformance's whole browser suite on tfjs-wasm in the page, every test passing", () => {
    const r = report.conformance['tfjs-wasm'];
    expect(r.error).toBeUndefined();
    expect(r.failed).toBe(0);
    expect(r.skipped).toBe(0);
    expect(r.passed!).toBeGreaterThan(1000);
  });

  it("tfjs-wasm trains on tfjs's threaded SIMD wasm build, bundled by Vite (vite.config.ts's minify settings)", () => {
    expect(report.engines['tfjs-wasm'].wasm?.build).toBe('threaded-simd');
    expect(report.engines['tfjs-wasm'].wasm?.threads).toBeGreaterThanOrEqual(1);
  });
});

if (!available) it.skip(`browser check: no Chromium at ${chromiumPath} (apt-get install chromium; or set CHROMIUM)`, () => undefined);
