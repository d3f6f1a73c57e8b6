import { parseArgs } from 'node:util';
import { MODEL_IDS, type ModelId } from './protocol.js';

/** How much `pnpm bench` measures, from its command-line flags. */
export interface BenchOptions {
  /** The ~1-minute development mode. */
  quick: boolean;
  /** Also time full training epochs (60,000 images), and the autoencoder's epochs with validation. */
  full: boolean;
  /** The models measured, in table order. */
  models: ModelId[];
  /** Threads for PyTorch and ONNX Runtime (tfjs runs single-threaded). */
  threads: number;
  /** The Python interpreter that has torch. */
  python: string;
  /** Where results.json goes. */
  out: string;
  /** Alternation rounds of the step and inference blocks. */
  rounds: number;
  /** Training steps timed per contender per round. */
  stepsPerRound: number;
  /** Untimed training steps per contender before the first round. */
  warmupSteps: number;
  /** Untimed inference passes per contender (but tfjs-cpu) before the first round (every setup already runs one batch). */
  warmupPasses: number;
  /** Epochs timed per contender with `full` (alternated, one per round; on the autoencoder, each round also times one epoch with validation). */
  epochs: number;
  /** Epoch rounds tfjs's wasm engine takes part in on the U-Net and the classifier (its epochs there take minutes). */
  tfjsWasmEpochRounds: number;
  /** Test images per inference pass of tfjs's pure-JS engine (about 40× slower than the others). */
  tfjsCpuImages: number;
  /** Inference rounds tfjs's pure-JS engine takes part in (its passes take tens of seconds). */
  tfjsCpuRounds: number;
  /** Seconds to wait, before each timed block, for other processes to go quiet (0: do not wait). */
  waitQuietS: number;
  /** Skip the conv-fhd peak-memory runs. */
  skipRss: boolean;
  /** Also print the table as Markdown (for the README). */
  markdown: boolean;
  /** Print usage and exit. */
  help: boolean;
}

/** Usage text of `pnpm bench`. */
export const USAGE = `usage: pnpm bench [--quick] [--full] [--models <list>] [options]

Measures PyTorch (CPU reference), onnxruntime (cpu), tfjs (wasm; cpu for
inference only) on the MNIST models, alternating them, plus the peak RSS of
the conv-fhd example per backend; prints a table and writes
bench/results.json.

Models (--models, comma-separated; default all three):
  autoencoder        the study note's autoencoder, batch 256: training step,
                     inference, and with --full epochs with and without validation
  unet               the denoising U-Net, batch 256: training step (epoch with --full)
  resnet             the small residual classifier, batch 128: training step
                     (epoch with --full)

  --quick            about a minute per model: fewer rounds and steps
  --full             also time full training epochs (60,000 images); on the
                     autoencoder, alternated with epochs validated on the 10,000
                     test images. tfjs-wasm takes 1 epoch round on unet and resnet
                     (minutes each)
  --models <list>    models to measure (default autoencoder,unet,resnet)
  --threads <n>      threads for PyTorch and onnxruntime (default: CPU count)
  --python <path>    interpreter with torch (default /usr/bin/python3)
  --rounds <n>       alternation rounds (default 5, quick 2)
  --steps <n>        training steps per contender per round (default 6, quick 5)
  --epochs <n>       epoch rounds per contender with --full (default 3, quick 1)
  --tfjs-cpu-images <n>
                     test images per tfjs cpu inference pass (default 10000, quick
                     1000); it takes part in the first 2 inference rounds only
  --wait-quiet <s>   before each timed block, wait up to s seconds for other
                     processes to leave the CPU idle (default 0: no wait)
  --out <file>       results file (default bench/results.json)
  --skip-rss         skip the conv-fhd peak-memory runs
  --markdown         also print the table as Markdown
  -h, --help         this text`;

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function nonNegative(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a number of seconds ≥ 0, got ${JSON.stringify(value)}`);
  return n;
}

/** `a,b` → the listed models in table order, each once. */
function modelList(value: string | undefined): ModelId[] {
  if (value === undefined) return [...MODEL_IDS];
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const unknown = names.filter((n) => !(MODEL_IDS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--models must list some of ${MODEL_IDS.join(', ')} (comma-separated), got ${JSON.stringify(value)}`);
  }
  return MODEL_IDS.filter((m) => names.includes(m));
}

/** Parses the command line. @throws Error naming the flag for an unknown flag or a bad value. */
export function parseBenchOptions(argv: readonly string[], defaults: { cpus: number; out: string }): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      models: { type: 'string' },
      threads: { type: 'string' },
      python: { type: 'string', default: '/usr/bin/python3' },
      rounds: { type: 'string' },
      steps: { type: 'string' },
      epochs: { type: 'string' },
      'tfjs-cpu-images': { type: 'string' },
      'wait-quiet': { type: 'string' },
      out: { type: 'string', default: defaults.out },
      'skip-rss': { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick ?? false;
  return {
    quick,
    full: values.full ?? false,
    models: modelList(values.models),
    threads: positiveInt(values.threads, 'threads', Math.max(1, defaults.cpus)),
    python: values.python ?? '/usr/bin/python3',
    out: values.out ?? defaults.out,
    rounds: positiveInt(values.rounds, 'rounds', quick ? 2 : 5),
    stepsPerRound: positiveInt(values.steps, 'steps', quick ? 5 : 6),
    warmupSteps: quick ? 3 : 5,
    warmupPasses: quick ? 0 : 1,
    epochs: positiveInt(values.epochs, 'epochs', quick ? 1 : 3),
    tfjsWasmEpochRounds: 1,
    tfjsCpuImages: Math.min(10_000, positiveInt(values['tfjs-cpu-images'], 'tfjs-cpu-images', quick ? 1_000 : 10_000)),
    tfjsCpuRounds: 2,
    waitQuietS: values['wait-quiet'] === undefined ? 0 : nonNegative(values['wait-quiet'], 'wait-quiet'),
    skipRss: values['skip-rss'] ?? false,
    markdown: values.markdown ?? false,
    help: values.help ?? false,
  };
}
