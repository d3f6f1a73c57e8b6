import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from './errors.js';
import { checkFolderTarget, fileError, writeFilesAtomic } from './files.js';
import {
  decodeWeights,
  encodeWeights,
  fail,
  modelJsonOf,
  parseModelJson,
  SHA_MISMATCH,
  type ExpectedWeight,
  type LoadModelOptions,
  type SavedModel,
} from './model-format.js';
import type { Model } from './model.js';
import type { Tensor } from './tensor.js';

/*
 * The saved-model format in a folder (Node): writing it, and reading and
 * checking its files. The format itself (types, limits, checks, weight
 * bytes) is model-format.ts's. Building a model from the files is io.ts's
 * `loadModel`; this module never builds one, so the training loop's
 * checkpoints can use it without depending on the model class. Browser
 * bundles get saved-model.browser.ts instead (package.json `browser` field).
 */

export {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  MAX_LAYERS,
  modelTopology,
  fail,
  isShape,
  checkManifest,
  type SavedWeight,
  type SavedNode,
  type SavedModel,
  type LoadModelOptions,
  type ExpectedWeight,
} from './model-format.js';

/**
 * Saves a model to `dir` as `model.json` (topology, configs, weight
 * manifest) and `weights.bin` (little-endian float32, in manifest order).
 * Both files are written and flushed under temporary names before either is
 * renamed into place; `model.json` records the SHA-256 of `weights.bin`, so
 * a crash between the two renames is detected by {@link loadModel} instead
 * of pairing one save's topology with another's weights. Temporary files are
 * removed on failure and on SIGINT/SIGTERM.
 * @throws FileError when `dir` (or a parent) is not a folder or cannot be written.
 */
export async function saveModel(model: Model, dir: string): Promise<void> {
  const who = `save(${dir})`;
  await checkFolderTarget(dir, who);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw fileError(err, who, dir, 'create folder');
  }
  const { weights, bin } = encodeWeights(model);
  const json = modelJsonOf(model, weights, bin.byteLength, createHash('sha256').update(bin).digest('hex'));
  await writeFilesAtomic(
    [
      { path: join(dir, 'weights.bin'), data: bin },
      { path: join(dir, 'model.json'), data: JSON.stringify(json, null, 2) },
    ],
    who,
  );
}

/**
 * Reads `model.json` of `dir` and checks everything that does not need the
 * layers: format, version, unsafe keys and nesting, the manifest's outline.
 * @throws FormatError naming the folder.
 */
export async function readModelJson(dir: string): Promise<SavedModel> {
  let text: string;
  try {
    text = await readFile(join(dir, 'model.json'), 'utf8');
  } catch (err) {
    fail(dir, `cannot read model.json (${(err as Error).message})`);
  }
  return parseModelJson(text, dir);
}

/**
 * Checks that `file` in `dir` is a regular file of `expected` bytes, calling
 * `failWith` (which throws) with what is wrong.
 */
export async function checkFileSize(dir: string, file: string, expected: number, failWith: (what: string) => never): Promise<void> {
  let size: number;
  try {
    const info = await stat(join(dir, file));
    if (!info.isFile()) failWith(`${file} is not a regular file`);
    size = info.size;
  } catch (err) {
    if (err instanceof FormatError) throw err;
    failWith(`cannot read ${file} (${(err as Error).message})`);
  }
  if (size !== expected) failWith(`${file} has ${size} bytes, expected ${expected} (truncated or foreign file)`);
}

/**
 * Checks that `weights.bin` is a regular file of the declared size: before
 * any layer is built, as a layer allocates its weights.
 * @throws FormatError naming the folder.
 */
export async function checkWeightsFileSize(dir: string, json: SavedModel): Promise<void> {
  await checkFileSize(dir, 'weights.bin', json.weightsBytes, (what) => fail(dir, what));
}

/**
 * Reads `weights.bin` (already checked by `checkManifest`): its size
 * again, its SHA-256 against `model.json`, and every value finite unless
 * `allowNonFinite`.
 * @throws FormatError naming the folder.
 */
export async function readWeightsFile(dir: string, json: SavedModel, specs: readonly ExpectedWeight[], options: LoadModelOptions = {}): Promise<Tensor[]> {
  const bin = await readFile(join(dir, 'weights.bin'));
  if (bin.byteLength !== json.weightsBytes) fail(dir, `weights.bin changed while it was read (${bin.byteLength} bytes, expected ${json.weightsBytes})`);
  if (json.weightsSha256 !== undefined && createHash('sha256').update(bin).digest('hex') !== json.weightsSha256) fail(dir, SHA_MISMATCH);
  return decodeWeights(bin, json, specs, options, dir);
}
