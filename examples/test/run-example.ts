import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs the built example CLI and returns its output and the JSON of its last line. */
export async function runExample(args: string[], timeout = 240_000): Promise<{ stdout: string; json: Record<string, unknown> }> {
  const { stdout } = await run(process.execPath, [cli, ...args, '--json'], { timeout, maxBuffer: 64 * 1024 * 1024 });
  const lines = stdout.trim().split('\n');
  return { stdout, json: JSON.parse(lines[lines.length - 1]) as Record<string, unknown> };
}
