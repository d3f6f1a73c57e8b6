#!/usr/bin/python3
"""Golden vectors of araboza's conformance suite, computed with PyTorch.

An implementation of Keras's layer semantics independent of every araboza
backend: channels-last (NHWC) data, Keras weight layouts, Keras's asymmetric
`same` padding (smaller half before), max pooling padded with -inf, average
pooling that excludes the padding, and conv2dTranspose as the input-gradient
of the forward conv2d whose input has the transposed output's length.

For every case it stores the forward output and the gradients, with respect
to the input and every weight, of loss = mean((output - target)^2) over every
element. Everything is computed in float64 from float32-exact inputs, and
stored rounded to float32 (decimal text with 9 significant digits, which
reads back to the same float32).

Run it from the repository root with Debian's PyTorch (python3-torch); CI
never runs it, the JSON it writes is committed:

    /usr/bin/python3 conformance/scripts/generate_golden.py

Before writing anything it checks itself against known answers (the study
note's 1-D convolution, Keras output lengths, slow loop implementations of
every spatial layer, and finite differences of every case's gradients), so a
wrong port fails loudly instead of producing wrong fixtures.
"""

import itertools
import json
import math
import os
import sys
import tempfile
import zlib

import torch
import torch.nn.functional as F

GENERATOR = "conformance/scripts/generate_golden.py"
FIXTURES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "golden")
LAYER_KINDS = [
    "dense",
    "conv1d",
    "conv2d",
    "conv2dTranspose",
    "maxPooling2d",
    "averagePooling2d",
    "upSampling2d",
    "flatten",
    "reshape",
    "activation",
    "leakyRelu",
    "zeroPadding2d",
    "cropping2d",
    "globalAveragePooling2d",
    "globalMaxPooling2d",
    "globalAveragePooling1d",
    "globalMaxPooling1d",
    "maxPooling1d",
    "averagePooling1d",
    "upSampling1d",
    "depthwiseConv2d",
    "separableConv2d",
    "layerNormalization",
]
ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax"]
# Keras 3's other element-wise activations; each gets activation-layer cases and a dense case.
MORE_ACTIVATIONS = ["elu", "selu", "gelu", "softplus", "softsign", "silu", "swish", "hardSigmoid", "relu6", "exponential", "geluApproximate"]
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
# Where each activation's derivative jumps: random draws stay KINK_MARGIN away.
ACTIVATION_KINKS = {"relu": [0.0], "relu6": [0.0, 6.0], "hardSigmoid": [-3.0, 3.0]}
# A relu pre-activation or the gap between a pooling window's two largest
# values must exceed this, so a float32 backend cannot take the other branch.
KINK_MARGIN = 1e-3
DTYPE = torch.float64


# --------------------------------------------------------------------------
# Keras shape rules
# --------------------------------------------------------------------------

def pair(v):
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def same_padding(size, kernel, stride, dilation=1):
    """Keras/TensorFlow `same`: total = max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0), smaller half before."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def axis_padding(size, kernel, stride, dilation, padding):
    return same_padding(size, kernel, stride, dilation) if padding == "same" else (0, 0)


def conv_output_length(size, kernel, stride, dilation, padding):
    if padding == "same":
        return -(-size // stride)
    return (size - ((kernel - 1) * dilation + 1)) // stride + 1


def deconv_output_length(size, kernel, stride, padding):
    """Keras's deconv_output_length (no output_padding)."""
    return size * stride if padding == "same" else size * stride + max(kernel - stride, 0)


# --------------------------------------------------------------------------
# The layers, in float64 torch, on NHWC tensors and Keras-layout weights
# --------------------------------------------------------------------------

def activate(x, name):
    if name == "linear":
        return x
    if name == "relu":
        return torch.relu(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "softmax":
        return torch.softmax(x, dim=-1)
    if name == "elu":
        return F.elu(x)
    if name == "selu":
        # Not F.selu: its derivative at exactly 0 is λα, TensorFlow's (and Keras's) is λ.
        return torch.where(x >= 0, SELU_SCALE * x, SELU_SCALE * SELU_ALPHA * torch.expm1(x))
    if name == "gelu":
        return F.gelu(x)  # the exact erf form, Keras's default
    if name == "geluApproximate":
        return F.gelu(x, approximate="tanh")  # Keras's gelu(approximate=True)
    if name == "softplus":
        return F.softplus(x)
    if name == "softsign":
        return F.softsign(x)
    if name in ("silu", "swish"):
        return F.silu(x)
    if name == "hardSigmoid":
        return F.hardsigmoid(x)  # relu6(x + 3)/6 as in Keras 3; derivative 0 at ±3
    if name == "relu6":
        return F.relu6(x)  # derivative 0 at 0 and 6, as TensorFlow's
    if name == "exponential":
        return torch.exp(x)
    raise ValueError(f"unknown activation {name}")


def dense_pre(x, w, o):
    y = torch.matmul(x, w["kernel"])
    return y + w["bias"] if o.get("useBias", True) else y


def conv1d_pre(x, w, o):
    k, s, d = o["kernelSize"], o.get("strides", 1), o.get("dilationRate", 1)
    before, after = axis_padding(x.shape[1], k, s, d, o.get("padding", "valid"))
    xc = F.pad(x.permute(0, 2, 1), (before, after))
    y = F.conv1d(xc, w["kernel"].permute(2, 1, 0), stride=s, dilation=d).permute(0, 2, 1)
    return y + w["bias"] if o.get("useBias", True) else y


def conv2d_nhwc(x, kernel, strides, dilation, padding):
    """Keras conv2d without bias: x [n, h, w, cin], kernel [kh, kw, cin, cout]."""
    (kh, kw), (sh, sw), (dh, dw) = kernel.shape[:2], strides, dilation
    ph = axis_padding(x.shape[1], kh, sh, dh, padding)
    pw = axis_padding(x.shape[2], kw, sw, dw, padding)
    xc = F.pad(x.permute(0, 3, 1, 2), (pw[0], pw[1], ph[0], ph[1]))
    y = F.conv2d(xc, kernel.permute(3, 2, 0, 1), stride=(sh, sw), dilation=(dh, dw))
    return y.permute(0, 2, 3, 1)


def conv2d_pre(x, w, o):
    y = conv2d_nhwc(x, w["kernel"], pair(o.get("strides", 1)), pair(o.get("dilationRate", 1)), o.get("padding", "valid"))
    return y + w["bias"] if o.get("useBias", True) else y


def conv2d_transpose_nhwc(x, kernel, strides, padding):
    """Keras conv2dTranspose without bias: x [n, h, w, cin], kernel [kh, kw, cout, cin].

    The full transposed convolution has length (in-1)*s + k per axis; Keras's
    output keeps `out` of it, cropping the smaller half of the excess first
    (TensorFlow's conv2d_backprop_input with `same`), or appending zeros when
    k < s with `valid`.
    """
    (kh, kw), (sh, sw) = kernel.shape[:2], strides
    full = F.conv_transpose2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), stride=(sh, sw))
    crops = []
    for size, k, s in ((x.shape[1], kh, sh), (x.shape[2], kw, sw)):
        out = deconv_output_length(size, k, s, padding)
        total = (size - 1) * s + k - out
        crops.append((total // 2, out) if total >= 0 else (0, out))
    (bh, oh), (bw, ow) = crops
    extra_h, extra_w = max(oh - full.shape[2], 0), max(ow - full.shape[3], 0)
    full = F.pad(full, (0, extra_w, 0, extra_h))
    return full[:, :, bh:bh + oh, bw:bw + ow].permute(0, 2, 3, 1)


def conv2d_transpose_pre(x, w, o):
    y = conv2d_transpose_nhwc(x, w["kernel"], pair(o.get("strides", 1)), o.get("padding", "valid"))
    return y + w["bias"] if o.get("useBias", True) else y


def pool_geometry(x, o):
    k = pair(o.get("poolSize", 2))
    s = pair(o.get("strides", o.get("poolSize", 2)))
    padding = o.get("padding", "valid")
    ph = axis_padding(x.shape[1], k[0], s[0], 1, padding)
    pw = axis_padding(x.shape[2], k[1], s[1], 1, padding)
    return k, s, (pw[0], pw[1], ph[0], ph[1])


def max_pooling2d(x, w, o):
    k, s, pads = pool_geometry(x, o)
    xc = F.pad(x.permute(0, 3, 1, 2), pads, value=-math.inf)
    return F.max_pool2d(xc, k, s).permute(0, 2, 3, 1)


def average_pooling2d(x, w, o):
    """Window sums of the zero-padded input divided by the number of real (unpadded) elements."""
    k, s, pads = pool_geometry(x, o)
    xc = F.pad(x.permute(0, 3, 1, 2), pads)
    ones = F.pad(torch.ones_like(x[:1, :, :, :1]).permute(0, 3, 1, 2), pads)
    sums = F.avg_pool2d(xc, k, s) * (k[0] * k[1])
    counts = F.avg_pool2d(ones, k, s) * (k[0] * k[1])
    return (sums / counts).permute(0, 2, 3, 1)


def up_sampling2d(x, w, o):
    sh, sw = pair(o.get("size", 2))
    return x.repeat_interleave(sh, dim=1).repeat_interleave(sw, dim=2)


def flatten(x, w, o):
    return x.reshape(x.shape[0], -1)


def reshape(x, w, o):
    return x.reshape(x.shape[0], *o["targetShape"])


def activation_layer(x, w, o):
    return activate(x, o["activation"])


def leaky_relu(x, w, o):
    """Keras 3's LeakyReLU: x for x > 0, negativeSlope·x otherwise (default 0.3); derivative at 0 the slope."""
    return F.leaky_relu(x, o.get("negativeSlope", 0.3))


def side_pairs(v):
    """Keras's ZeroPadding2D/Cropping2D amount: int, (rows, cols) or ((top, bottom), (left, right))."""
    if isinstance(v, int):
        return (v, v), (v, v)
    if isinstance(v[0], int):
        return (v[0], v[0]), (v[1], v[1])
    return tuple(v[0]), tuple(v[1])


def zero_padding2d(x, w, o):
    (t, b), (l, r) = side_pairs(o.get("padding", 1))
    return F.pad(x, (0, 0, l, r, t, b))


def cropping2d(x, w, o):
    (t, b), (l, r) = side_pairs(o.get("cropping", 0))
    return x[:, t:x.shape[1] - b, l:x.shape[2] - r, :]


def global_pool(reduce, axes):
    """Mean or maximum over the spatial axes; torch.amax splits the gradient evenly among ties, as TensorFlow's reduce_max."""
    def pool(x, w, o):
        return reduce(x, dim=axes, keepdim=o.get("keepdims", False))
    return pool


def as_2d_pool(o):
    """A 1-D pooling's options as the 2-D pooling over an image of height 1."""
    k = o.get("poolSize", 2)
    return {"poolSize": [1, k], "strides": [1, o.get("strides", k)], "padding": o.get("padding", "valid")}


def max_pooling1d(x, w, o):
    return max_pooling2d(x.unsqueeze(1), w, as_2d_pool(o)).squeeze(1)


def average_pooling1d(x, w, o):
    return average_pooling2d(x.unsqueeze(1), w, as_2d_pool(o)).squeeze(1)


def up_sampling1d(x, w, o):
    return x.repeat_interleave(o.get("size", 2), dim=1)


def depthwise_nhwc(x, kernel, strides, padding):
    """Keras DepthwiseConv2D without bias: x [n, h, w, c], kernel [kh, kw, c, m]; output channel c·m + j is channel c's j-th."""
    kh, kw, c, m = kernel.shape
    ph = axis_padding(x.shape[1], kh, strides[0], 1, padding)
    pw = axis_padding(x.shape[2], kw, strides[1], 1, padding)
    xc = F.pad(x.permute(0, 3, 1, 2), (pw[0], pw[1], ph[0], ph[1]))
    weight = kernel.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
    return F.conv2d(xc, weight, stride=strides, groups=c).permute(0, 2, 3, 1)


def depthwise_conv2d_pre(x, w, o):
    y = depthwise_nhwc(x, w["kernel"], pair(o.get("strides", 1)), o.get("padding", "valid"))
    return y + w["bias"] if o.get("useBias", True) else y


def separable_conv2d_pre(x, w, o):
    """Keras SeparableConv2D: depthwise (strides, padding, no bias), then a 1×1 pointwise conv2d, then the bias."""
    mid = depthwise_nhwc(x, w["depthwiseKernel"], pair(o.get("strides", 1)), o.get("padding", "valid"))
    y = conv2d_nhwc(mid, w["pointwiseKernel"], (1, 1), (1, 1), "valid")
    return y + w["bias"] if o.get("useBias", True) else y


def layer_norm_axis(o, rank):
    """The batched axis LayerNormalization normalises over (rank counts the batch axis)."""
    axis = o.get("axis", -1)
    return axis + rank if axis < 0 else axis


def layer_normalization(x, w, o):
    """Keras LayerNormalization over one axis: the biased variance, (x - mean)/sqrt(var + eps)·gamma + beta."""
    axis = layer_norm_axis(o, x.dim())
    mean = x.mean(dim=axis, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=axis, keepdim=True)
    y = (x - mean) / torch.sqrt(var + o.get("epsilon", 1e-3))
    shape = [x.shape[axis]] + [1] * (x.dim() - 1 - axis)
    if o.get("scale", True):
        y = y * w["gamma"].reshape(shape)
    if o.get("center", True):
        y = y + w["beta"].reshape(shape)
    return y


PRE_ACTIVATION = {
    "dense": dense_pre,
    "conv1d": conv1d_pre,
    "conv2d": conv2d_pre,
    "conv2dTranspose": conv2d_transpose_pre,
    "depthwiseConv2d": depthwise_conv2d_pre,
    "separableConv2d": separable_conv2d_pre,
    "layerNormalization": layer_normalization,  # no activation option: always linear
}
PARAMETER_FREE = {
    "maxPooling2d": max_pooling2d,
    "averagePooling2d": average_pooling2d,
    "upSampling2d": up_sampling2d,
    "flatten": flatten,
    "reshape": reshape,
    "activation": activation_layer,
    "leakyRelu": leaky_relu,
    "zeroPadding2d": zero_padding2d,
    "cropping2d": cropping2d,
    "globalAveragePooling2d": global_pool(torch.mean, (1, 2)),
    "globalMaxPooling2d": global_pool(torch.amax, (1, 2)),
    "globalAveragePooling1d": global_pool(torch.mean, (1,)),
    "globalMaxPooling1d": global_pool(torch.amax, (1,)),
    "maxPooling1d": max_pooling1d,
    "averagePooling1d": average_pooling1d,
    "upSampling1d": up_sampling1d,
}
assert set(PRE_ACTIVATION) | set(PARAMETER_FREE) == set(LAYER_KINDS)


def forward(kind, x, w, o):
    if kind in PRE_ACTIVATION:
        return activate(PRE_ACTIVATION[kind](x, w, o), o.get("activation", "linear"))
    return PARAMETER_FREE[kind](x, w, o)


def weight_shapes(kind, input_shape, o):
    """Keras weight layouts: dense [in, out]; conv1d [k, cin, out]; conv2d [kh, kw, cin, out]; conv2dTranspose [kh, kw, out, cin]."""
    cin = input_shape[-1]
    if kind == "dense":
        shapes = [("kernel", [cin, o["units"]])]
        out = o["units"]
    elif kind == "conv1d":
        shapes = [("kernel", [o["kernelSize"], cin, o["filters"]])]
        out = o["filters"]
    elif kind == "conv2d":
        shapes = [("kernel", [*pair(o["kernelSize"]), cin, o["filters"]])]
        out = o["filters"]
    elif kind == "conv2dTranspose":
        shapes = [("kernel", [*pair(o["kernelSize"]), o["filters"], cin])]
        out = o["filters"]
    elif kind == "depthwiseConv2d":
        m = o.get("depthMultiplier", 1)
        shapes = [("kernel", [*pair(o["kernelSize"]), cin, m])]
        out = cin * m
    elif kind == "separableConv2d":
        m = o.get("depthMultiplier", 1)
        shapes = [("depthwiseKernel", [*pair(o["kernelSize"]), cin, m]), ("pointwiseKernel", [1, 1, cin * m, o["filters"]])]
        out = o["filters"]
    elif kind == "layerNormalization":
        size = input_shape[layer_norm_axis(o, len(input_shape))]
        shapes = ([("gamma", [size])] if o.get("scale", True) else []) + ([("beta", [size])] if o.get("center", True) else [])
        return shapes
    else:
        return []
    if o.get("useBias", True):
        shapes.append(("bias", [out]))
    return shapes


# --------------------------------------------------------------------------
# Slow loop implementations, only to check the torch ones above
# --------------------------------------------------------------------------

def loop_conv2d(x, kernel, strides, dilation, padding):
    n, h, wd, cin = x.shape
    kh, kw, _, cout = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    ph, pw = axis_padding(h, kh, sh, dh, padding), axis_padding(wd, kw, sw, dw, padding)
    oh, ow = conv_output_length(h, kh, sh, dh, padding), conv_output_length(wd, kw, sw, dw, padding)
    y = torch.zeros(n, oh, ow, cout, dtype=DTYPE)
    for b, i, j, co in itertools.product(range(n), range(oh), range(ow), range(cout)):
        acc = 0.0
        for a, c, ci in itertools.product(range(kh), range(kw), range(cin)):
            r, q = i * sh + a * dh - ph[0], j * sw + c * dw - pw[0]
            if 0 <= r < h and 0 <= q < wd:
                acc += float(x[b, r, q, ci]) * float(kernel[a, c, ci, co])
        y[b, i, j, co] = acc
    return y


def loop_conv2d_transpose(x, kernel, strides, padding):
    """Scatter form: input pixel (i, j) adds x·kernel into the full output at (i·s + a, j·s + c), then Keras's crop."""
    n, h, wd, cin = x.shape
    kh, kw, cout, _ = kernel.shape
    sh, sw = strides
    oh, ow = deconv_output_length(h, kh, sh, padding), deconv_output_length(wd, kw, sw, padding)
    ch = max(((h - 1) * sh + kh - oh) // 2, 0)
    cw = max(((wd - 1) * sw + kw - ow) // 2, 0)
    y = torch.zeros(n, oh, ow, cout, dtype=DTYPE)
    for b, i, j, a, c in itertools.product(range(n), range(h), range(wd), range(kh), range(kw)):
        r, q = i * sh + a - ch, j * sw + c - cw
        if 0 <= r < oh and 0 <= q < ow:
            for co, ci in itertools.product(range(cout), range(cin)):
                y[b, r, q, co] += float(x[b, i, j, ci]) * float(kernel[a, c, co, ci])
    return y


def loop_pool(x, o, reduce_max):
    n, h, wd, ch = x.shape
    k = pair(o.get("poolSize", 2))
    s = pair(o.get("strides", o.get("poolSize", 2)))
    padding = o.get("padding", "valid")
    ph, pw = axis_padding(h, k[0], s[0], 1, padding), axis_padding(wd, k[1], s[1], 1, padding)
    oh, ow = conv_output_length(h, k[0], s[0], 1, padding), conv_output_length(wd, k[1], s[1], 1, padding)
    y = torch.zeros(n, oh, ow, ch, dtype=DTYPE)
    for b, i, j, c in itertools.product(range(n), range(oh), range(ow), range(ch)):
        window = [float(x[b, r, q, c])
                  for r in range(i * s[0] - ph[0], i * s[0] - ph[0] + k[0])
                  for q in range(j * s[1] - pw[0], j * s[1] - pw[0] + k[1])
                  if 0 <= r < h and 0 <= q < wd]
        y[b, i, j, c] = max(window) if reduce_max else sum(window) / len(window)
    return y


def check_known_answers():
    """Hand-checkable answers; any failure means the port of Keras's semantics is wrong."""
    # The study note's 1-D convolution: [1..5] * [1, 0, -1].
    x = torch.tensor([1.0, 2, 3, 4, 5], dtype=DTYPE).reshape(1, 5, 1)
    w = {"kernel": torch.tensor([1.0, 0, -1], dtype=DTYPE).reshape(3, 1, 1)}
    valid = conv1d_pre(x, w, {"kernelSize": 3, "useBias": False})
    same = conv1d_pre(x, w, {"kernelSize": 3, "useBias": False, "padding": "same"})
    assert valid.flatten().tolist() == [-2, -2, -2], valid
    assert same.flatten().tolist() == [-2, -2, -2, -2, 4], same
    # Even kernel, same: the one padded zero goes after (k=2: [x0-x1, ..., x4-0]).
    w2 = {"kernel": torch.tensor([1.0, -1], dtype=DTYPE).reshape(2, 1, 1)}
    same2 = conv1d_pre(x, w2, {"kernelSize": 2, "useBias": False, "padding": "same"})
    assert same2.flatten().tolist() == [-1, -1, -1, -1, 5], same2
    # Stride 2, same on 5: out 3, total pad = (3-1)*2 + 3 - 5 = 2 → (1, 1).
    s2 = conv1d_pre(x, w, {"kernelSize": 3, "strides": 2, "useBias": False, "padding": "same"})
    assert s2.flatten().tolist() == [-2, -2, 4], s2
    # Dilation 2, valid: x[i] - x[i+4].
    d2 = conv1d_pre(x, w, {"kernelSize": 3, "dilationRate": 2, "useBias": False})
    assert d2.flatten().tolist() == [-4], d2

    # Same padding rule.
    assert same_padding(7, 2, 2) == (0, 1) and same_padding(7, 3, 2) == (1, 1)
    assert same_padding(8, 3, 2) == (0, 1) and same_padding(8, 3, 1, 2) == (2, 2)
    assert same_padding(6, 5, 1) == (2, 2) and same_padding(6, 2, 1) == (0, 1)

    # Pooling: same on 7×7 → 4×4; max pads with -inf, average excludes the pads.
    img = torch.arange(49, dtype=DTYPE).reshape(1, 7, 7, 1) - 60.0  # all negative: a zero pad would win a max
    mp = max_pooling2d(img, {}, {"poolSize": 2, "padding": "same"})
    assert list(mp.shape) == [1, 4, 4, 1], mp.shape
    assert mp[0, 3, 3, 0].item() == img[0, 6, 6, 0].item()
    assert list(max_pooling2d(img, {}, {"poolSize": 3, "strides": 2, "padding": "same"}).shape) == [1, 4, 4, 1]
    assert list(max_pooling2d(img, {}, {"poolSize": 2}).shape) == [1, 3, 3, 1]
    ap = average_pooling2d(img, {}, {"poolSize": 2, "padding": "same"})
    assert ap[0, 3, 3, 0].item() == img[0, 6, 6, 0].item()  # a 1×1 real window
    assert ap[0, 0, 3, 0].item() == (img[0, 0, 6, 0].item() + img[0, 1, 6, 0].item()) / 2
    ones = torch.ones(1, 7, 7, 1, dtype=DTYPE)
    assert torch.equal(average_pooling2d(ones, {}, {"poolSize": 3, "strides": 2, "padding": "same"}), torch.ones(1, 4, 4, 1, dtype=DTYPE))

    # conv2dTranspose output lengths (Keras's deconv_output_length).
    for (size, k, s, padding, expected) in [
        (4, 3, 2, "valid", 9), (4, 3, 2, "same", 8), (3, 1, 2, "valid", 6), (3, 1, 2, "same", 6),
        (4, 2, 2, "valid", 8), (3, 3, 1, "valid", 5), (3, 3, 1, "same", 3), (3, 5, 2, "valid", 9),
    ]:
        assert deconv_output_length(size, k, s, padding) == expected, (size, k, s, padding)
        xt = torch.ones(1, size, size, 1, dtype=DTYPE)
        yt = conv2d_transpose_nhwc(xt, torch.ones(k, k, 1, 1, dtype=DTYPE), (s, s), padding)
        assert list(yt.shape) == [1, expected, expected, 1], (size, k, s, padding, yt.shape)
    # k=1, s=2 valid: each pixel lands on an even position, odd positions are zero.
    xt = torch.tensor([1.0, 2, 3], dtype=DTYPE).reshape(1, 3, 1, 1)
    yt = conv2d_transpose_nhwc(xt, torch.ones(1, 1, 1, 1, dtype=DTYPE), (2, 1), "valid")
    assert yt.flatten().tolist() == [1, 0, 2, 0, 3, 0], yt

    # Depthwise: channel c's m kernels by the loop conv2d on channel c alone, outputs in order c·m + j.
    gen = torch.Generator().manual_seed(7)
    xd = torch.randn(2, 7, 6, 3, generator=gen, dtype=DTYPE)
    kd = torch.randn(3, 2, 3, 2, generator=gen, dtype=DTYPE)
    for strides, padding in [((1, 1), "valid"), ((2, 2), "same"), ((2, 1), "same")]:
        fast = depthwise_nhwc(xd, kd, strides, padding)
        slow = torch.cat([loop_conv2d(xd[..., c:c + 1], kd[:, :, c:c + 1, :], strides, (1, 1), padding) for c in range(3)], dim=3)
        assert torch.allclose(fast, slow, atol=1e-12), (strides, padding)
    # Layer norm over the last axis: every row of the output has mean beta, and unit variance up to epsilon.
    ln = layer_normalization(xd, {"gamma": torch.ones(3, dtype=DTYPE), "beta": torch.zeros(3, dtype=DTYPE)}, {"epsilon": 0.0})
    assert torch.allclose(ln.mean(dim=-1), torch.zeros(2, 7, 6, dtype=DTYPE), atol=1e-12)
    assert torch.allclose((ln ** 2).mean(dim=-1), torch.ones(2, 7, 6, dtype=DTYPE), atol=1e-9)

    # Upsampling and flatten order.
    up = up_sampling2d(torch.tensor([1.0, 2, 3, 4], dtype=DTYPE).reshape(1, 2, 2, 1), {}, {"size": [2, 3]})
    assert up[0, :, :, 0].tolist() == [[1, 1, 1, 2, 2, 2]] * 2 + [[3, 3, 3, 4, 4, 4]] * 2
    fl = flatten(torch.arange(12, dtype=DTYPE).reshape(1, 2, 3, 2), {}, {})
    assert fl.flatten().tolist() == list(range(12))  # channels-last, row-major

    # Padding and cropping sides: [[top, bottom], [left, right]] on NHWC.
    grid = torch.arange(6, dtype=DTYPE).reshape(1, 2, 3, 1)
    padded = zero_padding2d(grid, {}, {"padding": [[1, 0], [0, 2]]})
    assert padded[0, :, :, 0].tolist() == [[0, 0, 0, 0, 0], [0, 1, 2, 0, 0], [3, 4, 5, 0, 0]], padded
    cropped = cropping2d(torch.arange(20, dtype=DTYPE).reshape(1, 4, 5, 1), {}, {"cropping": [[1, 2], [0, 3]]})
    assert cropped[0, :, :, 0].tolist() == [[5, 6]], cropped
    assert leaky_relu(torch.tensor([-2.0, 3.0], dtype=DTYPE), {}, {}).tolist() == [-2.0 * 0.3, 3.0]
    assert list(global_pool(torch.amax, (1, 2))(grid, {}, {"keepdims": True}).shape) == [1, 1, 1, 1]

    # 1-D pooling over a row: same on 5 with pool 2 pads one step after; average excludes it.
    row = torch.tensor([1.0, -3, 2, 5, -4], dtype=DTYPE).reshape(1, 5, 1)
    assert max_pooling1d(row, {}, {"padding": "same"}).flatten().tolist() == [1, 5, -4]
    assert average_pooling1d(row, {}, {"padding": "same"}).flatten().tolist() == [-1, 3.5, -4]
    assert up_sampling1d(row[:, :2], {}, {"size": 3}).flatten().tolist() == [1, 1, 1, -3, -3, -3]

    # The torch layers against the slow loops, over padding/stride/dilation mixes.
    gen = torch.Generator().manual_seed(1234)
    for (h, wd, k, s, d, padding) in [
        (7, 7, (3, 3), (2, 2), (1, 1), "same"), (6, 7, (2, 3), (1, 2), (1, 1), "same"),
        (8, 8, (3, 3), (1, 1), (2, 2), "same"), (7, 6, (5, 5), (1, 1), (1, 1), "valid"),
        (6, 6, (2, 2), (2, 2), (1, 1), "same"), (7, 7, (3, 2), (1, 1), (2, 1), "valid"),
    ]:
        xs = torch.randn(2, h, wd, 2, generator=gen, dtype=DTYPE)
        ks = torch.randn(*k, 2, 3, generator=gen, dtype=DTYPE)
        assert torch.allclose(conv2d_nhwc(xs, ks, s, d, padding), loop_conv2d(xs, ks, s, d, padding), atol=1e-12)
    for (h, wd, k, s, padding) in [
        (3, 3, (3, 3), (2, 2), "same"), (4, 3, (3, 3), (2, 2), "valid"), (3, 4, (2, 2), (2, 2), "same"),
        (3, 3, (1, 1), (2, 2), "valid"), (3, 3, (1, 1), (2, 2), "same"), (3, 2, (3, 2), (1, 1), "same"),
        (2, 3, (5, 5), (2, 2), "same"), (3, 3, (4, 4), (2, 2), "same"),
    ]:
        xs = torch.randn(2, h, wd, 2, generator=gen, dtype=DTYPE)
        ks = torch.randn(*k, 3, 2, generator=gen, dtype=DTYPE)
        y = conv2d_transpose_nhwc(xs, ks, s, padding)
        assert torch.allclose(y, loop_conv2d_transpose(xs, ks, s, padding), atol=1e-12), (h, wd, k, s, padding)
        # The same as the input-gradient of conv2d whose input has the transposed output's length.
        z = torch.zeros(2, y.shape[1], y.shape[2], 3, dtype=DTYPE, requires_grad=True)
        fwd = conv2d_nhwc(z, ks, s, (1, 1), padding)
        assert list(fwd.shape) == list(xs.shape), (fwd.shape, xs.shape)
        (as_gradient,) = torch.autograd.grad(fwd, z, grad_outputs=xs)
        assert torch.allclose(y, as_gradient, atol=1e-12), (h, wd, k, s, padding)
    for o in [{"poolSize": 2, "padding": "same"}, {"poolSize": 3, "strides": 2, "padding": "same"},
              {"poolSize": [2, 3], "strides": [1, 2], "padding": "same"}, {"poolSize": 3, "strides": 2}]:
        xs = torch.randn(2, 7, 6, 2, generator=gen, dtype=DTYPE)
        assert torch.allclose(max_pooling2d(xs, {}, o), loop_pool(xs, o, True), atol=1e-12), o
        assert torch.allclose(average_pooling2d(xs, {}, o), loop_pool(xs, o, False), atol=1e-12), o


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------

def case_grid():
    """(id, kind, options, input shape) for every case, grouped by kind."""
    cases = []

    def add(kind, name, options, shape):
        cases.append((f"{kind}/{name}", kind, options, shape))

    # dense: rank 2, 3 and 4 input × bias × every activation.
    for (rank_name, shape), act, bias in itertools.product(
        [("r2", [2, 4]), ("r3", [2, 3, 4]), ("r4", [2, 2, 3, 4])], ACTIVATIONS, [True, False]
    ):
        add("dense", f"{rank_name}-u3-{act}-{'bias' if bias else 'nobias'}", {"units": 3, "useBias": bias, "activation": act}, shape)
    # The other activations as a dense layer's option (see WIDE_INPUT_ACTIVATIONS for the input scale).
    for act in MORE_ACTIVATIONS:
        add("dense", f"r2-u3-{act}-bias", {"units": 3, "activation": act}, [2, 4])

    # conv1d: odd and even lengths, strides 1–2, valid/same, dilation 2, even kernel, bias off, activations.
    for length, k, s, d, padding in itertools.product([7, 8], [3, 2], [1, 2], [1, 2], ["valid", "same"]):
        if s > 1 and d > 1:
            continue
        opts = {"filters": 2, "kernelSize": k, "strides": s, "padding": padding, "dilationRate": d}
        add("conv1d", f"k{k}-s{s}-d{d}-{padding}-L{length}", opts, [2, length, 3])
    add("conv1d", "k3-s1-same-L7-nobias", {"filters": 2, "kernelSize": 3, "padding": "same", "useBias": False}, [2, 7, 3])
    add("conv1d", "k3-s2-valid-L8-nobias", {"filters": 2, "kernelSize": 3, "strides": 2, "useBias": False}, [2, 8, 3])
    add("conv1d", "k5-s1-same-L6", {"filters": 2, "kernelSize": 5, "padding": "same"}, [2, 6, 2])
    # The study note's example as fixtures too (values fixed in NOTE_CASES).
    add("conv1d", "note-1to5-valid", {"filters": 1, "kernelSize": 3, "useBias": False}, [2, 5, 1])
    add("conv1d", "note-1to5-same", {"filters": 1, "kernelSize": 3, "padding": "same", "useBias": False}, [2, 5, 1])
    for act in ACTIVATIONS[1:]:
        add("conv1d", f"k3-s1-same-L7-{act}", {"filters": 3, "kernelSize": 3, "padding": "same", "activation": act}, [2, 7, 2])

    # conv2d: kernels 3, 2, 5 × strides 1–2 × valid/same × odd/even sizes; dilation 2; bias off; activations.
    for k, s, padding, size in itertools.product([3, 2, 5], [1, 2], ["valid", "same"], [7, 6]):
        opts = {"filters": 2, "kernelSize": k, "strides": s, "padding": padding}
        add("conv2d", f"k{k}-s{s}-{padding}-{size}x{size}", opts, [2, size, size, 2])
    for k, padding, size in itertools.product([3, 2], ["valid", "same"], [7, 8]):
        opts = {"filters": 2, "kernelSize": k, "padding": padding, "dilationRate": 2}
        add("conv2d", f"k{k}-d2-{padding}-{size}x{size}", opts, [2, size, size, 2])
    add("conv2d", "k2x3-s2x1-same-7x8", {"filters": 2, "kernelSize": [2, 3], "strides": [2, 1], "padding": "same"}, [2, 7, 8, 2])
    add("conv2d", "k3x2-d1x2-valid-7x6", {"filters": 2, "kernelSize": [3, 2], "dilationRate": [1, 2]}, [2, 7, 6, 2])
    add("conv2d", "k3-s1-same-7x7-nobias", {"filters": 2, "kernelSize": 3, "padding": "same", "useBias": False}, [2, 7, 7, 2])
    add("conv2d", "k3-s2-valid-6x6-nobias", {"filters": 2, "kernelSize": 3, "strides": 2, "useBias": False}, [2, 6, 6, 2])
    add("conv2d", "k5-s5-valid-5x5-nobias", {"filters": 4, "kernelSize": 5, "strides": 5, "useBias": False}, [2, 5, 5, 3])
    for act in ACTIVATIONS[1:]:
        add("conv2d", f"k3-s1-same-6x6-{act}", {"filters": 3, "kernelSize": 3, "padding": "same", "activation": act}, [2, 6, 6, 1])
    add("conv2d", "k3-s2-same-7x7-relu", {"filters": 2, "kernelSize": 3, "strides": 2, "padding": "same", "activation": "relu"}, [2, 7, 7, 2])
    # Whole blocks of 8 and 16 channels: the channel counts a backend's blocked (NCHWc-style) kernels take.
    add("conv2d", "k3-s1-same-6x6-c16", {"filters": 16, "kernelSize": 3, "padding": "same"}, [2, 6, 6, 16])
    add("conv2d", "k3-d2-valid-8x8-c16to32-nobias", {"filters": 32, "kernelSize": 3, "dilationRate": 2, "useBias": False}, [2, 8, 8, 16])
    add("conv2d", "k3-s2-same-7x7-c16-relu", {"filters": 16, "kernelSize": 3, "strides": 2, "padding": "same", "activation": "relu"}, [2, 7, 7, 16])
    # Whole blocks of input channels, filters short of a block (a blocked kernel pads them with zero filters).
    add("conv2d", "k3-s1-same-6x6-c16to4", {"filters": 4, "kernelSize": 3, "padding": "same"}, [2, 6, 6, 16])
    add("conv2d", "k3-s1-valid-7x7-c32to8-nobias", {"filters": 8, "kernelSize": 3, "useBias": False}, [2, 7, 7, 32])
    # A strided conv over a batch of 18 and 8 channels: a filter gradient formed from transposed operands meets
    # whole 4x4 tiles of (batch, channel), blocks of 16 batch rows, and a tail of 2.
    add("conv2d", "k3-s2-same-6x6-b18-c8to12", {"filters": 12, "kernelSize": 3, "strides": 2, "padding": "same"}, [18, 6, 6, 8])

    # conv2dTranspose: kernels 3 and 2 × strides 1 and 2 × valid/same × odd/even; k < s; bias off; activations.
    for k, s, padding, size in itertools.product([3, 2], [1, 2], ["valid", "same"], [3, 4]):
        opts = {"filters": 2, "kernelSize": k, "strides": s, "padding": padding}
        add("conv2dTranspose", f"k{k}-s{s}-{padding}-{size}x{size}", opts, [2, size, size, 2])
    for padding in ["valid", "same"]:
        add("conv2dTranspose", f"k1-s2-{padding}-3x3", {"filters": 2, "kernelSize": 1, "strides": 2, "padding": padding}, [2, 3, 3, 2])
        add("conv2dTranspose", f"k5-s2-{padding}-3x3", {"filters": 2, "kernelSize": 5, "strides": 2, "padding": padding}, [2, 3, 3, 2])
        add("conv2dTranspose", f"k3x2-s2x1-{padding}-3x4", {"filters": 2, "kernelSize": [3, 2], "strides": [2, 1], "padding": padding}, [2, 3, 4, 2])
    add("conv2dTranspose", "k3-s2-same-3x3-nobias", {"filters": 2, "kernelSize": 3, "strides": 2, "padding": "same", "useBias": False}, [2, 3, 3, 2])
    for act in ACTIVATIONS[1:]:
        add("conv2dTranspose", f"k3-s2-same-3x3-{act}", {"filters": 3, "kernelSize": 3, "strides": 2, "padding": "same", "activation": act}, [2, 3, 3, 2])

    # Pooling: 2×2, 3×3 stride 2, 2×2 stride 1, rectangular; valid/same on odd and even sizes.
    pool_configs = [
        ("p2", {"poolSize": 2}),
        ("p3-s2", {"poolSize": 3, "strides": 2}),
        ("p2-s1", {"poolSize": 2, "strides": 1}),
        ("p2x3-s1x2", {"poolSize": [2, 3], "strides": [1, 2]}),
    ]
    for kind in ["maxPooling2d", "averagePooling2d"]:
        for (name, base), padding, size in itertools.product(pool_configs, ["valid", "same"], [7, 6]):
            add(kind, f"{name}-{padding}-{size}x{size}", {**base, "padding": padding}, [2, size, size, 2])
        add(kind, "p2-same-5x7", {"poolSize": 2, "padding": "same"}, [2, 5, 7, 3])

    # upSampling2d.
    add("upSampling2d", "s2-3x3", {"size": 2}, [2, 3, 3, 2])
    add("upSampling2d", "s2x3-3x2", {"size": [2, 3]}, [2, 3, 2, 2])
    add("upSampling2d", "s3-2x2", {"size": 3}, [2, 2, 2, 1])
    add("upSampling2d", "s1x2-4x3", {"size": [1, 2]}, [2, 4, 3, 3])

    # flatten: channels-last order, from ranks 2 to 4.
    add("flatten", "r4-3x4x2", {}, [2, 3, 4, 2])
    add("flatten", "r3-3x4", {}, [2, 3, 4])
    add("flatten", "r2-5", {}, [2, 5])
    add("flatten", "r4-2x2x3", {}, [2, 2, 2, 3])

    # reshape, including an inferred axis.
    add("reshape", "3x4x2-to-6x4", {"targetShape": [6, 4]}, [2, 3, 4, 2])
    add("reshape", "3x4x2-to-inferred-x2", {"targetShape": [-1, 2]}, [2, 3, 4, 2])
    add("reshape", "12-to-3x2x2", {"targetShape": [3, 2, 2]}, [2, 12])
    add("reshape", "3x4-to-2x3x2", {"targetShape": [2, 3, 2]}, [2, 3, 4])

    # activation layer: each activation on rank 2 and rank 4 (softmax over the last axis).
    for act, (name, shape) in itertools.product(ACTIVATIONS + MORE_ACTIVATIONS, [("r2", [2, 5]), ("r4", [2, 3, 3, 4])]):
        add("activation", f"{act}-{name}", {"activation": act}, shape)
    add("activation", "softmax-r3", {"activation": "softmax"}, [2, 3, 6])

    # leakyRelu: Keras 3's default slope, a small one, 0 (relu) and above 1, on ranks 2 and 4.
    add("leakyRelu", "default-r2", {}, [2, 5])
    add("leakyRelu", "slope0.1-r4", {"negativeSlope": 0.1}, [2, 3, 3, 2])
    add("leakyRelu", "slope0-r2", {"negativeSlope": 0}, [2, 6])
    add("leakyRelu", "slope1.5-r3", {"negativeSlope": 1.5}, [2, 3, 4])

    # zeroPadding2d / cropping2d: int, pair and pair of pairs, uneven sides.
    add("zeroPadding2d", "default-3x4", {}, [2, 3, 4, 2])
    add("zeroPadding2d", "p2-3x3", {"padding": 2}, [2, 3, 3, 1])
    add("zeroPadding2d", "rows1-cols2-3x4", {"padding": [1, 2]}, [2, 3, 4, 2])
    add("zeroPadding2d", "t0b2-l3r1-4x3", {"padding": [[0, 2], [3, 1]]}, [2, 4, 3, 3])
    add("cropping2d", "c1-5x6", {"cropping": 1}, [2, 5, 6, 2])
    add("cropping2d", "rows2-cols0-6x4", {"cropping": [2, 0]}, [2, 6, 4, 2])
    add("cropping2d", "t1b0-l0r2-4x5", {"cropping": [[1, 0], [0, 2]]}, [2, 4, 5, 3])
    add("cropping2d", "t0b3-l2r1-5x5", {"cropping": [[0, 3], [2, 1]]}, [2, 5, 5, 1])

    # Global pooling, with and without keepdims.
    for kind, shapes in [("globalAveragePooling2d", [[2, 3, 4, 2], [2, 5, 5, 3]]), ("globalMaxPooling2d", [[2, 3, 4, 2], [2, 5, 5, 3]]),
                         ("globalAveragePooling1d", [[2, 7, 3], [2, 4, 2]]), ("globalMaxPooling1d", [[2, 7, 3], [2, 4, 2]])]:
        for shape, keep in zip(shapes, [False, True]):
            add(kind, f"{'x'.join(map(str, shape[1:-1]))}x{shape[-1]}{'-keepdims' if keep else ''}", {"keepdims": keep} if keep else {}, shape)

    # 1-D pooling: pool 2, 3 stride 2, 2 stride 1, valid/same on odd and even lengths; upSampling1d.
    for kind in ["maxPooling1d", "averagePooling1d"]:
        for (name, base), padding, length in itertools.product(
            [("p2", {"poolSize": 2}), ("p3-s2", {"poolSize": 3, "strides": 2}), ("p2-s1", {"poolSize": 2, "strides": 1})], ["valid", "same"], [7, 6]
        ):
            add(kind, f"{name}-{padding}-L{length}", {**base, "padding": padding}, [2, length, 2])
    add("upSampling1d", "default-L4", {}, [2, 4, 2])
    add("upSampling1d", "s3-L3", {"size": 3}, [2, 3, 3])

    # depthwiseConv2d: multiplier 1, 2 and 3 × strides 1 and 2 × valid/same on odd and even sizes; rectangular; bias off; activations.
    for m, s, padding, size in itertools.product([1, 2], [1, 2], ["valid", "same"], [7, 6]):
        add("depthwiseConv2d", f"k3-m{m}-s{s}-{padding}-{size}x{size}", {"kernelSize": 3, "depthMultiplier": m, "strides": s, "padding": padding}, [2, size, size, 2])
    add("depthwiseConv2d", "k2x3-m3-s2x1-same-7x8", {"kernelSize": [2, 3], "depthMultiplier": 3, "strides": [2, 1], "padding": "same"}, [2, 7, 8, 3])
    add("depthwiseConv2d", "k2-m2-s2-valid-5x5-nobias", {"kernelSize": 2, "depthMultiplier": 2, "strides": 2, "useBias": False}, [2, 5, 5, 3])
    add("depthwiseConv2d", "k3-m1-s1-same-5x5-c1", {"kernelSize": 3, "padding": "same"}, [2, 5, 5, 1])
    for act in ["relu", "tanh", "sigmoid"]:
        add("depthwiseConv2d", f"k3-m2-s1-same-6x6-{act}", {"kernelSize": 3, "depthMultiplier": 2, "padding": "same", "activation": act}, [2, 6, 6, 2])

    # separableConv2d: multiplier 1 and 2 × strides 1 and 2 × valid/same; rectangular; bias off; activations.
    for m, s, padding in itertools.product([1, 2], [1, 2], ["valid", "same"]):
        add("separableConv2d", f"k3-m{m}-s{s}-{padding}-7x7-f3", {"filters": 3, "kernelSize": 3, "depthMultiplier": m, "strides": s, "padding": padding}, [2, 7, 7, 2])
    add("separableConv2d", "k2x3-m3-s2x1-same-6x7-f2", {"filters": 2, "kernelSize": [2, 3], "depthMultiplier": 3, "strides": [2, 1], "padding": "same"}, [2, 6, 7, 2])
    add("separableConv2d", "k3-m2-s2-same-6x6-f4-nobias", {"filters": 4, "kernelSize": 3, "depthMultiplier": 2, "strides": 2, "padding": "same", "useBias": False}, [2, 6, 6, 3])
    for act in ["relu", "tanh"]:
        add("separableConv2d", f"k3-m2-s1-same-5x5-f3-{act}", {"filters": 3, "kernelSize": 3, "depthMultiplier": 2, "padding": "same", "activation": act}, [2, 5, 5, 2])

    # layerNormalization: the last axis on ranks 2 to 4, a middle axis (positive and negative), without gamma or beta, another epsilon.
    add("layerNormalization", "r2-5", {}, [2, 5])
    add("layerNormalization", "r3-3x4", {}, [2, 3, 4])
    add("layerNormalization", "r4-3x3x4", {}, [2, 3, 3, 4])
    add("layerNormalization", "r3-axis1-3x4", {"axis": 1}, [2, 3, 4])
    add("layerNormalization", "r4-axis-2-3x4x2", {"axis": -2}, [2, 3, 4, 2])
    add("layerNormalization", "r2-6-noscale", {"scale": False}, [2, 6])
    add("layerNormalization", "r2-6-nocenter", {"center": False}, [2, 6])
    add("layerNormalization", "r3-2x5-eps0.1", {"epsilon": 0.1}, [2, 2, 5])
    return cases


# Cases whose input and weights are fixed rather than drawn: the study note's
# [1, 2, 3, 4, 5] * [1, 0, -1] (second row reversed), with the known outputs.
NOTE_INPUT = [[1.0, 2, 3, 4, 5], [5.0, 4, 3, 2, 1]]
NOTE_KERNEL = [1.0, 0, -1]
NOTE_CASES = {
    "conv1d/note-1to5-valid": [[-2, -2, -2], [2, 2, 2]],
    "conv1d/note-1to5-same": [[-2, -2, -2, -2, 4], [-4, 2, 2, 2, 2]],
}


def f32(t):
    """Rounds to the nearest float32 and back, so stored inputs are exactly what a float32 backend sees."""
    return t.to(torch.float32).to(DTYPE)


def draw(shape, gen, scale=1.0):
    return f32(torch.randn(*shape, generator=gen, dtype=DTYPE) * scale)


def kink_distance(kind, x, w, o):
    """How close the case is to a non-differentiable point (relu at 0, a tie in a max window); inf if none."""
    if kind == "leakyRelu":
        return x.abs().min().item()
    if kind in ("globalMaxPooling2d", "globalMaxPooling1d"):
        flat = x.reshape(x.shape[0], -1, x.shape[-1])
        top2 = flat.topk(2, dim=1).values
        return (top2[:, 0] - top2[:, 1]).min().item()
    kinks = ACTIVATION_KINKS.get(o.get("activation"), [])
    if kinks and (kind in PRE_ACTIVATION or kind == "activation"):
        pre = PRE_ACTIVATION[kind](x, w, o) if kind in PRE_ACTIVATION else x
        return min((pre - k).abs().min().item() for k in kinks)
    if kind == "maxPooling1d":
        return kink_distance("maxPooling2d", x.unsqueeze(1), w, as_2d_pool(o))
    if kind == "maxPooling2d":
        k, s, pads = pool_geometry(x, o)
        xc = F.pad(x.permute(0, 3, 1, 2), pads, value=-math.inf)
        windows = F.unfold(xc.reshape(-1, 1, *xc.shape[2:]), k, stride=s)  # [n·c, kh·kw, positions]
        top2 = windows.topk(2, dim=1).values
        return (top2[:, 0] - top2[:, 1]).min().item()
    return math.inf


# Inputs drawn ×4 for these, so that both flat parts (relu6 above 6, hardSigmoid beyond ±3) are reached.
WIDE_INPUT_ACTIVATIONS = {"relu6": 4.0, "hardSigmoid": 4.0}


def make_case(case_id, kind, options, input_shape):
    seed = zlib.crc32(case_id.encode())
    for attempt in range(100):
        gen = torch.Generator().manual_seed(seed + attempt)
        x = draw(input_shape, gen, WIDE_INPUT_ACTIVATIONS.get(options.get("activation"), 1.0))
        weights = {}
        for name, shape in weight_shapes(kind, input_shape, options):
            # Kernel values of a size that keeps outputs O(1); biases non-zero so they matter.
            is_kernel = name.lower().endswith("kernel")
            fan_in = math.prod(shape[:-1]) if is_kernel else 1
            weights[name] = draw(shape, gen, 1.0 / math.sqrt(fan_in) if is_kernel else 0.5)
        if kink_distance(kind, x, weights, options) > KINK_MARGIN:
            break
    else:
        raise RuntimeError(f"{case_id}: no draw kept relu inputs / max-pool ties {KINK_MARGIN} away from the kink")
    if case_id in NOTE_CASES:
        x = torch.tensor(NOTE_INPUT, dtype=DTYPE).reshape(input_shape)
        weights = {"kernel": torch.tensor(NOTE_KERNEL, dtype=DTYPE).reshape(3, 1, 1)}
        assert forward(kind, x, weights, options).reshape(2, -1).tolist() == NOTE_CASES[case_id], case_id

    xg = x.clone().requires_grad_(True)
    wg = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
    y = forward(kind, xg, wg, options)
    target = draw(list(y.shape), gen)
    loss = ((y - target) ** 2).mean()
    grads = torch.autograd.grad(loss, [xg, *wg.values()])
    assert torch.isfinite(y).all() and torch.isfinite(loss)

    check_finite_differences(case_id, kind, options, x, weights, target, grads)
    return {
        "id": case_id,
        "kind": kind,
        "options": options,
        "input": tensor_json(x),
        "weights": [{"name": name, **tensor_json(v)} for name, v in weights.items()],
        "output": tensor_json(y.detach()),
        "target": tensor_json(target),
        "loss": F32Number(loss.item()),
        "gradients": {
            "input": tensor_json(grads[0]),
            "weights": [{"name": name, **tensor_json(g)} for name, g in zip(weights, grads[1:])],
        },
    }


def check_finite_differences(case_id, kind, options, x, weights, target, grads):
    """Central differences of the loss at a few coordinates of the input and of every weight."""
    def loss_at(x_, w_):
        return ((forward(kind, x_, w_, options) - target) ** 2).mean().item()

    gen = torch.Generator().manual_seed(zlib.crc32(case_id.encode()) ^ 0x5F5F)
    tensors = [("input", x)] + list(weights.items())
    for (name, t), g in zip(tensors, grads):
        for _ in range(3):
            i = int(torch.randint(t.numel(), (1,), generator=gen))
            eps = 1e-6
            plus, minus = t.clone(), t.clone()
            plus.view(-1)[i] += eps
            minus.view(-1)[i] -= eps
            if name == "input":
                numeric = (loss_at(plus, weights) - loss_at(minus, weights)) / (2 * eps)
            else:
                numeric = (loss_at(x, {**weights, name: plus}) - loss_at(x, {**weights, name: minus})) / (2 * eps)
            analytic = g.reshape(-1)[i].item()
            assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(analytic)) + 1e-9, (case_id, name, i, numeric, analytic)


# --------------------------------------------------------------------------
# JSON with float32 values as 9-significant-digit text
# --------------------------------------------------------------------------

class F32Number:
    def __init__(self, value):
        self.value = value


class F32Array:
    def __init__(self, values):
        self.values = values


def f32_text(v):
    assert math.isfinite(v), v
    return "%.9g" % v


def tensor_json(t):
    values = t.detach().to(torch.float32).reshape(-1).tolist()
    return {"shape": list(t.shape), "data": F32Array(values)}


def encode(obj, indent=0):
    """JSON with one case field per line and each numeric array on one line."""
    pad = "  " * indent
    inner = "  " * (indent + 1)
    if isinstance(obj, F32Number):
        return f32_text(float(torch.tensor(obj.value, dtype=torch.float32)))
    if isinstance(obj, F32Array):
        return "[" + ",".join(f32_text(v) for v in obj.values) + "]"
    if isinstance(obj, dict):
        nested = any(isinstance(v, dict) or (isinstance(v, list) and any(isinstance(e, dict) for e in v)) for v in obj.values())
        if not nested:
            return "{" + ", ".join(f"{json.dumps(k)}: {encode(v, indent + 1)}" for k, v in obj.items()) + "}"
        body = ",\n".join(f"{inner}{json.dumps(k)}: {encode(v, indent + 1)}" for k, v in obj.items())
        return "{\n" + body + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj):
            return json.dumps(obj)
        body = ",\n".join(inner + encode(v, indent + 1) for v in obj)
        return "[\n" + body + "\n" + pad + "]"
    return json.dumps(obj)


def write_atomically(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; fixtures are ordinary readable files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main():
    torch.set_num_threads(1)
    check_known_answers()
    by_kind = {kind: [] for kind in LAYER_KINDS}
    for case_id, kind, options, shape in case_grid():
        by_kind[kind].append(make_case(case_id, kind, options, shape))
    ids = [c["id"] for cases in by_kind.values() for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    os.makedirs(FIXTURES_DIR, exist_ok=True)
    texts = {}
    for kind, cases in by_kind.items():
        assert cases, f"no cases for {kind}"
        doc = {"generator": GENERATOR, "torch": torch.__version__, "kind": kind, "cases": cases}
        text = encode(doc) + "\n"
        parsed = json.loads(text)  # the output must be plain JSON
        assert len(parsed["cases"]) == len(cases)
        texts[kind] = text
    for kind, text in texts.items():
        path = os.path.join(FIXTURES_DIR, f"{kind}.json")
        write_atomically(path, text)
        print(f"{kind:18s} {len(by_kind[kind]):3d} cases  {len(text.encode()) / 1024:7.1f} KiB  {os.path.relpath(path)}")
    print(f"total {len(ids)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    sys.exit(main())
