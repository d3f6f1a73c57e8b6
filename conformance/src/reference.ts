/**
 * `@araboza/conformance/reference`: the float64 reference that backends'
 * tests check their forward values and gradients against.
 *
 * The layer-level part runs every layer kind written directly from Keras's
 * definitions in channels-last layout (no ONNX, no layout tricks); its
 * gradients come from central finite differences. The kernel-level part
 * (re-exported from `reference-kernels.ts`) covers what a layer-level
 * forward cannot express: a convolution's filter and input gradients, the
 * max-pool gradient, merge gradients and the losses with their gradients.
 *
 * Nothing here imports a test runner, so a backend's own tests may use it
 * under any runner.
 *
 * @packageDocumentation
 */
import {
  SELU_ALPHA,
  SELU_SCALE,
  concatAxis,
  convAxisPadding,
  deconvAxisPadding,
  layerNormAxis,
  nodeWeights,
  type ActivationName,
  type GraphNode,
  type LayerKind,
  type ModelGraph,
  type ResolvedLoss,
  type TrainingSpec,
} from '@araboza/core';

/** A float64 tensor. */
export interface F64 {
  shape: number[];
  data: Float64Array;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const f64 = (shape: number[]) => ({ shape, data: new Float64Array(size(shape)) });

/** erf in float64: its Taylor series below 2.5 (relative error ~1e-14), erfc's continued fraction above. */
function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let fraction = a;
  for (let k = 60; k >= 1; k--) fraction = a + k / 2 / fraction;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction;
  return Math.sign(x) * (1 - erfc);
}

/** Applies an activation element-wise (softmax over the last axis). */
export function refActivation(act: ActivationName, t: F64): F64 {
  const out = { shape: [...t.shape], data: new Float64Array(t.data.length) };
  if (act === 'softmax') {
    const c = t.shape[t.shape.length - 1];
    for (let r = 0; r < t.data.length / c; r++) {
      let max = -Infinity;
      for (let j = 0; j < c; j++) max = Math.max(max, t.data[r * c + j]);
      let sum = 0;
      for (let j = 0; j < c; j++) sum += out.data[r * c + j] = Math.exp(t.data[r * c + j] - max);
      for (let j = 0; j < c; j++) out.data[r * c + j] /= sum;
    }
    return out;
  }
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const elu = (v: number) => (v > 0 ? v : Math.expm1(v));
  const f: Record<Exclude<ActivationName, 'softmax'>, (v: number) => number> = {
    linear: (v) => v,
    relu: (v) => Math.max(v, 0),
    sigmoid,
    tanh: (v) => Math.tanh(v),
    elu,
    selu: (v) => SELU_SCALE * (v > 0 ? v : SELU_ALPHA * Math.expm1(v)),
    gelu: (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2)),
    geluApproximate: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    softplus: (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))),
    softsign: (v) => v / (1 + Math.abs(v)),
    silu: (v) => v * sigmoid(v),
    swish: (v) => v * sigmoid(v),
    hardSigmoid: (v) => Math.min(Math.max(v + 3, 0), 6) / 6,
    relu6: (v) => Math.min(Math.max(v, 0), 6),
    exponential: (v) => Math.exp(v),
  };
  for (let i = 0; i < t.data.length; i++) out.data[i] = f[act](t.data[i]);
  return out;
}

/** One layer application: its inputs (one per `node.inputs`) and weights → output before the activation. */
export type RefLayer = (node: GraphNode, xs: F64[], w: F64[]) => F64;

function conv(x: F64, kernel: F64, bias: F64 | undefined, k: number[], s: number[], d: number[], padding: 'valid' | 'same', filters: number): F64 {
  // x: [n, ...spatial, c]; kernel: [...k, c, f]
  const spatial = x.shape.slice(1, -1);
  const c = x.shape[x.shape.length - 1];
  const pads = spatial.map((n, i) => convAxisPadding(n, k[i], s[i], d[i], padding));
  const outSpatial = pads.map((p) => p.out);
  const n = x.shape[0];
  const out = f64([n, ...outSpatial, filters]);
  const two = spatial.length === 2;
  const [H, W] = two ? spatial : [1, spatial[0]];
  const [OH, OW] = two ? outSpatial : [1, outSpatial[0]];
  const [KH, KW] = two ? k : [1, k[0]];
  const [SH, SW] = two ? s : [1, s[0]];
  const [DH, DW] = two ? d : [1, d[0]];
  const [PH, PW] = two ? [pads[0].before, pads[1].before] : [0, pads[0].before];
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let f = 0; f < filters; f++) {
          let acc = bias ? bias.data[f] : 0;
          for (let ky = 0; ky < KH; ky++) {
            const iy = oy * SH - PH + ky * DH;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < KW; kx++) {
              const ix = ox * SW - PW + kx * DW;
              if (ix < 0 || ix >= W) continue;
              for (let ci = 0; ci < c; ci++) acc += x.data[((b * H + iy) * W + ix) * c + ci] * kernel.data[((ky * KW + kx) * c + ci) * filters + f];
            }
          }
          out.data[((b * OH + oy) * OW + ox) * filters + f] = acc;
        }
  return out;
}

function pool(x: F64, k: readonly number[], s: readonly number[], padding: 'valid' | 'same', mode: 'max' | 'avg'): F64 {
  const [n, H, W, c] = x.shape;
  const [py, px] = [convAxisPadding(H, k[0], s[0], 1, padding), convAxisPadding(W, k[1], s[1], 1, padding)];
  const out = f64([n, py.out, px.out, c]);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < py.out; oy++)
      for (let ox = 0; ox < px.out; ox++)
        for (let ch = 0; ch < c; ch++) {
          let acc = mode === 'max' ? -Infinity : 0;
          let count = 0;
          for (let ky = 0; ky < k[0]; ky++)
            for (let kx = 0; kx < k[1]; kx++) {
              const iy = oy * s[0] - py.before + ky;
              const ix = ox * s[1] - px.before + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              const v = x.data[((b * H + iy) * W + ix) * c + ch];
              acc = mode === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          out.data[((b * py.out + oy) * px.out + ox) * c + ch] = mode === 'max' ? acc : acc / count;
        }
  return out;
}

/** Depthwise convolution, no bias: x `[n, h, w, c]`, kernel `[kh, kw, c, m]`, output channel c·m + j. */
function depthwise(x: F64, kernel: F64, k: readonly number[], s: readonly number[], padding: 'valid' | 'same'): F64 {
  const [n, H, W, c] = x.shape;
  const m = kernel.shape[3];
  const [py, px] = [convAxisPadding(H, k[0], s[0], 1, padding), convAxisPadding(W, k[1], s[1], 1, padding)];
  const out = f64([n, py.out, px.out, c * m]);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < py.out; oy++)
      for (let ox = 0; ox < px.out; ox++)
        for (let ch = 0; ch < c; ch++)
          for (let j = 0; j < m; j++) {
            let acc = 0;
            for (let ky = 0; ky < k[0]; ky++)
              for (let kx = 0; kx < k[1]; kx++) {
                const iy = oy * s[0] - py.before + ky;
                const ix = ox * s[1] - px.before + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += x.data[((b * H + iy) * W + ix) * c + ch] * kernel.data[((ky * k[1] + kx) * c + ch) * m + j];
              }
            out.data[((b * py.out + oy) * px.out + ox) * c * m + ch * m + j] = acc;
          }
  return out;
}

function addChannelBias(t: F64, bias: F64 | undefined): F64 {
  const c = t.shape[t.shape.length - 1];
  if (bias) for (let i = 0; i < t.data.length; i++) t.data[i] += bias.data[i % c];
  return t;
}

/**
 * Reference forward of each kind, before the fused activation. Keyed by every
 * {@link LayerKind}, so a new kind in core is a compile error here until it has
 * a reference.
 */
export const REFERENCE_LAYERS: { [K in LayerKind]: RefLayer } = {
  dense: (node, [x], [kernel, bias]) => {
    const cfg = node.config as { units: number };
    const inF = x.shape[x.shape.length - 1];
    const rows = x.data.length / inF;
    const out = f64([...x.shape.slice(0, -1), cfg.units]);
    for (let r = 0; r < rows; r++)
      for (let u = 0; u < cfg.units; u++) {
        let acc = bias ? bias.data[u] : 0;
        for (let i = 0; i < inF; i++) acc += x.data[r * inF + i] * kernel.data[i * cfg.units + u];
        out.data[r * cfg.units + u] = acc;
      }
    return out;
  },
  conv1d: (node, [x], [kernel, bias]) => {
    const c = (node as Extract<GraphNode, { kind: 'conv1d' }>).config;
    return conv(x, kernel, bias, [c.kernelSize], [c.strides], [c.dilationRate], c.padding, c.filters);
  },
  conv2d: (node, [x], [kernel, bias]) => {
    const c = (node as Extract<GraphNode, { kind: 'conv2d' }>).config;
    return conv(x, kernel, bias, [...c.kernelSize], [...c.strides], [...c.dilationRate], c.padding, c.filters);
  },
  conv2dTranspose: (node, [x], [kernel, bias]) => {
    const c = (node as Extract<GraphNode, { kind: 'conv2dTranspose' }>).config;
    const [n, H, W, cin] = x.shape;
    const [KH, KW] = c.kernelSize;
    const [SH, SW] = c.strides;
    const F = c.filters;
    const ay = deconvAxisPadding(H, KH, SH, c.padding);
    const ax = deconvAxisPadding(W, KW, SW, c.padding);
    const out = f64([n, ay.out, ax.out, F]);
    for (let b = 0; b < n; b++)
      for (let iy = 0; iy < H; iy++)
        for (let ix = 0; ix < W; ix++)
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++) {
              const oy = iy * SH + ky - ay.before;
              const ox = ix * SW + kx - ax.before;
              if (oy < 0 || oy >= ay.out || ox < 0 || ox >= ax.out) continue;
              for (let f = 0; f < F; f++) {
                let acc = 0;
                for (let ci = 0; ci < cin; ci++) acc += x.data[((b * H + iy) * W + ix) * cin + ci] * kernel.data[((ky * KW + kx) * F + f) * cin + ci];
                out.data[((b * ay.out + oy) * ax.out + ox) * F + f] += acc;
              }
            }
    if (bias) for (let i = 0; i < out.data.length; i++) out.data[i] += bias.data[i % F];
    return out;
  },
  maxPooling2d: (node, [x]) => {
    const c = (node as Extract<GraphNode, { kind: 'maxPooling2d' }>).config;
    return pool(x, c.poolSize, c.strides, c.padding, 'max');
  },
  averagePooling2d: (node, [x]) => {
    const c = (node as Extract<GraphNode, { kind: 'averagePooling2d' }>).config;
    return pool(x, c.poolSize, c.strides, c.padding, 'avg');
  },
  upSampling2d: (node, [x]) => {
    const [sh, sw] = (node as Extract<GraphNode, { kind: 'upSampling2d' }>).config.size;
    const [n, H, W, c] = x.shape;
    const out = f64([n, H * sh, W * sw, c]);
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < H * sh; oy++)
        for (let ox = 0; ox < W * sw; ox++)
          for (let ch = 0; ch < c; ch++)
            out.data[((b * H * sh + oy) * W * sw + ox) * c + ch] = x.data[((b * H + Math.floor(oy / sh)) * W + Math.floor(ox / sw)) * c + ch];
    return out;
  },
  flatten: (_node, [x]) => ({ shape: [x.shape[0], x.data.length / x.shape[0]], data: x.data.slice() }),
  reshape: (node, [x]) => ({ shape: [x.shape[0], ...node.outputShape], data: x.data.slice() }),
  activation: (_node, [x]) => ({ shape: [...x.shape], data: x.data.slice() }),
  add: (_node, xs) => elementwise(xs, (vs) => vs.reduce((a, b) => a + b, 0)),
  subtract: (_node, xs) => elementwise(xs, ([a, b]) => a - b),
  multiply: (_node, xs) => elementwise(xs, (vs) => vs.reduce((a, b) => a * b, 1)),
  average: (_node, xs) => elementwise(xs, (vs) => vs.reduce((a, b) => a + b, 0) / vs.length),
  maximum: (_node, xs) => elementwise(xs, (vs) => Math.max(...vs)),
  minimum: (_node, xs) => elementwise(xs, (vs) => Math.min(...vs)),
  concatenate: (node, xs) => {
    const c = (node as Extract<GraphNode, { kind: 'concatenate' }>).config;
    const rank = xs[0].shape.length - 1;
    const axis = concatAxis(c.axis, rank, node.name) + 1;
    // Rows of the axis and everything after it, per index of the axes before it.
    const outer = size(xs[0].shape.slice(0, axis));
    const blocks = xs.map((x) => size(x.shape.slice(axis)));
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
    const out = f64(shape);
    let o = 0;
    for (let r = 0; r < outer; r++)
      xs.forEach((x, i) => {
        for (let j = 0; j < blocks[i]; j++) out.data[o++] = x.data[r * blocks[i] + j];
      });
    return out;
  },
  leakyRelu: (node, [x]) => {
    const slope = (node as Extract<GraphNode, { kind: 'leakyRelu' }>).config.negativeSlope;
    return { shape: [...x.shape], data: x.data.map((v) => (v > 0 ? v : slope * v)) };
  },
  zeroPadding2d: (node, [x]) => {
    const [[t], [l]] = (node as Extract<GraphNode, { kind: 'zeroPadding2d' }>).config.padding;
    return window2d(x, node.outputShape, -t, -l);
  },
  cropping2d: (node, [x]) => {
    const [[t], [l]] = (node as Extract<GraphNode, { kind: 'cropping2d' }>).config.cropping;
    return window2d(x, node.outputShape, t, l);
  },
  globalAveragePooling2d: (node, [x]) => globalPool(x, node.outputShape, false),
  globalMaxPooling2d: (node, [x]) => globalPool(x, node.outputShape, true),
  globalAveragePooling1d: (node, [x]) => globalPool(x, node.outputShape, false),
  globalMaxPooling1d: (node, [x]) => globalPool(x, node.outputShape, true),
  maxPooling1d: (node, [x]) => pool1d(node as Extract<GraphNode, { kind: 'maxPooling1d' }>, x, true),
  averagePooling1d: (node, [x]) => pool1d(node as Extract<GraphNode, { kind: 'averagePooling1d' }>, x, false),
  upSampling1d: (node, [x]) => {
    const s = (node as Extract<GraphNode, { kind: 'upSampling1d' }>).config.size;
    const [n, L, C] = x.shape;
    const out = f64([n, L * s, C]);
    for (let i = 0; i < out.data.length; i++) {
      const c = i % C;
      const step = Math.floor(i / C) % (L * s);
      const b = Math.floor(i / C / (L * s));
      out.data[i] = x.data[(b * L + Math.floor(step / s)) * C + c];
    }
    return out;
  },
  depthwiseConv2d: (node, [x], [kernel, bias]) => {
    const c = (node as Extract<GraphNode, { kind: 'depthwiseConv2d' }>).config;
    return addChannelBias(depthwise(x, kernel, c.kernelSize, c.strides, c.padding), c.useBias ? bias : undefined);
  },
  separableConv2d: (node, [x], [depthwiseKernel, pointwiseKernel, bias]) => {
    const c = (node as Extract<GraphNode, { kind: 'separableConv2d' }>).config;
    const mid = depthwise(x, depthwiseKernel, c.kernelSize, c.strides, c.padding);
    return conv(mid, pointwiseKernel, c.useBias ? bias : undefined, [1, 1], [1, 1], [1, 1], 'valid', c.filters);
  },
  layerNormalization: (node, [x], weights) => {
    const c = (node as Extract<GraphNode, { kind: 'layerNormalization' }>).config;
    const axis = layerNormAxis(c.axis, x.shape.length - 1) + 1;
    const gamma = c.scale ? weights[0] : undefined;
    const beta = c.center ? weights[c.scale ? 1 : 0] : undefined;
    const len = x.shape[axis];
    const inner = size(x.shape.slice(axis + 1));
    const outer = size(x.shape.slice(0, axis));
    const out = f64([...x.shape]);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const at = (j: number) => (o * len + j) * inner + i;
        let mean = 0;
        for (let j = 0; j < len; j++) mean += x.data[at(j)] / len;
        let variance = 0;
        for (let j = 0; j < len; j++) variance += (x.data[at(j)] - mean) ** 2 / len;
        for (let j = 0; j < len; j++) {
          const v = (x.data[at(j)] - mean) / Math.sqrt(variance + c.epsilon);
          out.data[at(j)] = v * (gamma ? gamma.data[j] : 1) + (beta ? beta.data[j] : 0);
        }
      }
    return out;
  },
  // Inference mode: the moving statistics (gamma, beta present unless scale/center are off).
  batchNormalization: (node, [x], weights) => {
    const { scale, center, epsilon } = (node as Extract<GraphNode, { kind: 'batchNormalization' }>).config;
    let k = 0;
    const gamma = scale ? weights[k++] : null;
    const beta = center ? weights[k++] : null;
    const [mean, variance] = [weights[k], weights[k + 1]];
    const C = x.shape[x.shape.length - 1];
    const out = f64([...x.shape]);
    for (let i = 0; i < x.data.length; i++) {
      const c = i % C;
      const y = (x.data[i] - mean.data[c]) / Math.sqrt(variance.data[c] + epsilon);
      out.data[i] = y * (gamma ? gamma.data[c] : 1) + (beta ? beta.data[c] : 0);
    }
    return out;
  },
  // Inference mode: an identity.
  dropout: (_node, [x]) => ({ shape: [...x.shape], data: Float64Array.from(x.data) }),
  spatialDropout2d: (_node, [x]) => ({ shape: [...x.shape], data: Float64Array.from(x.data) }),
};

/** 1-D max (−∞ padding) or average (padding left out) pooling with Keras's `same` rule. */
function pool1d(node: Extract<GraphNode, { kind: 'maxPooling1d' | 'averagePooling1d' }>, x: F64, max: boolean): F64 {
  const { poolSize: k, strides: s, padding } = node.config;
  const [n, L, C] = x.shape;
  const { before } = convAxisPadding(L, k, s, 1, padding);
  const out = f64([n, node.outputShape[0], C]);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < node.outputShape[0]; o++)
      for (let c = 0; c < C; c++) {
        let acc = max ? -Infinity : 0;
        let count = 0;
        for (let t = o * s - before; t < o * s - before + k; t++) {
          if (t < 0 || t >= L) continue;
          const v = x.data[(b * L + t) * C + c];
          acc = max ? Math.max(acc, v) : acc + v;
          count++;
        }
        out.data[(b * node.outputShape[0] + o) * C + c] = max ? acc : acc / count;
      }
  return out;
}

/** out[b, i, j, c] = x[b, i + top, j + left, c], 0 outside x (padding when top/left < 0, cropping when > 0). */
function window2d(x: F64, outShape: readonly number[], top: number, left: number): F64 {
  const [n, H, W, C] = x.shape;
  const [oh, ow] = outShape;
  const out = f64([n, oh, ow, C]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const [r, q] = [i + top, j + left];
        if (r < 0 || r >= H || q < 0 || q >= W) continue;
        for (let c = 0; c < C; c++) out.data[((b * oh + i) * ow + j) * C + c] = x.data[((b * H + r) * W + q) * C + c];
      }
  return out;
}

/** Mean or maximum over every axis but the batch and the channels. */
function globalPool(x: F64, outShape: readonly number[], max: boolean): F64 {
  const n = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  const positions = x.data.length / n / C;
  const out = f64([n, ...outShape]);
  for (let b = 0; b < n; b++)
    for (let c = 0; c < C; c++) {
      let acc = max ? -Infinity : 0;
      for (let p = 0; p < positions; p++) {
        const v = x.data[(b * positions + p) * C + c];
        acc = max ? Math.max(acc, v) : acc + v;
      }
      out.data[b * C + c] = max ? acc : acc / positions;
    }
  return out;
}

/** An element-wise merge of equal-shaped tensors. */
function elementwise(xs: F64[], f: (values: number[]) => number): F64 {
  const out = f64([...xs[0].shape]);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(xs.map((x) => x.data[i]));
  return out;
}

/**
 * Runs a graph in float64 on its inputs (one tensor for a one-input graph):
 * every output (`ys`, graph order) and its node's pre-activation values
 * (`zs`; the value itself for an output that is a graph input); `y` and `z`
 * are the first output's.
 */
export function refForward(graph: ModelGraph, inputs: F64 | F64[], weights: F64[]): { y: F64; z: F64; ys: F64[]; zs: F64[] } {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const values = new Map<string, F64>(graph.inputs.map((input, i) => [input.name, list[i]]));
  const pre = new Map<string, F64>();
  for (const node of graph.nodes) {
    const z = REFERENCE_LAYERS[node.kind](
      node,
      node.inputs.map((name) => values.get(name)!),
      nodeWeights(node, weights),
    );
    const act = 'activation' in node.config ? node.config.activation : 'linear';
    values.set(node.name, refActivation(act, z));
    pre.set(node.name, z);
  }
  const ys = graph.outputs.map((o) => values.get(o)!);
  const zs = graph.outputs.map((o, i) => pre.get(o) ?? ys[i]);
  return { y: ys[0], z: zs[0], ys, zs };
}

/** The training loss in float64: Σ lossWeights[i] · loss_i over the outputs, and each loss_i. */
export function refTotalLoss(
  training: Pick<TrainingSpec, 'losses' | 'lossWeights'>,
  ys: F64[],
  zs: F64[],
  targets: F64[],
): { loss: number; outputLosses: number[] } {
  const outputLosses = ys.map((y, i) => refLoss(training.losses[i], y, zs[i], targets[i]));
  return { loss: outputLosses.reduce((sum, l, i) => sum + training.lossWeights[i] * l, 0), outputLosses };
}

/** core's loss formulas in float64. */
export function refLoss(loss: ResolvedLoss, y: F64, z: F64, target: F64): number {
  const n = y.data.length;
  let sum = 0;
  if (loss.kind === 'meanSquaredError') {
    for (let i = 0; i < n; i++) sum += (y.data[i] - target.data[i]) ** 2;
    return sum / n;
  }
  if (loss.kind === 'binaryCrossentropy') {
    for (let i = 0; i < n; i++) {
      const t = target.data[i];
      if (loss.fromLogits) {
        const v = z.data[i];
        sum += Math.max(v, 0) - v * t + Math.log1p(Math.exp(-Math.abs(v)));
      } else {
        const p = Math.min(Math.max(y.data[i], 1e-7), 1 - 1e-7);
        sum += -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
      }
    }
    return sum / n;
  }
  if (loss.kind !== 'categoricalCrossentropy')
    throw new Error(`refLoss: no float64 reference of ${loss.kind} (its golden cases are in fixtures/training/losses.json)`);
  const c = y.shape[y.shape.length - 1];
  for (let r = 0; r < n / c; r++) {
    if (loss.fromLogits) {
      let max = -Infinity;
      for (let j = 0; j < c; j++) max = Math.max(max, z.data[r * c + j]);
      let s = 0;
      for (let j = 0; j < c; j++) s += Math.exp(z.data[r * c + j] - max);
      for (let j = 0; j < c; j++) sum -= target.data[r * c + j] * (z.data[r * c + j] - max - Math.log(s));
    } else {
      let s = 0;
      for (let j = 0; j < c; j++) s += y.data[r * c + j];
      for (let j = 0; j < c; j++) sum -= target.data[r * c + j] * Math.log(Math.min(Math.max(y.data[r * c + j] / s, 1e-7), 1 - 1e-7));
    }
  }
  return sum / (n / c);
}

/** Central finite differences of `f` with respect to every element of `t` (modified in place, restored). */
export function finiteDifferences(f: () => number, t: F64, h = 1e-5): Float64Array {
  const g = new Float64Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    t.data[i] = v + h;
    const up = f();
    t.data[i] = v - h;
    const down = f();
    t.data[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** Converts a float32 host tensor to float64. */
export function toF64(t: { shape: readonly number[]; data: Float32Array }): F64 {
  return { shape: [...t.shape], data: Float64Array.from(t.data) };
}

/** Converts a float64 tensor to a float32 host tensor. */
export function toF32(t: F64): { shape: number[]; data: Float32Array } {
  return { shape: [...t.shape], data: Float32Array.from(t.data) };
}

/** Largest |a − b| relative to max(1, max |b|). */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-3;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let err = 0;
  for (let i = 0; i < b.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return err / scale;
}

export * from './reference-kernels.js';
