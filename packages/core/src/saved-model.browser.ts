import { ConfigError } from './errors.js';
import type { ExpectedWeight, LoadModelOptions, SavedModel } from './model-format.js';
import type { Model } from './model.js';
import type { Tensor } from './tensor.js';

/*
 * saved-model.ts for browser bundles (package.json `browser` field): the
 * format's pure parts as in Node; the folder functions fail with a
 * ConfigError pointing at the in-memory ones (bytes-io.ts).
 */

export { MODEL_FORMAT, MODEL_FORMAT_VERSION, MAX_LAYERS, modelTopology, fail, isShape, checkManifest } from './model-format.js';
export type { SavedWeight, SavedNode, SavedModel, LoadModelOptions, ExpectedWeight } from './model-format.js';

/** Why a folder cannot be used here. */
function noFolders(who: string): never {
  throw new ConfigError(`${who}: saving to and loading from folders needs Node; in a browser use saveModelToBytes/saveModelToBlobs and loadModelFromBytes`);
}

/** Not available in a browser. @throws ConfigError */
export async function saveModel(model: Model, dir: string): Promise<void> {
  noFolders(`${model.name}: save(${dir})`);
}

/** Not available in a browser. @throws ConfigError */
export async function readModelJson(dir: string): Promise<SavedModel> {
  noFolders(`loadModel(${dir})`);
}

/** Not available in a browser. @throws ConfigError */
export async function checkFileSize(dir: string, file: string, expected: number, failWith: (what: string) => never): Promise<void> {
  void expected;
  void failWith;
  noFolders(`read ${file} in ${dir}`);
}

/** Not available in a browser. @throws ConfigError */
export async function checkWeightsFileSize(dir: string, json: SavedModel): Promise<void> {
  void json;
  noFolders(`loadModel(${dir})`);
}

/** Not available in a browser. @throws ConfigError */
export async function readWeightsFile(dir: string, json: SavedModel, specs: readonly ExpectedWeight[], options: LoadModelOptions = {}): Promise<Tensor[]> {
  void json;
  void specs;
  void options;
  noFolders(`loadModel(${dir})`);
}
