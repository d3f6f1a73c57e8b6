#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { runAutoencoder } from './autoencoder.js';
import { BACKEND_NAMES, createExampleBackend, type BackendName } from './backends.js';
import { runConvFhd } from './conv-fhd.js';
import { runLinear, runLinearDeep } from './linear.js';
import { stdoutReporter } from './report.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

const program = new Command('araboza-example')
  .description('The study note\'s experiments on any araboza backend')
  .argument('<name>', 'linear | linear-deep | conv-fhd | autoencoder')
  .addOption(new Option('--backend <name>', 'backend package').choices([...BACKEND_NAMES]).default('onnxruntime'))
  .option('--engine <engine>', 'tfjs engine: wasm | cpu | tensorflow | auto', 'auto')
  .option('--device <device>', 'onnxruntime device: cpu | cuda | auto', 'cpu')
  .option('--json', 'print a JSON summary as the last line', false)
  .option('--epochs <n>', 'autoencoder: training epochs', positiveInt, 5)
  .addOption(new Option('--optimizer <name>', 'autoencoder: optimizer (Keras defaults)').choices(['adam', 'adadelta', 'sgd', 'rmsprop']).default('adam'))
  .option('--learning-rate <lr>', 'autoencoder: learning rate instead of the optimizer\'s default', positiveNumber)
  .option('--batch-size <n>', 'autoencoder: images per step', positiveInt, 256)
  .option('--limit <n>', 'autoencoder: use only the first n training images', positiveInt)
  .option('--seed <n>', 'autoencoder: seed of weights and shuffle', (v) => Number.parseInt(v, 10), 0)
  .option('--out <file>', 'autoencoder: PNG of digits and reconstructions', 'out/autoencoder.png')
  .option('--save <dir>', 'autoencoder: save the trained model to this folder')
  .option('--quiet', 'autoencoder: no progress output', false)
  .action(async (name: string, opts) => {
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
            epochs: opts.epochs,
            optimizer: opts.optimizer,
            learningRate: opts.learningRate,
            batchSize: opts.batchSize,
            limit: opts.limit,
            out: opts.out,
            save: opts.save,
            seed: opts.seed,
            verbose: opts.quiet ? 0 : 1,
          },
          report,
        );
        break;
      default:
        throw new InvalidArgumentError(`unknown example '${name}' (linear, linear-deep, conv-fhd, autoencoder)`);
    }
    report.result(result);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
