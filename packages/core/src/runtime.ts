/*
 * The few things the training loop needs from its runtime, found through
 * globals that Node 20+ and browsers both have, so that no Node built-in is
 * imported for them.
 */

/** A writable text sink as `fit`'s `output` option takes it. */
export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** A sink that drops everything: `fit`'s output with `verbose: 0` when none is given. */
export const SILENT: TextSink = { write: () => true };

/**
 * `fit`'s default output: `process.stdout` where there is one (Node), else
 * the console, one `console.log` per line (a browser, a worker).
 */
export function defaultOutput(): TextSink {
  const proc = (globalThis as { process?: { stdout?: TextSink } }).process;
  if (proc?.stdout && typeof proc.stdout.write === 'function') return proc.stdout;
  let pending = '';
  return {
    write(text: string): boolean {
      const lines = (pending + text).split('\n');
      pending = lines.pop()!;
      for (const line of lines) console.log(line);
      return true;
    },
  };
}

/** Eight hexadecimal digits from the platform's cryptographic generator: a fit run's id in its checkpoints. */
export function runId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
