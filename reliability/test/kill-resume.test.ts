import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./fixtures/train-child.mjs', import.meta.url));
/** The child's run has 24 steps (3 epochs of 8); checkpoints every 3 steps. */
const TOTAL_STEPS = 24;
/**
 * Steps (counted per process) after which each killed child gets SIGKILL. The
 * kill is sent right after letting the child go on, so it lands while the
 * child writes that step's checkpoint (checkpoints come every 3 steps of a
 * process) or runs the next step. The first child dies at global step 6
 * (epoch 0 of 8 steps); the second resumes from the last complete checkpoint
 * (global step 3 or 6) and dies 6 steps later, at global step 9 or 12 — both
 * mid-epoch.
 */
const KILL_AFTER = [6, 6];

interface ChildRun {
  steps: number;
  signal: NodeJS.Signals | null;
  code: number | null;
  done: boolean;
  stderr: string;
}

/**
 * Runs the training child. When `killAfterStep` is set, the child runs in
 * lockstep (it waits for a line after each step); after that step the parent
 * releases it and SIGKILLs it at once.
 */
function runChild(backend: string, dir: string, out: string, resume: boolean, killAfterStep?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const args = [CHILD, backend, join(dir, 'ck'), out, resume ? 'resume' : 'fresh', ...(killAfterStep !== undefined ? ['lockstep'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const run: ChildRun = { steps: 0, signal: null, code: null, done: false, stderr: '' };
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const m = /^STEP (\d+)$/.exec(line);
        if (m) run.steps = Number(m[1]);
        if (line === 'DONE') run.done = true;
        if (m && killAfterStep !== undefined) {
          child.stdin.write('go\n');
          if (run.steps === killAfterStep) child.kill('SIGKILL');
        }
      }
    });
    // Writing to a killed child's stdin may fail with EPIPE; the kill is what the test wants.
    child.stdin.on('error', () => undefined);
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ ...run, code, signal }));
  });
}

async function readWeights(path: string): Promise<{ shape: number[]; data: number[] }[]> {
  return JSON.parse(await readFile(path, 'utf8')) as { shape: number[]; data: number[] }[];
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe.each(['onnxruntime', 'tfjs-wasm'])('kill and resume on %s', (backend) => {
  it(`a run SIGKILLed mid-epoch ${KILL_AFTER.length} times and resumed ends with the uninterrupted run's weights (±1e-6)`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'araboza-kill-'));
    dirs.push(dir);
    const reference = await runChild(backend, join(dir, 'ref'), join(dir, 'ref.json'), false);
    expect(reference.stderr).toBe('');
    expect(reference.done).toBe(true);
    expect(reference.steps).toBe(TOTAL_STEPS);

    const killedDir = join(dir, 'killed');
    const out = join(dir, 'killed.json');
    let stepsBeforeKills = 0;
    for (const [i, k] of KILL_AFTER.entries()) {
      const killed = await runChild(backend, killedDir, out, i > 0, k);
      expect(killed.signal, `child ${i + 1} exited with code ${killed.code} after ${killed.steps} steps: ${killed.stderr}`).toBe('SIGKILL');
      expect(killed.done).toBe(false);
      expect(killed.steps).toBe(k);
      stepsBeforeKills += killed.steps;
      // No temporary file survives next to the checkpoint pointer, whatever moment the kill hit.
      expect((await readdir(join(killedDir, 'ck'))).filter((f) => f.includes('.tmp-'))).toEqual([]);
    }
    const resumed = await runChild(backend, killedDir, out, true);
    expect(resumed.stderr, `resumed child exited with code ${resumed.code}`).toBe('');
    expect(resumed.done).toBe(true);
    // Resuming replays only the steps after the last checkpoint, so the processes together ran more steps than one run.
    expect(stepsBeforeKills + resumed.steps).toBeGreaterThanOrEqual(TOTAL_STEPS);
    expect(resumed.steps).toBeLessThan(TOTAL_STEPS);

    const want = await readWeights(join(dir, 'ref.json'));
    const got = await readWeights(out);
    expect(got.map((w) => w.shape)).toEqual(want.map((w) => w.shape));
    let worst = 0;
    got.forEach((w, i) => w.data.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - want[i].data[j])))));
    expect(worst).toBeLessThanOrEqual(1e-6);
  }, 120_000);
});
