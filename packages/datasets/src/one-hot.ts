import { ConfigError, tensor, type Tensor } from '@araboza/core';

/**
 * One-hot encodes class indices: `[n]` labels → a `[n, numClasses]` tensor
 * with a 1 in each row's label column and 0 elsewhere (the targets of a
 * softmax classifier).
 *
 * @example
 * ```ts
 * oneHot(Uint8Array.of(5, 0), 10).data; // row 0: 1 at index 5; row 1: 1 at index 0
 * ```
 * @throws ConfigError when `numClasses` is not a positive integer or a label is not an integer in [0, numClasses).
 */
export function oneHot(labels: ArrayLike<number>, numClasses: number): Tensor {
  if (!Number.isInteger(numClasses) || numClasses <= 0) {
    throw new ConfigError(`oneHot: numClasses must be a positive integer, got ${JSON.stringify(numClasses)}`);
  }
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new ConfigError(`oneHot: label ${i} is ${l}, expected an integer in [0, ${numClasses})`);
    }
  }
  const data = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) data[i * numClasses + labels[i]] = 1;
  return tensor(data, [n, numClasses]);
}
