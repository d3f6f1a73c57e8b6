import type { CompiledModel } from './backend.js';
import type { Callbacks } from './callbacks.js';
import type * as node from './checkpoint.js';
import type { CheckpointOptions, CheckpointRun, LoadedCheckpoint, LoopPosition } from './checkpoint.js';
import { ConfigError } from './errors.js';
import type { Model } from './model.js';
import type { OptimizerSpec } from './optimizers.js';

/*
 * checkpoint.ts for browser bundles (package.json `browser` field):
 * checkpoints are folders, which a page does not have, so each entry point
 * fails with a ConfigError (fit's `checkpoint` and `resumeFrom` options
 * included, before any step runs).
 */

export type { CheckpointOptions, TrainingPosition, CheckpointRun, LoadedCheckpoint, LoopPosition } from './checkpoint.js';

/** Why checkpoints cannot be used here. */
function noCheckpoints(who: string): never {
  throw new ConfigError(`${who}: checkpoints are folders and need Node; in a browser save the model with saveModelToBytes from a callback instead`);
}

/** Not available in a browser. @throws ConfigError */
export async function writeCheckpoint(...args: Parameters<typeof node.writeCheckpoint>): Promise<void> {
  noCheckpoints(`${args[1].name}: writeCheckpoint(${args[0]})`);
}

/** Not available in a browser. @throws ConfigError */
export async function readCheckpoint(dir: string, model: Model, optimizer: OptimizerSpec): Promise<LoadedCheckpoint> {
  void optimizer;
  noCheckpoints(`${model.name}: readCheckpoint(${dir})`);
}

/** Not available in a browser: constructing one throws. */
export class CheckpointWriter implements Callbacks {
  /** @throws ConfigError always. */
  constructor(
    options: CheckpointOptions,
    model: Model,
    optimizer: OptimizerSpec,
    run: CheckpointRun,
    compiled: () => CompiledModel,
    position: () => LoopPosition,
  ) {
    void [optimizer, run, compiled, position];
    noCheckpoints(`${model.name}: fit checkpoint (${options.dir})`);
  }
}
