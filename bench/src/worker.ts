/**
 * A contender worker for one araboza backend: `node dist/worker.js <id>`
 * with `<id>` one of `onnxruntime-cpu`, `tfjs-wasm`, `tfjs-cpu`. It holds the
 * MNIST data and one of the bench's models (see models.ts), set up by the
 * first request, and answers the requests of {@link WorkerRequest} (see
 * protocol.ts) on stdin/stdout. Anything the engines print goes to stderr so
 * that stdout carries only replies.
 */
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { slice, trainingSpec, type Backend, type CompiledModel, type Model, type Tensor } from '@araboza/core';
import { loadMnist, MNIST_CLASSES, oneHot, type MnistData } from '@araboza/datasets';
// The U-Net example's seeded noise, reused as is (the examples package has no entry point, only its built modules).
import { addNoise } from '@araboza/examples/dist/unet.js';
import { MODELS, type ModelSpec } from './models.js';
import type { ContenderId, SetupReply, TimesReply, WorkerReply, WorkerRequest } from './protocol.js';
import { dependencyVersion } from './versions.js';

/** The araboza contenders this worker can be. */
type ArabozaContender = Exclude<ContenderId, 'pytorch'>;

const ARABOZA_CONTENDERS: readonly ArabozaContender[] = ['onnxruntime-cpu', 'tfjs-wasm', 'tfjs-wasm-threads', 'tfjs-cpu'];

/** A model's inputs and targets over one split. */
interface Samples {
  x: Tensor;
  y: Tensor;
}

interface WorkerState {
  model: Model;
  /** A separate compilation driven step by step, as core's fit drives it. */
  stepper: CompiledModel | null;
  /** The first batch of the training samples (the one training steps repeat). */
  batch: Samples;
  train: Samples | null;
  /** The test samples: inference passes run over `x`, validation over both. */
  test: Samples;
  batchSize: number;
}

/**
 * The samples of one MNIST split for a model: the images to themselves
 * (autoencoder), noisy images to clean ones (U-Net: `noiseSeed` seeds the
 * noise, made once here, outside any timing), images to one-hot labels (classifier).
 */
function samplesFor(spec: ModelSpec, mnist: MnistData, noiseSeed: number): Samples {
  switch (spec.data) {
    case 'reconstruct':
      return { x: mnist.images, y: mnist.images };
    case 'denoise':
      return { x: addNoise(mnist.images, noiseSeed), y: mnist.images };
    case 'classify':
      return { x: mnist.images, y: oneHot(mnist.labels, MNIST_CLASSES) };
  }
}

async function createBackend(id: ArabozaContender, threads: number): Promise<{ backend: Backend; engine: string; threads: number }> {
  if (id === 'onnxruntime-cpu') {
    const { onnxruntimeBackend } = await import('@araboza/onnxruntime');
    return {
      backend: onnxruntimeBackend({ device: 'cpu', threads }),
      engine: `onnxruntime-node ${dependencyVersion('@araboza/onnxruntime', 'onnxruntime-node')}`,
      threads,
    };
  }
  const { tfjsBackend } = await import('@araboza/tfjs');
  const engine = id === 'tfjs-cpu' ? 'cpu' : 'wasm';
  // tfjs's wasm engine runs single-threaded unless its threaded build is asked for; its JS engine is single-threaded by nature.
  const engineThreads = id === 'tfjs-wasm-threads' ? threads : 1;
  return {
    backend: tfjsBackend({ engine, log: (m) => process.stderr.write(`${m}\n`), ...(engineThreads > 1 ? { threads: engineThreads } : {}) }),
    engine: `@tensorflow/tfjs-core ${dependencyVersion('@araboza/tfjs', '@tensorflow/tfjs-core')} (${engine}${engineThreads > 1 ? `, ${engineThreads} threads` : ''})`,
    threads: engineThreads,
  };
}

async function setup(id: ArabozaContender, req: Extract<WorkerRequest, { cmd: 'setup' }>): Promise<{ state: WorkerState; reply: SetupReply }> {
  const spec = MODELS[req.model];
  if (!spec) throw new Error(`${id}: unknown model ${JSON.stringify(req.model)}; expected one of ${Object.keys(MODELS).join(', ')}`);
  const { backend, engine, threads } = await createBackend(id, req.threads);
  const model = spec.build(req.seed);
  // Different noise seeds for the two splits, as the U-Net example draws them.
  const test = samplesFor(spec, loadMnist({ split: 'test' }), req.seed * 2 + 2);
  const train = req.training ? samplesFor(spec, loadMnist({ split: 'train' }), req.seed * 2 + 1) : null;
  const from = train ?? test;
  const batch = { x: slice(from.x, 0, req.batchSize), y: slice(from.y, 0, req.batchSize) };
  let stepper: CompiledModel | null = null;
  if (req.training) {
    model.compile({ backend, optimizer: 'adam', loss: spec.loss });
    stepper = await backend.compile(model.graph, trainingSpec(model.graph, spec.loss, 'adam'));
    await stepper.setWeights(model.getWeights());
    // Compiles the model's own training and evaluation paths too, so the first timed epoch pays no compilation.
    await model.trainOnBatch(batch.x, batch.y);
    await model.evaluate(slice(test.x, 0, req.batchSize), slice(test.y, 0, req.batchSize), { batchSize: req.batchSize });
  } else {
    model.compile({ backend });
  }
  await model.predict(slice(test.x, 0, req.batchSize), { batchSize: req.batchSize });
  const state: WorkerState = { model, stepper, batch, train, test, batchSize: req.batchSize };
  return {
    state,
    reply: {
      ok: true,
      engine,
      threads,
      params: model.countParams(),
      nonTrainableParams: model.countNonTrainableParams(),
      info: { backend: backend.name, node: process.version, model: model.name },
    },
  };
}

async function timeReps(reps: number, work: () => Promise<number | void>): Promise<TimesReply> {
  const ms: number[] = [];
  let loss: number | undefined;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const value = await work();
    ms.push(performance.now() - t0);
    if (typeof value === 'number') loss = value;
  }
  return loss === undefined ? { ok: true, ms } : { ok: true, ms, loss };
}

async function handle(id: ArabozaContender, state: WorkerState | null, req: WorkerRequest): Promise<{ state: WorkerState | null; reply: WorkerReply }> {
  if (req.cmd === 'setup') return setup(id, req);
  if (!state) throw new Error(`${id}: '${req.cmd}' before 'setup'`);
  switch (req.cmd) {
    case 'trainSteps': {
      const stepper = state.stepper;
      if (!stepper) throw new Error(`${id}: set up without training; it cannot time training steps`);
      return { state, reply: await timeReps(req.reps, async () => (await stepper.trainStep([state.batch.x], [state.batch.y])).loss) };
    }
    case 'inference': {
      const images = req.images === undefined ? state.test.x : slice(state.test.x, 0, Math.min(req.images, state.test.x.shape[0]));
      return {
        state,
        reply: await timeReps(req.reps, async () => {
          await state.model.predict(images, { batchSize: state.batchSize });
        }),
      };
    }
    case 'epoch': {
      const train = state.train;
      if (!train) throw new Error(`${id}: set up without training; it cannot time an epoch`);
      const t0 = performance.now();
      // checkInputs off: the NaN scan of 47M floats is input validation, not training, and PyTorch's loop has none.
      const history = await state.model.fit(train.x, train.y, {
        epochs: 1,
        batchSize: state.batchSize,
        shuffle: true,
        seed: req.seed,
        verbose: 0,
        checkInputs: false,
        ...(req.validation ? { validationData: [state.test.x, state.test.y] as [Tensor, Tensor] } : {}),
      });
      const ms = performance.now() - t0;
      const reply: TimesReply = { ok: true, ms: [ms], loss: history.history.loss[0] };
      if (req.validation) reply.valLoss = history.history.valLoss[0];
      return { state, reply };
    }
    case 'quit':
      return { state, reply: { ok: true, ms: [] } };
  }
}

async function main(): Promise<void> {
  const id = process.argv[2] as ArabozaContender;
  if (!ARABOZA_CONTENDERS.includes(id)) {
    process.stderr.write(`worker: unknown contender ${JSON.stringify(process.argv[2])}; expected one of ${ARABOZA_CONTENDERS.join(', ')}\n`);
    process.exit(2);
  }
  // Engines may log to stdout; keep it for replies only.
  const writeReply = process.stdout.write.bind(process.stdout);
  console.log = (...args: unknown[]) => void process.stderr.write(`${args.map(String).join(' ')}\n`);
  console.info = console.log;
  let state: WorkerState | null = null;
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let reply: WorkerReply;
    let quit = false;
    try {
      const req = JSON.parse(line) as WorkerRequest;
      quit = req.cmd === 'quit';
      ({ state, reply } = await handle(id, state, req));
    } catch (error) {
      reply = { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    writeReply(`${JSON.stringify(reply)}\n`);
    if (quit) break;
  }
  state?.stepper?.dispose();
  state?.model.dispose();
  process.exit(0);
}

void main();
