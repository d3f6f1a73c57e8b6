import { fuzzCaseShapes, type FuzzCase, type FuzzLayer } from './fuzz.js';

/** A backend bug found by these checks and reported, with the cases it explains. */
export interface KnownBackendBug {
  /** Short id used in test names and reports. */
  readonly id: string;
  /** The backend name it affects (`Backend.name`). */
  readonly backend: string;
  /** What goes wrong, where it comes from, and the upstream report. */
  readonly summary: string;
  /** Whether a fuzz case runs into it on that backend. */
  affects(c: FuzzCase): boolean;
}

function pair(v: unknown): [number, number] {
  return typeof v === 'number' ? [v, v] : (v as [number, number]);
}

/** Keras same-padding total before clamping at 0; negative when the last stride step jumps past the input's end. */
function rawSamePadding(size: number, kernel: number, stride: number): number {
  return (Math.ceil(size / stride) - 1) * stride + kernel - size;
}

/**
 * Whether a layer runs a tfjs-wasm (XNNPACK) `conv2d(..., 'same')` with a
 * non-1×1 kernel where, on some axis, the unclamped same-padding total is
 * negative — forward for conv2d/conv1d, the input gradient for
 * conv2dTranspose (a same conv2d of dy, in·s long, with stride s: raw = k − s).
 * Conservative: @araboza/tfjs sends some one-channel convolutions of its
 * training path to its own kernel, which escapes the bug; those are left out
 * on wasm too, since which path runs is the backend's business.
 */
function hitsWasmSameStrideBug(layer: FuzzLayer, inputShape: readonly number[]): boolean {
  const o = layer.options;
  if (o.padding !== 'same') return false;
  if (layer.kind === 'conv2d') {
    const k = pair(o.kernelSize);
    const s = pair(o.strides ?? 1);
    if (k[0] * k[1] === 1) return false;
    return [0, 1].some((a) => rawSamePadding(inputShape[a], k[a], s[a]) < 0);
  }
  if (layer.kind === 'conv1d') {
    const k = o.kernelSize as number;
    return k > 1 && rawSamePadding(inputShape[0], k, (o.strides as number | undefined) ?? 1) < 0;
  }
  if (layer.kind === 'conv2dTranspose') {
    const k = pair(o.kernelSize);
    const s = pair(o.strides ?? 1);
    return k[0] * k[1] > 1 && [0, 1].some((a) => s[a] > k[a]);
  }
  return false;
}

/**
 * Known bugs of the backends, each reported with a minimal reproduction (see
 * the package README). The fuzz test leaves an affected case out for that
 * backend only (the others still compare on it) and counts it; a dedicated
 * `it.fails` test keeps each bug's reproduction running, so the fix shows up.
 */
export const KNOWN_BACKEND_BUGS: readonly KnownBackendBug[] = [
  {
    id: 'tfjs-wasm-same-stride',
    backend: 'tfjs-wasm',
    summary:
      "@tensorflow/tfjs-backend-wasm 4.22.0 conv2d with pad 'same', a kernel other than 1×1 and, on some axis, " +
      '(ceil(in/s) − 1)·s + k − in < 0 (the stride jumps past the input end) returns zeros (upstream tensorflow/tfjs#8405, #5907). ' +
      "It hits conv2d/conv1d forward and conv2dTranspose's input gradient in @araboza/tfjs on wasm.",
    affects(c) {
      const shapes = fuzzCaseShapes(c);
      if (!shapes) return false;
      return c.layers.some((layer, i) => hitsWasmSameStrideBug(layer, i === 0 ? c.inputShape : shapes[i - 1]));
    },
  },
];

/** The known bugs of `backendName` that case `c` runs into. */
export function knownBugsHit(c: FuzzCase, backendName: string): KnownBackendBug[] {
  return KNOWN_BACKEND_BUGS.filter((b) => b.backend === backendName && b.affects(c));
}
