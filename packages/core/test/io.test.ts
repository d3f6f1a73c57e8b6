import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FormatError, loadModel, mnistAutoencoder } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'araboza-io-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('save and loadModel', () => {
  it('round-trips topology and weights', async () => {
    const m = mnistAutoencoder({ seed: 3 });
    await m.save(dir);
    const back = await loadModel(dir);
    expect(back.graph).toEqual(m.graph);
    expect(back.getWeights()).toEqual(m.getWeights());
    expect(back.summary({ print: () => undefined })).toBe(m.summary({ print: () => undefined }));
  });

  it('leaves no temporary files behind', async () => {
    await mnistAutoencoder().save(dir);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
  });

  it('rejects a truncated weights file before reading it', async () => {
    await mnistAutoencoder().save(dir);
    await truncate(join(dir, 'weights.bin'), 100);
    await expect(loadModel(dir)).rejects.toThrow(/weights.bin has 100 bytes, expected 13476/);
  });

  it('rejects an unknown layer kind', async () => {
    await mnistAutoencoder().save(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.layers[0].kind = 'lambda';
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow(/unknown layer kind "lambda"/);
  });

  it('rejects prototype-polluting keys', async () => {
    await mnistAutoencoder().save(dir);
    const text = (await readFile(join(dir, 'model.json'), 'utf8')).replace('"config": {', '"config": {"__proto__": {"polluted": true},');
    await writeFile(join(dir, 'model.json'), text);
    await expect(loadModel(dir)).rejects.toThrow(FormatError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a weight whose declared shape disagrees with the topology', async () => {
    await mnistAutoencoder().save(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.weights[0].shape = [3, 3, 1, 17];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow(/weight conv2d\/kernel must have shape \[3, 3, 1, 16\]/);
  });

  it('rejects an invalid layer config with the layer error', async () => {
    await mnistAutoencoder().save(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.layers[0].config.filters = -4;
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow(/conv2d: filters must be a positive integer, got -4/);
  });

  it('reports a missing folder clearly', async () => {
    await expect(loadModel(join(dir, 'nope'))).rejects.toThrow(/cannot read model.json/);
  });
});
