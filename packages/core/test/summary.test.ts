import { describe, expect, it } from 'vitest';
import { conv2d, dense, input, maxPooling2d, mnistAutoencoder, model, receptiveFields } from '../src/index.js';

describe('summary()', () => {
  it('prints the autoencoder in Keras format with receptive fields', () => {
    const text = mnistAutoencoder().summary({ print: () => undefined });
    expect(text).toMatchSnapshot();
    expect(text).toContain('Total params: 3,369');
    expect(text).toContain('conv2d_5 (Conv2D)              (None, 14, 14, 16)        1,168');
  });

  it('shows the input row for functional models', () => {
    const x = input({ shape: [7, 7, 1] });
    const m = model({ inputs: x, outputs: conv2d({ filters: 2, kernelSize: 3 }).apply(x), name: 'f' });
    expect(m.summary({ print: () => undefined })).toContain('input (InputLayer)           [(None, 7, 7, 1)]         0');
  });

  it('a 3×3 filter on a 7×7 image sees 3×3; two of them 5×5; stride and pooling grow it faster', () => {
    const x = input({ shape: [7, 7, 1] });
    const a = conv2d({ filters: 1, kernelSize: 3 });
    const b = conv2d({ filters: 1, kernelSize: 3 });
    const y = b.apply(a.apply(x));
    expect(receptiveFields([a, b], [7, 7, 1])).toEqual([
      [3, 3],
      [5, 5],
    ]);
    const c = conv2d({ filters: 1, kernelSize: 3 });
    const p = maxPooling2d();
    const d = conv2d({ filters: 1, kernelSize: 3 });
    const x2 = input({ shape: [16, 16, 1] });
    d.apply(p.apply(c.apply(x2)));
    expect(receptiveFields([c, p, d], [16, 16, 1])).toEqual([
      [3, 3],
      [4, 4],
      [8, 8],
    ]);
    expect(y.shape).toEqual([3, 3, 1]);
  });

  it('dilation grows the receptive field without striding', () => {
    const c = conv2d({ filters: 1, kernelSize: 3, dilationRate: 2 });
    c.apply(input({ shape: [9, 9, 1] }));
    expect(receptiveFields([c], [9, 9, 1])).toEqual([[5, 5]]);
  });
});

describe('summary escapes control characters in names (issue 16, item 14)', () => {
  it('a model name holding an escape sequence is printed escaped', () => {
    const i = input({ shape: [3] });
    const m = model({ inputs: i, outputs: dense({ units: 1 }).apply(i), name: 'evil\u001b]0;title\u0007' });
    const text = m.summary({ print: () => undefined });
    // Only the table's own newlines remain.
    // eslint-disable-next-line no-control-regex -- no control character may survive
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('Model: "evil\\u001b]0;title\\u0007"');
  });

  it('an input name holding an escape sequence is refused, as a layer name is', () => {
    expect(() => input({ shape: [3], name: 'in\u001b[2J' })).toThrow(/input: name must match/);
  });
});
