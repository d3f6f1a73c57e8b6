import { mkdtemp, readdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dense, FileError, FormatError, input, loadModel, mnistAutoencoder, model, sequential } from '../src/index.js';

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

describe('save is one unit (issue 16, item 1)', () => {
  it("old model.json beside a newer save's weights.bin (a crash between the renames) is a FormatError, not the old model with new weights", async () => {
    await mnistAutoencoder({ seed: 1 }).save(dir);
    const oldJson = await readFile(join(dir, 'model.json'), 'utf8');
    await mnistAutoencoder({ seed: 2 }).save(dir);
    await writeFile(join(dir, 'model.json'), oldJson);
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/weights.bin does not match the SHA-256 recorded in model.json/);
  });

  it('a save that fails on model.json leaves the previous weights.bin and model.json as they were, and no temporary file', async () => {
    const first = mnistAutoencoder({ seed: 1 });
    await first.save(dir);
    const before = await readFile(join(dir, 'weights.bin'));
    await rm(join(dir, 'model.json'));
    await symlink(join(dir, 'missing-target'), join(dir, 'model.json'));
    await expect(mnistAutoencoder({ seed: 2 }).save(dir)).rejects.toThrow(FileError);
    expect(await readFile(join(dir, 'weights.bin'))).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
  });
});

describe('hostile model files (issue 16, items 10 and 11)', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests corrupt arbitrary fields of a parsed model.json
  async function editJson(edit: (json: any) => void): Promise<void> {
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    edit(json);
    delete json.weightsSha256;
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
  }

  it('a model.json declaring dense units 2^28 is refused before any weight is allocated', async () => {
    await sequential({ inputShape: [4], layers: [dense({ units: 2 })] }).save(dir);
    await editJson((j) => {
      j.layers[0].config.units = 2 ** 28;
      j.weights[0].shape = [4, 2 ** 28];
      j.weights[1].shape = [2 ** 28];
      j.weights[1].offset = 4 * 4 * 2 ** 28;
      j.weightsBytes = 5 * 4 * 2 ** 28;
    });
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/weights.bin has 40 bytes, expected 5368709120/);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
  });

  it('a model.json declaring a kernel of 2^32 values whose manifest is small is a FormatError, not a RangeError', async () => {
    await sequential({ inputShape: [4], layers: [dense({ units: 2 })] }).save(dir);
    await editJson((j) => (j.layers[0].config.units = 2 ** 30));
    const started = performance.now();
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/^loadModel\(.*\): dense: output \(None, 1073741824\) would hold/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a 200,000-deep nested model.json is a FormatError, not a stack overflow', async () => {
    await mnistAutoencoder().save(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    const text = JSON.stringify(json).replace(/}$/, `,"extra":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    await writeFile(join(dir, 'model.json'), text);
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/nests deeper than 64 levels/);
  });

  it('weights holding NaN are refused, naming the weight, unless allowNonFinite', async () => {
    const m = sequential({ inputShape: [3], layers: [dense({ units: 2, name: 'd' })] });
    const w = m.getWeights();
    w[1].data[1] = Number.NaN;
    m.setWeights(w);
    await m.save(dir);
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/weight d\/bias holds NaN at flat index 1/);
    const back = await loadModel(dir, { allowNonFinite: true });
    expect(Number.isNaN(back.getWeights()[1].data[1])).toBe(true);
  });

  it('a zero-layer model saves and loads', async () => {
    const i = input({ shape: [3], name: 'x' });
    const m = model({ inputs: i, outputs: i, name: 'identity' });
    await m.save(dir);
    const back = await loadModel(dir);
    expect(back.layers).toHaveLength(0);
    expect(back.graph).toEqual(m.graph);
  });

  it('duplicate layer names in a file are a FormatError naming the folder', async () => {
    await sequential({ inputShape: [3], layers: [dense({ units: 3, name: 'a' }), dense({ units: 2, name: 'b' })] }).save(dir);
    await editJson((j) => {
      j.layers[1].name = 'a';
      j.weights[2].layer = 'a';
      j.weights[3].layer = 'a';
    });
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(new RegExp(`loadModel\\(${dir}\\): .*two layers are named 'a'`));
  });
});
