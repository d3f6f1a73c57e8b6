#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { runAutoencoder } from './autoencoder.js';
import { BACKEND_NAMES, createExampleBackend, type BackendName } from './backends.js';
import { runClassifier } from './classifier.js';
import { runConvFhd } from './conv-fhd.js';
import { runUnet } from './unet.js';
import { runResnet } from './resnet.js';
import { runLinear, runLinearDeep } from './linear.js';
import { stdoutReporter } from './report.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

const program = new Command('araboza-example')
  .description("The study note's experiments on any araboza backend")
  .argument('<name>', 'linear | linear-deep | conv-fhd | autoencoder | unet | resnet | classifier')
  .addOption(new Option('--backend <name>', 'backend package').choices([...BACKEND_NAMES]).default('onnxruntime'))
  .option('--engine <engine>', 'tfjs engine: wasm | cpu | tensorflow | auto', 'auto')
  .option('--device <device>', 'onnxruntime device: cpu | cuda | webgpu | auto', 'cpu')
  .option('--json', 'print a JSON summary as the last line', false)
  .option(
    '--epochs <n>',
    'autoencoder, unet, resnet, classifier: training epochs (default 5 for the autoencoder, 1 for the U-Net and the residual network, at most 20 for the classifier)',
    positiveInt,
  )
  .addOption(new Option('--optimizer <name>', 'autoencoder: optimizer (Keras defaults)').choices(['adam', 'adadelta', 'sgd', 'rmsprop']).default('adam'))
  .option('--learning-rate <lr>', "autoencoder: learning rate instead of the optimizer's default", positiveNumber)
  .option('--batch-size <n>', 'autoencoder, unet, resnet: images per step (default 256, 128 for resnet)', positiveInt)
  .option('--limit <n>', 'autoencoder, unet, resnet, classifier: use only the first n training images', positiveInt)
  .option('--seed <n>', 'autoencoder, unet, resnet, classifier: seed of weights, noise (dropout masks) and shuffle', integer, 0)
  .option('--out <file>', 'autoencoder, unet: PNG of digits (default out/<example>.png)')
  .option('--save <dir>', 'autoencoder, unet, resnet: save the trained model to this folder')
  .option('--quiet', 'autoencoder, unet, resnet, classifier: no progress output', false)
  .action(async (name: string, opts, command: Command) => {
    // An engine or device for the other backend would be silently ignored: refuse it.
    if (opts.backend === 'onnxruntime' && command.getOptionValueSource('engine') === 'cli') {
      throw new InvalidArgumentError(`--engine ${opts.engine} applies to --backend tfjs only (onnxruntime takes --device)`);
    }
    if (opts.backend === 'tfjs' && command.getOptionValueSource('device') === 'cli') {
      throw new InvalidArgumentError(`--device ${opts.device} applies to --backend onnxruntime only (tfjs takes --engine)`);
    }
    const report = stdoutReporter(opts.json);
    const backend = await createExampleBackend({ backend: opts.backend as BackendName, engine: opts.engine, device: opts.device });
    let result: object;
    switch (name) {
      case 'linear':
        result = await runLinear(backend, report);
        break;
      case 'linear-deep':
        result = await runLinearDeep(backend, report);
        break;
      case 'conv-fhd':
        result = await runConvFhd(backend, report);
        break;
      case 'autoencoder':
        result = await runAutoencoder(
          backend,
          {
            epochs: opts.epochs ?? 5,
            optimizer: opts.optimizer,
            learningRate: opts.learningRate,
            batchSize: opts.batchSize ?? 256,
            limit: opts.limit,
            out: opts.out ?? 'out/autoencoder.png',
            save: opts.save,
            seed: opts.seed,
            verbose: opts.quiet ? 0 : 1,
          },
          report,
        );
        break;
      case 'unet':
        result = await runUnet(
          backend,
          {
            epochs: opts.epochs ?? 1,
            batchSize: opts.batchSize ?? 256,
            limit: opts.limit,
            out: opts.out ?? 'out/unet.png',
            save: opts.save,
            seed: opts.seed,
            verbose: opts.quiet ? 0 : 1,
          },
          report,
        );
        break;
      case 'resnet':
        result = await runResnet(
          backend,
          {
            epochs: opts.epochs ?? 1,
            batchSize: opts.batchSize ?? 128,
            limit: opts.limit,
            save: opts.save,
            seed: opts.seed,
            verbose: opts.quiet ? 0 : 1,
          },
          report,
        );
        break;
      case 'classifier':
        result = await runClassifier(backend, { epochs: opts.epochs ?? 20, limit: opts.limit, seed: opts.seed, verbose: opts.quiet ? 0 : 1 }, report);
        break;
      default:
        throw new InvalidArgumentError(`unknown example '${name}' (linear, linear-deep, conv-fhd, autoencoder, unet, resnet, classifier)`);
    }
    report.result(result);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
