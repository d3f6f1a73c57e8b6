import { describe, expect, it } from 'vitest';
import { conv2d, dense, flatten, input, mnistAutoencoder, model, sequential } from '../src/index.js';

describe('reference experiments at the symbolic level', () => {
  it('linear, two steps: kernels [2, 1] and [4, 1]', () => {
    const a = dense({ units: 1, useBias: false });
    const t = a.apply(input({ shape: [4, 2] }));
    expect(t.shape).toEqual([4, 1]);
    expect(a.weightSpecs([4, 2]).map((w) => w.shape)).toEqual([[2, 1]]);
    const b = dense({ units: 1, useBias: false });
    const u = b.apply(input({ shape: [4] }));
    expect(u.shape).toEqual([1]);
    expect(b.weightSpecs([4]).map((w) => w.shape)).toEqual([[4, 1]]);
  });

  it('linear, three steps: kernels [2, 3], [3, 1], [4, 1] and 13 parameters', () => {
    const d1 = dense({ units: 3, useBias: false });
    const d2 = dense({ units: 1, useBias: false });
    const d3 = dense({ units: 1, useBias: false });
    const t1 = d1.apply(input({ shape: [4, 2] }));
    const t2 = d2.apply(t1);
    expect(t1.shape).toEqual([4, 3]);
    expect(t2.shape).toEqual([4, 1]);
    const t3 = d3.apply(input({ shape: [4] }));
    expect(t3.shape).toEqual([1]);
    expect([d1, d2, d3].map((d) => d.getWeights()[0].shape)).toEqual([
      [2, 3],
      [3, 1],
      [4, 1],
    ]);
    expect(d1.countParams() + d2.countParams() + d3.countParams()).toBe(13);
  });

  it('full-HD convolution: [64, 384, 216, 16], 1,200 and 1,327,104 parameters', () => {
    const x = input({ shape: [1920, 1080, 3] });
    const c = conv2d({ filters: 16, kernelSize: 5, strides: 5, useBias: false });
    const f = flatten();
    const d = dense({ units: 1, useBias: false });
    const y = d.apply(f.apply(c.apply(x)));
    const m = model({ inputs: x, outputs: y });
    expect(c.outputShape).toEqual([384, 216, 16]);
    expect(f.outputShape).toEqual([1327104]);
    expect(y.shape).toEqual([1]);
    expect(c.countParams()).toBe(1200);
    expect(d.countParams()).toBe(1327104);
    expect(m.countParams()).toBe(1200 + 1327104);
  });

  it('autoencoder: 3,369 parameters, 4×4×4 bottleneck, valid conv 16→14, 28×28×1 output', () => {
    const m = mnistAutoencoder();
    expect(m.countParams()).toBe(3369);
    const shapes = m.layers.map((l) => l.outputShape);
    expect(shapes[5]).toEqual([4, 4, 4]);
    expect(m.layers[9].outputShape).toEqual([16, 16, 8]);
    expect(m.layers[10].outputShape).toEqual([14, 14, 16]);
    expect(m.outputShape).toEqual([28, 28, 1]);
  });

  it('sequential and functional definitions of the same stack give the same graph', () => {
    const s = sequential({ inputShape: [8, 3], layers: [dense({ units: 2 }), flatten()] });
    const x = input({ shape: [8, 3] });
    const f = model({ inputs: x, outputs: flatten().apply(dense({ units: 2 }).apply(x)) });
    expect(f.graph.nodes.map((n) => [n.kind, n.outputShape])).toEqual(s.graph.nodes.map((n) => [n.kind, n.outputShape]));
  });
});
