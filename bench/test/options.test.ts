import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../src/options.js';

const defaults = { cpus: 2, out: '/tmp/results.json' };

describe('parseBenchOptions', () => {
  it('uses fewer rounds, steps and tfjs-cpu images in quick mode', () => {
    const quick = parseBenchOptions(['--quick'], defaults);
    const normal = parseBenchOptions([], defaults);
    expect(quick).toMatchObject({ quick: true, rounds: 2, stepsPerRound: 5, tfjsCpuImages: 1000, threads: 2 });
    expect(normal).toMatchObject({ quick: false, rounds: 5, stepsPerRound: 6, tfjsCpuImages: 10_000, full: false });
  });

  it('rejects a non-positive count naming the flag', () => {
    expect(() => parseBenchOptions(['--rounds', '0'], defaults)).toThrow(/--rounds must be a positive integer/);
  });

  it('measures the three models by default', () => {
    expect(parseBenchOptions([], defaults).models).toEqual(['autoencoder', 'unet', 'resnet']);
  });

  it('takes the listed models in table order, each once', () => {
    expect(parseBenchOptions(['--models', 'resnet, autoencoder,resnet'], defaults).models).toEqual(['autoencoder', 'resnet']);
  });

  it('rejects an unknown model naming the flag and the known ones', () => {
    expect(() => parseBenchOptions(['--models', 'unet,vgg'], defaults)).toThrow(/--models must list some of autoencoder, unet, resnet .*"unet,vgg"/);
  });

  it('rejects an empty model list', () => {
    expect(() => parseBenchOptions(['--models', ','], defaults)).toThrow(/--models/);
  });

  it('lets tfjs-wasm take one epoch round on the slow models', () => {
    expect(parseBenchOptions(['--full'], defaults)).toMatchObject({ full: true, epochs: 3, tfjsWasmEpochRounds: 1 });
  });

  it('rejects an unknown flag', () => {
    expect(() => parseBenchOptions(['--fast'], defaults)).toThrow(/fast/);
  });
});
