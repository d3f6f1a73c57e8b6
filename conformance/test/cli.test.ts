import { fileURLToPath } from 'node:url';
import { LAYER_KINDS } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { backendModuleUrl, main } from '../src/cli.js';
import { captureLog, restoreConsoleAfterEach } from './console-capture.js';

const fixture = fileURLToPath(new URL('./fixtures/no-kinds-backend.mjs', import.meta.url));

restoreConsoleAfterEach();

describe('araboza-conformance CLI', () => {
  it('reports every kind of a backend that implements none as unsupported, and closes with the counts', async () => {
    const lines = captureLog();
    const code = await main(['node', 'araboza-conformance', '--backend', fixture, '--include', 'coverage', '--options', '{"suffix":"-test"}']);
    const out = lines.join('\n');
    expect(code).toBe(0);
    expect(out).toContain('coverage matrix of no-kinds-test:');
    expect(out).toMatch(/^conv2dTranspose\s+unsupported\s+unsupported\s+unsupported$/m);
    // coverage/kinds, then one coverage/<kind> per kind (each passes by being refused).
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^${LAYER_KINDS.length + 1} passed, 0 failed, \\d+ skipped$`));
  });

  it('skips golden tests of unsupported kinds with the reason, and exits non-zero on a failure', async () => {
    const lines = captureLog();
    const code = await main(['node', 'araboza-conformance', '-b', fixture, '-i', 'golden/dense/r2-u3-linear-bias', '-i', 'reference/linear-two-steps']);
    const out = lines.join('\n');
    expect(out).toMatch(/skip\s+golden\/dense\/r2-u3-linear-bias\/forward: unsupported: no-kinds does not implement dense/);
    expect(out).toMatch(/FAIL\s+reference\/linear-two-steps: BackendError/);
    expect(lines[lines.length - 1]).toMatch(/^0 passed, 1 failed, \d+ skipped$/);
    expect(code).toBe(1);
  });

  it('lists the selected ids with their tags', async () => {
    const lines = captureLog();
    expect(await main(['node', 'araboza-conformance', '--list', '--include', '@large'])).toBe(0);
    expect(lines).toEqual(['reference/conv-fhd  [reference, large]']);
  });

  it('refuses a module without the factory export, naming the exports it has', async () => {
    const lines = captureLog();
    expect(await main(['node', 'araboza-conformance', '-b', fixture, '--export', 'makeBackend'])).toBe(2);
    expect(lines.join('\n')).toMatch(/no function export 'makeBackend' \(its functions: createBackend\)/);
  });

  it('resolves installed packages from the working directory', () => {
    expect(backendModuleUrl('@araboza/onnxruntime')).toMatch(/^file:.*onnxruntime\/dist\/index\.js$/);
  });
});
