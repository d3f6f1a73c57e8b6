import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { captureLog, restoreConsoleAfterEach } from './console-capture.js';
import { ConformanceRunError, runConformance, unmatchedPatterns } from '../src/index.js';
import { conformanceCases } from '../src/suite.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const noKinds = fixture('no-kinds-backend.mjs');

restoreConsoleAfterEach();

describe('the CLI never reports green without checking', () => {
  it('fails with the pattern when an --include pattern matches no test id', async () => {
    const lines = captureLog();
    expect(await main(['node', 'araboza-conformance', '-b', noKinds, '--include', 'golden/conv2x'])).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^araboza-conformance: include pattern 'golden\/conv2x' matches no test id \(of \d+; list them with --list\)$/);
  });

  it('fails with the pattern when an --exclude pattern matches no test id', async () => {
    const lines = captureLog();
    expect(await main(['node', 'araboza-conformance', '-b', noKinds, '--exclude', '@lrage'])).toBe(2);
    expect(lines).toEqual([expect.stringMatching(/^araboza-conformance: exclude pattern '@lrage' matches no test id/)]);
  });

  it('names the option and the pattern of an invalid regular expression, without a stack trace', async () => {
    const lines = captureLog();
    expect(await main(['node', 'araboza-conformance', '-b', noKinds, '--include', '/golden[/'])).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--include \/golden\[\/: not a valid regular expression/);
  });

  it('fails when every selected test was skipped, so nothing ran', async () => {
    const lines = captureLog();
    expect(await main(['node', 'araboza-conformance', '-b', noKinds, '--include', 'golden/dense/r2-u3-linear-bias/forward'])).toBe(1);
    expect(lines[lines.length - 1]).toMatch(/^araboza-conformance: --backend .*no-kinds-backend\.mjs: no test ran \(\d+ skipped\): nothing was checked$/);
  });

  it('fails within the stated time when the backend factory never settles', async () => {
    const lines = captureLog();
    const started = performance.now();
    expect(await main(['node', 'araboza-conformance', '-b', fixture('never-settles-backend.mjs'), '--create-timeout', '0.2'])).toBe(1);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(lines).toEqual([
      expect.stringMatching(/^araboza-conformance: --backend .*never-settles-backend\.mjs: the backend factory did not settle within 0\.2 s$/),
    ]);
  });

  it('reports a factory that throws in one line', async () => {
    const lines = captureLog();
    expect(await main(['node', 'araboza-conformance', '-b', fixture('throwing-backend.mjs')])).toBe(1);
    expect(lines).toEqual([
      expect.stringMatching(/^araboza-conformance: --backend .*throwing-backend\.mjs: the backend factory failed: Error: cannot open the device$/),
    ]);
  });

  it('names the module file when it does not load', async () => {
    const lines = captureLog();
    const file = fixture('syntax-error-backend.mjs');
    expect(await main(['node', 'araboza-conformance', '-b', file])).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot load ${file}: `);
  });
});

describe('runConformance never reports green without checking', () => {
  const backend = { name: 'none', kinds: [], compile: () => Promise.reject(new Error('unreachable')) };

  it('rejects a pattern that matches nothing before creating the backend', async () => {
    const factory = vi.fn(() => backend);
    await expect(runConformance(factory, { include: ['errors/no-such-test'] })).rejects.toThrow(
      new ConformanceRunError("include pattern 'errors/no-such-test' matches no test id (of " + conformanceCases().length + '; list them with --list)'),
    );
    expect(factory).not.toHaveBeenCalled();
  });

  it('rejects when the factory does not settle within createTimeoutMs', async () => {
    await expect(runConformance(() => new Promise(() => {}), { createTimeoutMs: 50 })).rejects.toThrow('the backend factory did not settle within 0.05 s');
  });

  it('rejects when no test ran', async () => {
    await expect(runConformance(() => backend, { include: ['golden/dense/r2-u3-linear-bias/forward'] })).rejects.toThrow(/^no test ran \(\d+ skipped\)/);
  });

  it('lists every unmatched pattern with its source, the environment included', () => {
    const cases = conformanceCases();
    expect(unmatchedPatterns(cases, { include: ['golden', /nothing-matches-this/] }, { ARABOZA_CONFORMANCE_EXCLUDE: 'golden/nope' })).toEqual([
      'include pattern /nothing-matches-this/',
      "ARABOZA_CONFORMANCE_EXCLUDE pattern 'golden/nope'",
    ]);
  });
});
