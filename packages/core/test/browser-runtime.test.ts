import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultOutput, runId } from '../src/runtime.js';
import { linearProblem as problem, linearSetup as setup } from './fake-backend.js';

afterEach(() => vi.unstubAllGlobals());

describe('fit without a Node process (as in a browser)', () => {
  it('trains with verbose 0 when there is no process global at all', async () => {
    vi.stubGlobal('process', undefined);
    const { m } = setup();
    const { x, y } = problem(8);
    const h = await m.fit(x, y, { batchSize: 4, verbose: 0 });
    vi.unstubAllGlobals();
    expect(h.history.loss).toHaveLength(1);
  });

  it('writes progress lines to the console when there is no process.stdout', () => {
    vi.stubGlobal('process', undefined);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const out = defaultOutput();
    out.write('Epoch 1/2\n1/1 - ');
    out.write('loss: 0.5\n');
    vi.unstubAllGlobals();
    expect(log.mock.calls).toEqual([['Epoch 1/2'], ['1/1 - loss: 0.5']]);
    log.mockRestore();
  });

  it('draws run ids from the platform generator: eight hex digits, different each time', () => {
    const ids = new Set(Array.from({ length: 20 }, () => runId()));
    expect([...ids].every((id) => /^[0-9a-f]{8}$/.test(id))).toBe(true);
    expect(ids.size).toBe(20);
  });
});
