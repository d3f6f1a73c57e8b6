#!/usr/bin/env node
/**
 * `araboza-conformance`: runs the conformance suite against a backend package
 * or module, prints each result, the coverage matrix and the closing line
 * `N passed, N failed, N skipped`; exits 1 when a test failed.
 * @packageDocumentation
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve as resolveModule } from 'import-meta-resolve';
import type { Backend } from '@araboza/core';
import { formatCoverageMatrix } from './matrix.js';
import { resolvePatterns, selectCase } from './patterns.js';
import { CREATE_BACKEND_TIMEOUT_MS, ConformanceRunError, assertPatternsMatch } from './run-guards.js';
import { runConformance } from './runner.js';
import { conformanceCases } from './suite.js';
import type { CaseResult, TrainingMode } from './types.js';

/** A module exporting a backend factory. */
interface BackendModule {
  [name: string]: unknown;
}

/** Resolves `--backend`: a file path (absolute, or relative to the working directory) or a package name resolved from it. */
export function backendModuleUrl(spec: string, cwd: string = process.cwd()): string {
  const asPath = isAbsolute(spec) ? spec : resolvePath(cwd, spec);
  if (spec.startsWith('.') || isAbsolute(spec) || existsSync(asPath)) {
    if (!existsSync(asPath)) throw new Error(`--backend ${spec}: no such file (${asPath})`);
    return pathToFileURL(asPath).href;
  }
  try {
    return resolveModule(spec, pathToFileURL(`${cwd}/`).href);
  } catch {
    // Not installed where the user runs the CLI: try next to this package (a workspace or global install).
    return resolveModule(spec, import.meta.url);
  }
}

/** Imports the backend module and returns a factory calling its export `exportName` with `options`. */
export async function loadBackendFactory(spec: string, exportName: string, options: unknown): Promise<() => Promise<Backend>> {
  const url = backendModuleUrl(spec);
  let mod: BackendModule;
  try {
    mod = (await import(url)) as BackendModule;
  } catch (err) {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new Error(`--backend ${spec}: cannot load ${file}: ${what.split('\n')[0]}`, { cause: err });
  }
  const factory = mod[exportName] ?? (exportName === 'createBackend' ? mod.default : undefined);
  if (typeof factory !== 'function') {
    const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new Error(`--backend ${spec}: the module has no function export '${exportName}' (its functions: ${names.join(', ') || 'none'})`);
  }
  return async () => {
    const backend = (await (options === undefined ? factory() : factory(options))) as Backend;
    if (!backend || typeof backend.compile !== 'function' || !Array.isArray(backend.kinds)) {
      throw new Error(`--backend ${spec}: ${exportName}() did not return a backend ({name, kinds, compile})`);
    }
    return backend;
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Patterns from the CLI: `/regex/flags` becomes a RegExp, anything else stays a string pattern.
 * @throws InvalidArgumentError naming the option and the pattern when the regular expression is invalid.
 */
function toPatterns(list: string[], option: string): (string | RegExp)[] {
  return list.map((p) => {
    const m = /^\/(.+)\/([a-z]*)$/.exec(p);
    if (!m) return p;
    try {
      return new RegExp(m[1], m[2]);
    } catch (err) {
      throw new InvalidArgumentError(`--${option} ${p}: not a valid regular expression (${(err as Error).message})`);
    }
  });
}

function parseSeconds(value: string): number {
  const s = Number(value);
  if (!(s > 0) || !Number.isFinite(s)) throw new InvalidArgumentError(`expected a positive number of seconds, got '${value}'`);
  return s;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON: ${(err as Error).message}`);
  }
}

function statusMark(r: CaseResult): string {
  return { passed: 'ok  ', failed: 'FAIL', skipped: 'skip', xfail: 'xfail', xpass: 'XPASS' }[r.status];
}

/** Runs the CLI with `argv` (as `process.argv`); resolves to the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = new Command()
    .name('araboza-conformance')
    .description('Runs the araboza conformance suite against a backend package.')
    .option('-b, --backend <package-or-path>', 'backend package name or module path exporting createBackend(options?)')
    .option('-i, --include <pattern>', 'run only tests matching this id pattern (repeatable; /regex/ or @tag allowed)', collect, [])
    .option('-e, --exclude <pattern>', 'skip tests matching this pattern (repeatable), e.g. @large', collect, [])
    .option('-x, --xfail <pattern>', 'tests expected to fail (repeatable)', collect, [])
    .option('-o, --options <json>', 'JSON passed to the backend factory, e.g. \'{"device":"cpu"}\'', parseJson)
    .option('--export <name>', 'name of the factory export', 'createBackend')
    .option('--create-timeout <seconds>', 'fail when the backend factory has not settled after this long', parseSeconds, CREATE_BACKEND_TIMEOUT_MS / 1000)
    .addOption(new Option('-t, --training <mode>', 'autoencoder training: full (one MNIST epoch) or short').choices(['full', 'short']).default('full'))
    .option('-l, --list', 'list the selected test ids and exit')
    .option('-q, --quiet', 'print only failures, the matrix and the summary')
    .exitOverride();
  try {
    program.parse([...argv]);
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return typeof code === 'number' ? code : 2;
  }
  const opts = program.opts<{
    backend?: string;
    include: string[];
    exclude: string[];
    xfail: string[];
    options?: unknown;
    export: string;
    createTimeout: number;
    training: TrainingMode;
    list?: boolean;
    quiet?: boolean;
  }>();
  let patterns: { include: (string | RegExp)[]; exclude: (string | RegExp)[]; xfail: (string | RegExp)[]; training: TrainingMode };
  try {
    patterns = {
      include: toPatterns(opts.include, 'include'),
      exclude: toPatterns(opts.exclude, 'exclude'),
      xfail: toPatterns(opts.xfail, 'xfail'),
      training: opts.training,
    };
    assertPatternsMatch(conformanceCases({ training: opts.training }), patterns);
  } catch (err) {
    console.error(`araboza-conformance: ${(err as Error).message}`);
    return 2;
  }
  if (opts.list) {
    const resolved = resolvePatterns(patterns);
    for (const c of conformanceCases({ training: opts.training })) {
      const sel = selectCase(c, resolved);
      if (sel.run) console.log(`${c.id}${c.tags.length ? `  [${c.tags.join(', ')}]` : ''}${sel.xfail ? '  (xfail)' : ''}`);
    }
    return 0;
  }
  if (!opts.backend) {
    console.error('araboza-conformance: --backend <package-or-path> is required (or --list)');
    return 2;
  }
  let factory: () => Promise<Backend>;
  try {
    factory = await loadBackendFactory(opts.backend, opts.export, opts.options);
  } catch (err) {
    console.error(`araboza-conformance: ${(err as Error).message}`);
    return 2;
  }
  let report: Awaited<ReturnType<typeof runConformance>>;
  try {
    report = await runConformance(factory, {
      ...patterns,
      createTimeoutMs: opts.createTimeout * 1000,
      onResult: (r, logs) => {
        if (opts.quiet && r.status !== 'failed' && r.status !== 'xpass') return;
        const time = r.ms >= 1000 ? ` (${(r.ms / 1000).toFixed(1)} s)` : '';
        console.log(`${statusMark(r).padEnd(5)} ${r.id}${time}${r.message && r.status !== 'passed' ? `: ${r.message}` : ''}`);
        for (const line of logs) console.log(`      ${line}`);
      },
    });
  } catch (err) {
    if (!(err instanceof ConformanceRunError)) throw err;
    console.error(`araboza-conformance: --backend ${opts.backend}: ${err.message}`);
    return 1;
  }
  console.log('');
  console.log(formatCoverageMatrix(report.matrix, `coverage matrix of ${report.backend}:`));
  console.log('');
  const xfails = report.results.filter((r) => r.status === 'xfail').length;
  if (xfails > 0) console.log(`(${xfails} expected failures counted as passed)`);
  console.log(`wall time: ${report.seconds.toFixed(1)} s`);
  console.log(report.summary);
  return report.counts.failed > 0 ? 1 : 0;
}

/** Whether this module is the program being run (directly, or through a package manager's bin link). */
function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isMainModule()) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
