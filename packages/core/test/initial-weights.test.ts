import { describe, expect, it } from 'vitest';
import { conv2d, dense, mnistAutoencoder, Random, randomNormal, randomUniform, sequential } from '../src/index.js';

describe('seeded initial weights', () => {
  it('the same seed gives the same weights', () => {
    const a = mnistAutoencoder({ seed: 7 }).getWeights();
    const b = mnistAutoencoder({ seed: 7 }).getWeights();
    expect(a).toEqual(b);
  });

  it('different seeds give different weights', () => {
    const a = mnistAutoencoder({ seed: 1 }).getWeights()[0].data;
    const b = mnistAutoencoder({ seed: 2 }).getWeights()[0].data;
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('kernels lie within the Glorot limit sqrt(6/(fanIn+fanOut)) and biases are zero', () => {
    const m = mnistAutoencoder();
    for (const layer of m.layers) {
      const ws = layer.getWeights();
      if (ws.length === 0) continue;
      const [kh, kw, cin, cout] = ws[0].shape;
      const limit = Math.sqrt(6 / (kh * kw * cin + kh * kw * cout));
      const k = Array.from(ws[0].data);
      expect(Math.max(...k.map(Math.abs))).toBeLessThanOrEqual(limit);
      // With hundreds of draws the spread must reach most of the interval.
      if (k.length > 100) expect(Math.max(...k)).toBeGreaterThan(0.8 * limit);
      expect(Array.from(ws[1].data).every((v) => v === 0)).toBe(true);
    }
  });

  it('two identical layers in one model start from different weights', () => {
    const m = sequential({ inputShape: [3], layers: [dense({ units: 3 }), dense({ units: 3 })] });
    expect(m.layers[0].getWeights()[0]).not.toEqual(m.layers[1].getWeights()[0]);
    const w1 = dense({ units: 3 });
    const w2 = dense({ units: 3 });
    w1.build([3]);
    w2.build([3]);
    w1.initializeWeights(new Random(1));
    w2.initializeWeights(new Random(2));
    expect(w1.getWeights()[0]).not.toEqual(w2.getWeights()[0]);
  });

  it('a layer seed overrides the model seed', () => {
    const a = conv2d({ filters: 2, kernelSize: 3, seed: 5 });
    const b = conv2d({ filters: 2, kernelSize: 3, seed: 5 });
    a.build([4, 4, 1]);
    b.build([4, 4, 1]);
    a.initializeWeights(new Random(1));
    b.initializeWeights(new Random(99));
    expect(a.getWeights()).toEqual(b.getWeights());
  });

  it('random tensors are reproducible and in range', () => {
    const u = randomUniform([1000], { seed: 3, minval: -2, maxval: 2 });
    expect(u).toEqual(randomUniform([1000], { seed: 3, minval: -2, maxval: 2 }));
    expect(Math.min(...u.data)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u.data)).toBeLessThan(2);
    const n = randomNormal([20000], { seed: 4, mean: 1, stddev: 2 });
    const mean = n.data.reduce((a, b) => a + b, 0) / n.data.length;
    const sd = Math.sqrt(n.data.reduce((a, b) => a + (b - mean) ** 2, 0) / n.data.length);
    expect(mean).toBeCloseTo(1, 1);
    expect(sd).toBeCloseTo(2, 1);
  });

  it('a generator restored from its state continues identically', () => {
    const r = new Random(11);
    r.normal();
    const state = r.getState();
    const expected = [r.next(), r.normal(), r.next()];
    const s = new Random(0);
    s.setState(state);
    expect([s.next(), s.normal(), s.next()]).toEqual(expected);
  });
});
