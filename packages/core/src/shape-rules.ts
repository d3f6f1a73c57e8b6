/**
 * Keras's shape rules, computed once here for every layer and every backend.
 */

/** `'valid'`: no padding. `'same'`: pad so that out = ceil(in / stride). */
export type Padding = 'valid' | 'same';

/** Padding of one spatial axis and the output length it gives. */
export interface AxisPadding {
  /** Zeros (or −∞ for max pooling) added before the first element. */
  before: number;
  /** Added after the last element; Keras puts the larger half here. */
  after: number;
  /** Output length along the axis. */
  out: number;
}

/** Effective extent of a dilated kernel: (k − 1)·d + 1. */
export function dilatedKernelSize(kernel: number, dilation: number): number {
  return (kernel - 1) * dilation + 1;
}

/**
 * Padding and output length of a convolution or pooling along one axis.
 * `same`: total = max((ceil(in/s) − 1)·s + (k − 1)·d + 1 − in, 0), the
 * smaller half before (ONNX's SAME_UPPER). `valid`: out = floor((in − k_eff)/s) + 1.
 * Returns `out <= 0` when a `valid` window does not fit; callers report it.
 */
export function convAxisPadding(input: number, kernel: number, stride: number, dilation: number, padding: Padding): AxisPadding {
  const k = dilatedKernelSize(kernel, dilation);
  if (padding === 'valid') return { before: 0, after: 0, out: Math.floor((input - k) / stride) + 1 };
  const out = Math.ceil(input / stride);
  const total = Math.max((out - 1) * stride + k - input, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before, out };
}

/** Output length of a convolution or pooling along one axis (Keras's conv_output_length). */
export function convOutputLength(input: number, kernel: number, stride: number, dilation: number, padding: Padding): number {
  return convAxisPadding(input, kernel, stride, dilation, padding).out;
}

/**
 * Output length of a transposed convolution along one axis (Keras's
 * deconv_output_length without output_padding): `valid` → in·s + max(k − s, 0),
 * `same` → in·s.
 */
export function deconvOutputLength(input: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'same' ? input * stride : input * stride + Math.max(kernel - stride, 0);
}

/**
 * Padding of a transposed convolution along one axis, as the crop applied to
 * the full (unpadded) transposed output of length (in − 1)·s + k, plus the
 * extra zeros appended when Keras's output is longer than that.
 * Matches tfjs/TensorFlow: the cropped amount `total` = (in − 1)·s + k − out,
 * the smaller half cropped before.
 */
export function deconvAxisPadding(input: number, kernel: number, stride: number, padding: Padding): AxisPadding {
  const out = deconvOutputLength(input, kernel, stride, padding);
  const full = (input - 1) * stride + kernel;
  const total = full - out;
  if (total >= 0) {
    const before = Math.floor(total / 2);
    return { before, after: total - before, out };
  }
  // valid with k < s: the output is longer than the full transposed result; the tail is zeros.
  return { before: 0, after: total, out };
}
