import { describe, expect, it } from 'vitest';
import { FormatError, loadModelFromBytes, mnistAutoencoder, saveModelToBlobs, saveModelToBytes } from '../src/index.js';

describe('saveModelToBytes and loadModelFromBytes', () => {
  it('round-trips topology and weights through bytes', async () => {
    const m = mnistAutoencoder({ seed: 3 });
    const back = await loadModelFromBytes(await saveModelToBytes(m));
    expect(back.graph).toEqual(m.graph);
    expect(back.getWeights()).toEqual(m.getWeights());
  });

  it('round-trips through Blobs', async () => {
    const m = mnistAutoencoder({ seed: 4 });
    const back = await loadModelFromBytes(await saveModelToBlobs(m));
    expect(back.getWeights()).toEqual(m.getWeights());
  });

  it('writes the SHA-256 of the weights into model.json, as a saved folder does', async () => {
    const { modelJson, weights } = await saveModelToBytes(mnistAutoencoder({ seed: 5 }));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', weights as Uint8Array<ArrayBuffer>));
    expect(JSON.parse(modelJson).weightsSha256).toBe(Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''));
  });

  it('refuses weights from another save by their SHA-256', async () => {
    const a = await saveModelToBytes(mnistAutoencoder({ seed: 1 }));
    const b = await saveModelToBytes(mnistAutoencoder({ seed: 2 }));
    await expect(loadModelFromBytes({ modelJson: a.modelJson, weights: b.weights })).rejects.toThrow(/does not match the SHA-256/);
  });

  it('refuses truncated weights before building the model', async () => {
    const { modelJson, weights } = await saveModelToBytes(mnistAutoencoder());
    await expect(loadModelFromBytes({ modelJson, weights: weights.slice(0, 100) })).rejects.toThrow(
      /loadModel\(bytes\): weights.bin has 100 bytes, expected 13476/,
    );
  });

  it('refuses a source that is not {modelJson, weights} with a FormatError', async () => {
    await expect(loadModelFromBytes(null as never)).rejects.toThrow(FormatError);
  });
});
