import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./fixtures/interrupt-child.mjs', import.meta.url));

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Interrupted {
  signal: NodeJS.Signals | null;
  code: number | null;
  stdout: string;
  /** What `atReady` returned, evaluated while the child waited. */
  seen: unknown;
}

/** Runs the child until it prints READY, calls `atReady`, sends `signal`, and waits for it to end. */
function interrupt(args: string[], signal: NodeJS.Signals, atReady: () => Promise<unknown>): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let seen: unknown;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child never got ready: ${stderr}`));
    }, 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('READY') && seen === undefined) {
        seen = null;
        atReady().then(
          (v) => {
            seen = v;
            child.kill(signal);
          },
          (e: unknown) => {
            child.kill('SIGKILL');
            reject(e);
          },
        );
      }
    });
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ signal: sig, code, stdout, seen });
    });
  });
}

describe('an interrupted save leaves no temporary file (issue 16, item 1)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s while both files are written but not yet renamed', async (signal) => {
    const dir = await mkdtemp(join(tmpdir(), 'araboza-interrupt-'));
    dirs.push(dir);
    const out = join(dir, 'model');
    const run = await interrupt(['save', out], signal, async () => readdir(out));
    // While the save waited, both full temporary files existed (so the signal landed mid-save) …
    expect((run.seen as string[]).filter((f) => f.includes('.tmp-'))).toHaveLength(2);
    // … the process still ends by that signal, and nothing is left behind.
    expect(run.signal).toBe(signal);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('an interrupted progress bar restores the terminal (issue 16, item 14)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s during fit turns auto-wrap back on', async (signal) => {
    const run = await interrupt(['bar'], signal, async () => null);
    expect(run.signal).toBe(signal);
    const off = run.stdout.lastIndexOf('\u001b[?7l');
    expect(off).toBeGreaterThanOrEqual(0);
    expect(run.stdout.indexOf('\u001b[?7h', off)).toBeGreaterThan(off);
  });
});
