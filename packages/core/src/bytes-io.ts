import { ConfigError, FormatError } from './errors.js';
import { modelFromSaved } from './io.js';
import { decodeWeights, encodeWeights, fail, modelJsonOf, parseModelJson, SHA_MISMATCH, type LoadModelOptions } from './model-format.js';
import type { Model } from './model.js';

/*
 * Saving and loading models in memory, on any platform (the browser
 * included): the same `model.json` and `weights.bin` contents as a saved
 * folder, as bytes or Blobs the caller stores where it likes (IndexedDB, a
 * download, an upload, a fetch).
 */

/** A saved model in memory: the contents of `model.json` and `weights.bin` of a saved folder. */
export interface ModelBytes {
  /** The text of `model.json`. */
  modelJson: string;
  /** The bytes of `weights.bin` (little-endian float32, in manifest order). */
  weights: Uint8Array;
}

/** What {@link loadModelFromBytes} reads: each file's content as text or bytes, or a `Blob`/`Response`-like object with `arrayBuffer()`. */
export interface ModelSource {
  /** `model.json`: its text, bytes or a Blob. */
  modelJson: string | ArrayBuffer | Uint8Array | { arrayBuffer(): Promise<ArrayBuffer> };
  /** `weights.bin`: its bytes or a Blob. */
  weights: ArrayBuffer | Uint8Array | { arrayBuffer(): Promise<ArrayBuffer> };
}

const WHERE = 'bytes';

/** SHA-256 of `bytes` as hexadecimal, by the Web Crypto API (Node 20+ and browsers). */
async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle)
    throw new ConfigError(
      'saving or loading a model in memory needs the Web Crypto API (crypto.subtle), which this runtime lacks (a page not served over https or localhost?)',
    );
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The bytes of a source part. */
async function bytesOf(part: ModelSource['weights'], name: string): Promise<Uint8Array> {
  if (part instanceof Uint8Array) return part;
  if (part instanceof ArrayBuffer) return new Uint8Array(part);
  if (part && typeof (part as { arrayBuffer?: unknown }).arrayBuffer === 'function') return new Uint8Array(await part.arrayBuffer());
  throw new FormatError(`loadModel(${WHERE}): ${name} must be an ArrayBuffer, a Uint8Array or a Blob, got ${part === null ? 'null' : typeof part}`);
}

/**
 * Saves a model in memory: the `model.json` text and `weights.bin` bytes a
 * saved folder would hold (SHA-256 of the weights included), so either can
 * be read back by {@link loadModelFromBytes} or written as files that
 * `loadModel` reads.
 */
export async function saveModelToBytes(model: Model): Promise<ModelBytes> {
  const { weights, bin } = encodeWeights(model);
  const json = modelJsonOf(model, weights, bin.byteLength, await sha256Hex(bin));
  return { modelJson: JSON.stringify(json, null, 2), weights: bin };
}

/** {@link saveModelToBytes} as two Blobs (`application/json`, `application/octet-stream`), e.g. for a download or IndexedDB. */
export async function saveModelToBlobs(model: Model): Promise<{ modelJson: Blob; weights: Blob }> {
  const { modelJson, weights } = await saveModelToBytes(model);
  return {
    modelJson: new Blob([modelJson], { type: 'application/json' }),
    weights: new Blob([weights as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  };
}

/**
 * Loads a model from the contents of `model.json` and `weights.bin`, with
 * every check `loadModel` makes on a folder: the format, the manifest
 * against the topology, the weights' size and SHA-256, finite values unless
 * `allowNonFinite`.
 * @throws FormatError naming what is wrong.
 */
export async function loadModelFromBytes(source: ModelSource, options: LoadModelOptions = {}): Promise<Model> {
  if (typeof source !== 'object' || source === null)
    throw new FormatError(`loadModel(${WHERE}): the source must be {modelJson, weights}, got ${source === null ? 'null' : typeof source}`);
  const text = typeof source.modelJson === 'string' ? source.modelJson : new TextDecoder().decode(await bytesOf(source.modelJson, 'modelJson'));
  const json = parseModelJson(text, WHERE);
  const bin = await bytesOf(source.weights, 'weights');
  if (bin.byteLength !== json.weightsBytes) fail(WHERE, `weights.bin has ${bin.byteLength} bytes, expected ${json.weightsBytes} (truncated or foreign file)`);
  if (json.weightsSha256 !== undefined && (await sha256Hex(bin)) !== json.weightsSha256) fail(WHERE, SHA_MISMATCH);
  return modelFromSaved(WHERE, json, async (specs) => decodeWeights(bin, json, specs, options, WHERE));
}
