/**
 * `pnpm mutation`: the conformance suite's measured strength. Plants each
 * mutant of {@link MUTANTS} in its backend's source, one at a time, rebuilds
 * that backend, runs the per-backend suite on it alone (the CLI, `@large`
 * excluded), and counts the mutant killed when the suite fails. Restores the
 * source after each mutant (and on Ctrl-C), rebuilds the backends at the end,
 * and prints the kill rate and every survivor.
 *
 *     pnpm mutation [--only <id-substring>]... [--backend onnxruntime|tfjs] [--cli <path>]
 *
 * `--cli` runs another build of the suite's CLI (e.g. an older version's
 * `conformance/dist/cli.js`), to compare its strength on the same mutants.
 *
 * Exits 1 when a mutant's `find` text is not in its file exactly once (the
 * list is stale) or a mutant does not compile (it would count as killed
 * without testing anything); 0 otherwise, whatever the kill rate.
 * @packageDocumentation
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTANTS, type Mutant, type MutantBackend } from './mutants.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
let cli = join(ROOT, 'conformance/dist/cli.js');

/** How the suite runs on each backend: the CI configuration of its conformance test file. */
const SUITE_ARGS: Record<MutantBackend, string[]> = {
  onnxruntime: ['--backend', '@araboza/onnxruntime', '--options', '{"device":"cpu"}', '--exclude', '@large'],
  // The pure-JS and wasm engines run the same tfjs source; wasm with the short autoencoder run keeps a mutant at seconds.
  tfjs: ['--backend', '@araboza/tfjs', '--options', '{"engine":"wasm"}', '--exclude', '@large', '--training', 'short'],
};

/** Time limit of one suite run. */
const SUITE_TIMEOUT_MS = 600_000;

interface Outcome {
  readonly mutant: Mutant;
  readonly status: 'killed' | 'survived' | 'error';
  /** Failing test ids (killed), or what went wrong (error). */
  readonly detail: string[];
  readonly seconds: number;
}

function occurrences(text: string, find: string): number {
  return text.split(find).length - 1;
}

/** Rebuilds a backend with its own build script (tfjs's also bundles its gradient registrations: tsc alone leaves an output Node cannot load). */
function buildBackend(backend: MutantBackend): { ok: boolean; output: string } {
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: join(ROOT, 'packages', backend), encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

function runSuite(backend: MutantBackend): { code: number | null; output: string } {
  const result = spawnSync(process.execPath, [cli, ...SUITE_ARGS[backend], '--quiet'], {
    cwd: join(ROOT, 'conformance'),
    encoding: 'utf8',
    timeout: SUITE_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

let restore: (() => void) | null = null;
process.on('SIGINT', () => {
  restore?.();
  process.exit(130);
});

function runMutant(m: Mutant): Outcome {
  const started = performance.now();
  const file = join(ROOT, m.file);
  const original = readFileSync(file, 'utf8');
  const count = occurrences(original, m.find);
  const seconds = () => (performance.now() - started) / 1000;
  if (count !== 1)
    return { mutant: m, status: 'error', detail: [`stale mutant: its text occurs ${count} times in ${m.file}, expected once`], seconds: seconds() };
  restore = () => writeFileSync(file, original);
  try {
    writeFileSync(file, original.replace(m.find, m.replace));
    const build = buildBackend(m.backend);
    if (!build.ok) return { mutant: m, status: 'error', detail: [`does not compile: ${build.output.trim().split('\n')[0]}`], seconds: seconds() };
    const suite = runSuite(m.backend);
    const failed = suite.output
      .split('\n')
      .filter((l) => /^(FAIL|XPASS)\s/.test(l))
      .map((l) => l.replace(/^(FAIL|XPASS)\s+/, '').slice(0, 160));
    if (suite.code === 1 && failed.length > 0) return { mutant: m, status: 'killed', detail: failed, seconds: seconds() };
    if (suite.code === 0) return { mutant: m, status: 'survived', detail: [], seconds: seconds() };
    return { mutant: m, status: 'error', detail: [`suite exited ${suite.code}: ${suite.output.trim().split('\n').slice(-3).join(' | ')}`], seconds: seconds() };
  } finally {
    restore();
    restore = null;
  }
}

function parseArgs(argv: readonly string[]): { only: string[]; backend?: MutantBackend; cli?: string } {
  const only: string[] = [];
  let backend: MutantBackend | undefined;
  let cliPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only' && argv[i + 1]) only.push(argv[++i]);
    else if (a === '--cli' && argv[i + 1]) cliPath = resolve(argv[++i]);
    else if (a === '--backend' && (argv[i + 1] === 'onnxruntime' || argv[i + 1] === 'tfjs')) backend = argv[++i] as MutantBackend;
    else throw new Error(`mutation: unknown argument ${a} (usage: pnpm mutation [--only <id-substring>]... [--backend onnxruntime|tfjs] [--cli <path>])`);
  }
  return { only, backend, cli: cliPath };
}

function main(): number {
  const { only, backend, cli: cliPath } = parseArgs(process.argv.slice(2));
  if (cliPath) cli = cliPath;
  const selected = MUTANTS.filter((m) => (!backend || m.backend === backend) && (only.length === 0 || only.some((o) => m.id.includes(o))));
  if (selected.length === 0) throw new Error('mutation: no mutant selected');
  console.log(`${selected.length} mutants; each: rebuild the backend, run the suite on it alone (${cli})`);
  const outcomes: Outcome[] = [];
  for (const m of selected) {
    const o = runMutant(m);
    outcomes.push(o);
    const first = o.detail.slice(0, 2).join('; ');
    console.log(
      `${o.status.padEnd(8)} ${m.id} (${o.seconds.toFixed(0)} s)${first ? `: ${first}${o.detail.length > 2 ? ` (+${o.detail.length - 2} more)` : ''}` : ''}`,
    );
  }
  for (const b of new Set(selected.map((m) => m.backend))) {
    const build = buildBackend(b);
    if (!build.ok) throw new Error(`mutation: the restored ${b} backend does not build:\n${build.output}`);
  }
  const killed = outcomes.filter((o) => o.status === 'killed').length;
  const survivors = outcomes.filter((o) => o.status === 'survived');
  const errors = outcomes.filter((o) => o.status === 'error');
  const valid = killed + survivors.length;
  console.log('');
  for (const b of ['tfjs', 'onnxruntime'] as const) {
    const mine = outcomes.filter((o) => o.mutant.backend === b && o.status !== 'error');
    if (mine.length > 0) console.log(`${b}: ${mine.filter((o) => o.status === 'killed').length}/${mine.length} killed`);
  }
  for (const s of survivors) console.log(`survivor: ${s.mutant.id} [${s.mutant.kind}]: ${s.mutant.description}`);
  for (const e of errors) console.log(`invalid: ${e.mutant.id}: ${e.detail[0]}`);
  console.log(`killed ${killed}/${valid} (${valid > 0 ? ((100 * killed) / valid).toFixed(1) : '0'}%), ${survivors.length} survived, ${errors.length} invalid`);
  return errors.length > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
}
