import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** GNU time, which reports a child's peak resident set size with `-v`. */
export const GNU_TIME = '/usr/bin/time';

/** The examples CLI (built by `turbo run build --filter=@araboza/bench...`, a dependency of this package). */
export function examplesCli(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('@araboza/examples/package.json'))), 'dist', 'cli.js');
}

/** One run of a command with its peak memory. */
export interface PeakRssRun {
  /** Peak resident set size in bytes. */
  peakRssBytes: number;
  /** How it was measured. */
  method: 'GNU time -v (ru_maxrss)' | '/proc/<pid>/status VmHWM, polled';
  /** Wall time of the whole command, ms. */
  wallMs: number;
  /** Exit code (0 on success). */
  exitCode: number | null;
  /** The last lines of its output (the example's JSON summary is the last stdout line). */
  stdoutTail: string;
  stderrTail: string;
}

/** Peak RSS in bytes from the report of `/usr/bin/time -v`, or `null` when absent. */
export function parseGnuTimeMaxRss(report: string): number | null {
  const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(report);
  return m ? Number(m[1]) * 1024 : null;
}

/** VmHWM (the peak RSS) in bytes from the text of `/proc/<pid>/status`, or `null`. */
export function parseVmHwm(status: string): number | null {
  const m = /^VmHWM:\s*(\d+)\s*kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

const tail = (text: string, lines: number) => text.trim().split('\n').slice(-lines).join('\n');

/**
 * Runs `command args` as a child process and measures its peak resident
 * memory: with GNU time when installed, else by polling VmHWM (a high-water
 * mark, so a poll after the peak still sees it; only the last few ms before
 * exit can be missed).
 */
export function measurePeakRss(command: string, args: readonly string[], timeoutMs: number): Promise<PeakRssRun> {
  const useTime = existsSync(GNU_TIME);
  const child = useTime
    ? spawn(GNU_TIME, ['-v', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const t0 = performance.now();
  let stdout = '';
  let stderr = '';
  let polled = 0;
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout = (stdout + c).slice(-20_000)));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-20_000)));
  const poll = useTime
    ? null
    : setInterval(() => {
        try {
          polled = Math.max(polled, parseVmHwm(readFileSync(`/proc/${child.pid}/status`, 'utf8')) ?? 0);
        } catch {
          // exited between polls
        }
      }, 20);
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(killer);
      if (poll) clearInterval(poll);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      if (poll) clearInterval(poll);
      const wallMs = performance.now() - t0;
      const peak = useTime ? parseGnuTimeMaxRss(stderr) : polled;
      if (peak === null || peak === 0) {
        reject(new Error(`no peak RSS measured for ${command} ${args.join(' ')} (exit ${code}): ${tail(stderr, 10)}`));
        return;
      }
      // GNU time appends its report to stderr; keep only the command's own lines.
      const own = useTime ? stderr.replace(/\s*Command being timed:[\s\S]*$/, '') : stderr;
      resolve({
        peakRssBytes: peak,
        method: useTime ? 'GNU time -v (ru_maxrss)' : '/proc/<pid>/status VmHWM, polled',
        wallMs,
        exitCode: code,
        stdoutTail: tail(stdout, 5),
        stderrTail: tail(own, 10),
      });
    });
  });
}
