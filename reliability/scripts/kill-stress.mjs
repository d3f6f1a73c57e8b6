// Kill-and-resume stress, outside CI: SIGKILLs the training child of
// test/fixtures/train-child.mjs at random moments (uniform over the time an
// uninterrupted run spends training, counted from its first step, so kills
// land anywhere, including in the middle of checkpoint writes),
// up to four times per run, resumes it from its checkpoints until it finishes,
// and checks that the final weights equal an uninterrupted run's within 1e-6.
// Not seeded on purpose: the kill moments come from the OS scheduler.
// Usage: node scripts/kill-stress.mjs [onnxruntime|tfjs-wasm] [runs]   (after building the packages)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../test/fixtures/train-child.mjs', import.meta.url));
const backend = process.argv[2] ?? 'onnxruntime';
const runs = Number(process.argv[3] ?? 20);

/** Runs the child; with `killMs`, SIGKILLs it that long after its first output. */
function runChild(dir, out, resume, killMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, backend, join(dir, 'ck'), out, resume ? 'resume' : 'fresh'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer = null;
    let firstOutput = 0;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (firstOutput === 0) firstOutput = performance.now();
      if (killMs !== undefined && timer === null) timer = setTimeout(() => child.kill('SIGKILL'), killMs);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, done: stdout.includes('DONE'), stderr, trainMs: performance.now() - firstOutput });
    });
  });
}

const base = mkdtempSync(join(tmpdir(), 'araboza-kill-stress-'));
try {
  const reference = await runChild(join(base, 'ref'), join(base, 'ref.json'), false);
  const want = JSON.parse(readFileSync(join(base, 'ref.json'), 'utf8'));
  let kills = 0;
  let mismatches = 0;
  let errors = 0;
  for (let r = 0; r < runs; r++) {
    const dir = join(base, `run${r}`);
    const out = join(base, `run${r}.json`);
    let resume = false;
    for (let attempt = 0; attempt < 10; attempt++) {
      const result = await runChild(dir, out, resume, attempt < 4 ? Math.random() * reference.trainMs : undefined);
      if (result.signal === 'SIGKILL') kills++;
      if (result.stderr) {
        errors++;
        console.log(`run ${r}, attempt ${attempt}: ${result.stderr.slice(0, 500)}`);
      }
      if (result.done) break;
      // A child killed before its first checkpoint starts over.
      resume = existsSync(join(dir, 'ck', 'latest.json'));
    }
    const got = JSON.parse(readFileSync(out, 'utf8'));
    let worst = 0;
    got.forEach((w, i) => w.data.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - want[i].data[j])))));
    if (worst > 1e-6) {
      mismatches++;
      console.log(`run ${r}: final weights differ by ${worst}`);
    }
  }
  console.log(`${backend}: ${runs} runs, ${kills} SIGKILLs, ${mismatches} runs with different final weights, ${errors} child errors`);
  process.exitCode = mismatches + errors > 0 ? 1 : 0;
} finally {
  rmSync(base, { recursive: true, force: true });
}
