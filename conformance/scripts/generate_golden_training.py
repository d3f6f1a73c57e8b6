#!/usr/bin/python3
"""Golden vectors of training semantics and of the layers' edge cases.

Written by this script into conformance/fixtures/training/:

- optimizers.json: every optimizer core defines, several steps of a fixed
  dense(3) model under MSE, with the weights, the slots and the step count
  after each step. The input has an all-zero column (its kernel row gets an
  exact zero gradient at every step) and a column of size 1e-4 (kernel-row
  gradients of size 1e-4, where epsilon's placement decides the update).
- chains.json: short layer chains a backend may lower together (a conv2d
  then a max pooling; a conv2d then a batch normalisation), with the MSE
  gradients of the input and every weight; a chain with a batch
  normalisation (training mode: batch statistics) also gives every weight
  after one SGD step with learning rate 1 (its moving statistics updated as
  generate_golden_state.py's cases do).
- losses.json: every loss core defines. The cross-entropies (binary,
  categorical, sparse) on the probability path (predictions 0, 1, 1e-9, just
  below 1: clipped, zero gradient), the fused logits path (sigmoid/softmax
  outputs 0, 1, 1e-9, 1 - 1e-9, logits 0) and the user's fromLogits (a linear
  output read as logits); MSE, MAE, Huber (two deltas, errors on the bound),
  KL divergence (0, 1e-9, clipped), hinge (0/1 labels mapped to -1/1, and
  signed labels), categorical hinge (tied maxima), log-cosh (tiny and large
  errors), Poisson (0 and 1e-9); errors of 1e-4 throughout. Each goes through
  an identity dense layer so a training step must move its kernel by x^T.g.
  A case's "loss" is a name or {"name", ...options} as core's compile takes it.

- schedules.json: the rate of each learning-rate schedule core defines
  (exponentialDecay, piecewiseConstantDecay, cosineDecay with and without
  warmup) at steps 0..40, Keras 3's formulas in float64; the cosine decay
  without warmup is checked against torch's CosineAnnealingLR.

and into conformance/fixtures/edges/<kind>.json, in the golden layer format
of generate_golden.py: exact ties in max pooling (integer windows, a
saturated digit patch), exact zeros before relu (also through dense/conv
without bias on zero input), dilation 3 with even kernels.

Semantics are core's (packages/core/src/optimizers.ts and losses.ts, which
follow Keras 3), computed in float64 from float32-exact inputs; where a
float32 backend's result is fixed by float32 constants (the clip bounds
float32(1e-7) and float32(1 - 1e-7)), those constants are used, as Keras in
float32 does. Run it from the repository root:

    /usr/bin/python3 conformance/scripts/generate_golden_training.py
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate_golden as gg  # noqa: E402

GENERATOR = "conformance/scripts/generate_golden_training.py"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
TRAINING_DIR = os.path.join(ROOT, "training")
EDGES_DIR = os.path.join(ROOT, "edges")
DTYPE = gg.DTYPE
EPSILON = 1e-7
# The clip bounds as a float32 backend holds them.
CLIP_LO = float(torch.tensor(EPSILON, dtype=torch.float32))
CLIP_HI = float(torch.tensor(1 - EPSILON, dtype=torch.float32))
OPTIMIZER_STEPS = 5


def t64(values):
    return gg.f32(torch.tensor(values, dtype=DTYPE))


def tensor_json(t):
    return gg.tensor_json(t)


# --------------------------------------------------------------------------
# Optimizers (core's formulas, optimizers.ts)
# --------------------------------------------------------------------------

def optimizer_slots(spec):
    kind = spec["kind"]
    if kind == "sgd":
        return ["velocity"] if spec["momentum"] > 0 else []
    return {"adam": ["m", "v"], "adadelta": ["accumulatedGrad", "accumulatedDelta"], "rmsprop": ["velocity"],
            "adagrad": ["accumulator"], "adamax": ["m", "u"], "adamw": ["m", "v"], "nadam": ["m", "v"]}[kind]


def slot_initial_value(spec, slot):
    return spec.get("initialAccumulatorValue", 0.1) if spec["kind"] == "adagrad" and slot == "accumulator" else 0.0


def clip_gradients(spec, grads):
    """Keras 3's clipping: per weight by norm, by the global norm, or by value (at most one is set)."""
    if "clipnorm" in spec:
        c = spec["clipnorm"]
        return [g * c / torch.clamp(torch.sqrt((g * g).sum()), min=c) for g in grads]
    if "globalClipnorm" in spec:
        c = spec["globalClipnorm"]
        norm = torch.sqrt(sum((g * g).sum() for g in grads))
        scale = c * torch.minimum(1 / norm, torch.tensor(1 / c, dtype=norm.dtype))
        return [g * scale for g in grads]
    if "clipvalue" in spec:
        c = spec["clipvalue"]
        return [torch.clamp(g, -c, c) for g in grads]
    return grads


def optimizer_update(spec, w, g, slots, t):
    """One update of weight w with gradient g; slots in optimizer_slots order; t is the step after incrementing."""
    kind, lr = spec["kind"], spec["learningRate"]
    if kind == "sgd":
        if spec["momentum"] == 0:
            return w - lr * g, []
        v = spec["momentum"] * slots[0] - lr * g
        if spec.get("nesterov", False):
            return w + spec["momentum"] * v - lr * g, [v]
        return w + v, [v]
    if kind == "adamw":
        # Decoupled weight decay first (Keras 3's _apply_weight_decay), then Adam.
        w = w - w * (spec["weightDecay"] * lr)
        kind = "adam"
    if kind == "nadam":
        # Keras 3: momentum schedule mu_s = beta1 (1 - 0.5 * 0.96^s), its running product a variable updated before each step.
        b1, b2, eps = spec["beta1"], spec["beta2"], spec["epsilon"]

        def mu(s):
            return b1 * (1 - 0.5 * 0.96 ** s)
        product_t = math.prod(mu(s) for s in range(1, t + 1))
        product_next = product_t * mu(t + 1)
        m = slots[0] + (g - slots[0]) * (1 - b1)
        v = slots[1] + (g * g - slots[1]) * (1 - b2)
        m_hat = mu(t + 1) * m / (1 - product_next) + (1 - mu(t)) * g / (1 - product_t)
        v_hat = v / (1 - b2 ** t)
        return w - m_hat * lr / (torch.sqrt(v_hat) + eps), [m, v]
    if kind == "adagrad":
        a = slots[0] + g * g
        return w - lr * g / torch.sqrt(a + spec["epsilon"]), [a]
    if kind == "adamax":
        b1, b2, eps = spec["beta1"], spec["beta2"], spec["epsilon"]
        m = b1 * slots[0] + (1 - b1) * g
        u = torch.maximum(b2 * slots[1], g.abs())
        return w - lr * m / ((1 - b1 ** t) * (u + eps)), [m, u]
    if kind == "adam":
        b1, b2, eps = spec["beta1"], spec["beta2"], spec["epsilon"]
        m = b1 * slots[0] + (1 - b1) * g
        v = b2 * slots[1] + (1 - b2) * g * g
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - alpha * m / (torch.sqrt(v) + eps), [m, v]
    if kind == "adadelta":
        rho, eps = spec["rho"], spec["epsilon"]
        a = rho * slots[0] + (1 - rho) * g * g
        delta = torch.sqrt(slots[1] + eps) / torch.sqrt(a + eps) * g
        d = rho * slots[1] + (1 - rho) * delta * delta
        return w - lr * delta, [a, d]
    if kind == "rmsprop":
        rho, eps = spec["rho"], spec["epsilon"]
        v = rho * slots[0] + (1 - rho) * g * g
        return w - lr * g / torch.sqrt(v + eps), [v]
    raise ValueError(kind)


OPTIMIZER_CASES = [
    ("sgd", {"kind": "sgd", "learningRate": 0.1, "momentum": 0}),
    ("sgd-momentum", {"kind": "sgd", "learningRate": 0.1, "momentum": 0.9}),
    ("adam", {"kind": "adam", "learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}),
    ("adam-b0.8-0.99-eps1e-4", {"kind": "adam", "learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-4}),
    ("adadelta", {"kind": "adadelta", "learningRate": 1.0, "rho": 0.95, "epsilon": 1e-7}),
    ("adadelta-rho0.7-eps1e-3", {"kind": "adadelta", "learningRate": 0.5, "rho": 0.7, "epsilon": 1e-3}),
    ("rmsprop", {"kind": "rmsprop", "learningRate": 0.01, "rho": 0.9, "epsilon": 1e-7}),
    ("rmsprop-rho0.5-eps1e-4", {"kind": "rmsprop", "learningRate": 0.01, "rho": 0.5, "epsilon": 1e-4}),
    ("sgd-nesterov", {"kind": "sgd", "learningRate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("adagrad", {"kind": "adagrad", "learningRate": 0.1, "initialAccumulatorValue": 0.1, "epsilon": 1e-7}),
    # Accumulator from 0: with gradients of 1e-4, g/sqrt(a + eps) and g/(sqrt(a) + eps) differ by far more than the tolerance.
    ("adagrad-init0-eps1e-6", {"kind": "adagrad", "learningRate": 0.01, "initialAccumulatorValue": 0.0, "epsilon": 1e-6}),
    ("adamax", {"kind": "adamax", "learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}),
    ("adamax-eps1e-4", {"kind": "adamax", "learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-4}),
    ("nadam", {"kind": "nadam", "learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}),
    ("nadam-b0.8-0.99-eps1e-4", {"kind": "nadam", "learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-4}),
    ("adamw", {"kind": "adamw", "learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "weightDecay": 0.5}),
    ("sgd-momentum-clipnorm0.3", {"kind": "sgd", "learningRate": 0.1, "momentum": 0.9, "nesterov": False, "clipnorm": 0.3}),
    ("adam-clipvalue0.05", {"kind": "adam", "learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "clipvalue": 0.05}),
    ("rmsprop-globalClipnorm0.4", {"kind": "rmsprop", "learningRate": 0.01, "rho": 0.9, "epsilon": 1e-7, "globalClipnorm": 0.4}),
]


def optimizer_problem():
    """dense(3, bias) on 4 features, batch 4, MSE. Column 1 is zero, column 2 is of size 1e-4."""
    gen = torch.Generator().manual_seed(1515)
    x = gg.draw([4, 4], gen)
    x[:, 1] = 0.0
    x[:, 2] = gg.f32(x[:, 2] * 1e-4)
    y = gg.draw([4, 3], gen)
    kernel = gg.draw([4, 3], gen, 0.5)
    bias = gg.draw([3], gen, 0.5)
    return x, y, kernel, bias


def mse_and_grads(x, y, weights):
    wg = [w.clone().requires_grad_(True) for w in weights]
    out = torch.matmul(x, wg[0]) + wg[1]
    loss = ((out - y) ** 2).mean()
    grads = torch.autograd.grad(loss, wg)
    return loss.item(), [g.detach() for g in grads]


def run_optimizer(spec, x, y, weights, steps, dtype):
    """The whole sequence in `dtype`; returns one record per step."""
    x, y = x.to(dtype), y.to(dtype)
    weights = [w.to(dtype) for w in weights]
    slots = [[torch.full_like(w, slot_initial_value(spec, name)) for name in optimizer_slots(spec)] for w in weights]
    records = []
    for t in range(1, steps + 1):
        loss, grads = mse_and_grads(x, y, weights)
        clipped = clip_gradients(spec, grads)
        new = [optimizer_update(spec, w, g, s, t) for w, g, s in zip(weights, clipped, slots)]
        weights = [n[0] for n in new]
        slots = [n[1] for n in new]
        records.append({"loss": loss, "gradients": grads, "weights": weights, "slots": slots})
    return records


def relative_gap(a, e):
    scale = e.abs().max().item()
    return ((a - e).abs() / (e.abs() + scale + 1e-30)).max().item()


def optimizer_case(name, spec):
    x, y, kernel, bias = optimizer_problem()
    weights = [kernel, bias]
    exact = run_optimizer(spec, x, y, weights, OPTIMIZER_STEPS, DTYPE)
    # A float32 run of the same sequence must stay well inside the suite's
    # tolerances, or the case is ill-conditioned for a float32 backend.
    single = run_optimizer(spec, x, y, weights, OPTIMIZER_STEPS, torch.float32)
    for k, (e, s) in enumerate(zip(exact, single)):
        for w0, we, ws in zip(weights, e["weights"], s["weights"]):
            gap = relative_gap((w0.float() - ws).double(), w0 - we)
            assert gap < 1e-4, (name, k, "update", gap)
        for se, ss in zip(e["slots"], s["slots"]):
            for a, b in zip(se, ss):
                assert relative_gap(b.double(), a) < 1e-5, (name, k, "slot")
    assert (exact[0]["gradients"][0][1] == 0).all(), "kernel row 1 must get exact zero gradients"
    tiny = exact[0]["gradients"][0][2].abs()
    assert 1e-6 < tiny.max().item() < 1e-3, ("kernel row 2 gradients must be of size 1e-4", tiny)
    names = ["kernel", "bias"]
    slot_names = optimizer_slots(spec)
    return {
        "id": name,
        "optimizer": spec,
        "input": tensor_json(x),
        "target": tensor_json(y),
        "weights": [{"name": n, **tensor_json(w)} for n, w in zip(names, weights)],
        "slotNames": slot_names,
        "steps": [
            {
                "step": k + 1,
                "loss": gg.F32Number(r["loss"]),
                "gradients": [{"name": n, **tensor_json(g)} for n, g in zip(names, r["gradients"])],
                "weights": [{"name": n, **tensor_json(w)} for n, w in zip(names, r["weights"])],
                "slots": [[{"name": sn, **tensor_json(s)} for sn, s in zip(slot_names, ws)] for ws in r["slots"]],
            }
            for k, r in enumerate(exact)
        ],
    }


# --------------------------------------------------------------------------
# Losses (core's formulas, losses.ts), through an identity dense layer
# --------------------------------------------------------------------------

def bce_probabilities(p, y):
    pc = torch.clamp(p, CLIP_LO, CLIP_HI)
    return -(y * torch.log(pc) + (1 - y) * torch.log(1 - pc)).mean()


def bce_logits(z, y):
    # torch's own op: its gradient is sigmoid(z) - y everywhere, z = 0 included.
    return F.binary_cross_entropy_with_logits(z, y, reduction="mean")


def cce_probabilities(p, y):
    q = torch.clamp(p / p.sum(-1, keepdim=True), CLIP_LO, CLIP_HI)
    return -(y * torch.log(q)).sum(-1).mean()


def cce_logits(z, y):
    return -(y * torch.log_softmax(z, -1)).sum(-1).mean()


def mse(p, y):
    return ((p - y) ** 2).mean()


def one_hot(labels, classes):
    return F.one_hot(labels.to(torch.int64), classes).to(DTYPE)


def mae(p, y):
    # torch's abs has gradient sign(x), 0 at 0, as core's.
    return (p - y).abs().mean()


def huber(delta):
    def f(p, y):
        e = p - y
        a = e.abs()
        return torch.where(a <= delta, 0.5 * e * e, delta * a - 0.5 * delta * delta).mean()
    return f


def kld(p, y):
    # clamp's gradient flows on the closed range [lo, hi], as core's Clip.
    yc = torch.clamp(y, CLIP_LO, 1.0)
    pc = torch.clamp(p, CLIP_LO, 1.0)
    return (yc * torch.log(yc / pc)).sum(-1).mean()


def hinge(p, y):
    if bool(((y == 0) | (y == 1)).all()):
        y = 2 * y - 1
    # clamp(min=0) lets the gradient through where 1 - y*p >= 0, as core's.
    return torch.clamp(1 - y * p, min=0).mean()


def categorical_hinge(p, y):
    # amax shares the gradient equally among tied maxima, as core's.
    neg = ((1 - y) * p).amax(-1)
    pos = (y * p).sum(-1)
    return torch.clamp(neg - pos + 1, min=0).mean()


def log_cosh(p, y):
    e = p - y
    # e + softplus(-2e) - log 2, softplus exactly (torch's has a linear cut-off at 20).
    return (e + torch.logaddexp(torch.zeros_like(e), -2 * e) - math.log(2)).mean()


def poisson(p, y):
    return (p - y * torch.log(p + CLIP_LO)).mean()


def loss_spec(loss):
    """A case's loss as (name, options): a name or {"name", ...options}."""
    return (loss, {}) if isinstance(loss, str) else (loss["name"], {k: v for k, v in loss.items() if k != "name"})


def loss_function(loss, activation):
    """The loss of a case on the dense layer's output (the logits when the activation is fused or fromLogits is set)."""
    name, options = loss_spec(loss)
    logits = activation != "linear" or options.get("fromLogits", False)
    if name == "sparseCategoricalCrossentropy":
        dense = cce_logits if logits else cce_probabilities
        return lambda out, labels: dense(out, one_hot(labels, out.shape[-1]))
    if name in ("binaryCrossentropy", "categoricalCrossentropy"):
        return LOSS_FUNCTIONS[(name, "logits" if logits else "probabilities")]
    assert not logits, loss
    if name == "huber":
        return huber(options.get("delta", 1.0))
    return LOSS_FUNCTIONS[(name, "probabilities")]


SIGMOID_OF = {"0": -50.0, "1": 50.0, "1e-9": math.log(1e-9 / (1 - 1e-9)), "1-1e-9": math.log((1 - 1e-9) / 1e-9)}
# The largest float32 below 1: above the clip bound float32(1 - 1e-7).
BELOW_ONE = 1 - 2 ** -24


def loss_cases():
    z = SIGMOID_OF
    return [
        # Probability path: the layer before the loss is linear.
        ("binaryCrossentropy/probabilities-extremes", "binaryCrossentropy", "linear",
         [[0.0, 1.0, 1e-9, BELOW_ONE, 0.3, 0.999, 1e-3, 0.5],
          [0.0, 1.0, 1e-9, BELOW_ONE, 0.7, 2e-3, 0.9, 0.25]],
         [[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5],
          [0.0, 1.0, 0.0, 1.0, 0.2, 1.0, 0.0, 0.5]]),
        ("binaryCrossentropy/logits-extremes", "binaryCrossentropy", "sigmoid",
         [[z["0"], z["1"], z["1e-9"], z["1-1e-9"], 0.0, 1.5, -3.0, 0.25],
          [z["0"], z["1"], z["1e-9"], z["1-1e-9"], 0.0, -0.75, 4.0, -20.0]],
         [[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5],
          [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.3, 1.0]]),
        # Rank 3: the categorical reduction is a sum over the last axis, then a mean over the other two.
        ("categoricalCrossentropy/probabilities-extremes", "categoricalCrossentropy", "linear",
         [[[0.7, 0.2, 0.1, 0.0], [1.0, 0.0, 0.0, 0.0]],
          [[1e-9, 0.5, 0.25, 0.25], [2.0, 1.0, 0.5, 0.5]],
          [[BELOW_ONE, 1e-9, 1e-9, 1e-9], [0.1, 0.2, 0.3, 0.4]]],
         [[[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]],
          [[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]],
          [[0.0, 1.0, 0.0, 0.0], [0.0, 0.5, 0.0, 0.5]]]),
        ("categoricalCrossentropy/logits-extremes", "categoricalCrossentropy", "softmax",
         [[[50.0, 0.0, -50.0, 1.0], [0.0, 0.0, 0.0, 0.0]],
          [[z["1e-9"], 0.0, 0.0, 0.0], [3.0, -1.0, 0.5, 2.0]],
          [[-40.0, 40.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]]],
         [[[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]],
          [[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]],
          [[1.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.0, 0.5]]]),
        ("meanSquaredError/rank3", "meanSquaredError", "linear",
         [[[0.5, -1.0], [2.0, 0.0], [0.25, 3.0]], [[-0.5, 1.5], [0.0, 0.0], [1.0, -2.0]]],
         [[[0.5, 0.0], [1.0, 0.0], [-0.25, 1.0]], [[0.5, 1.5], [0.0, 1.0], [0.0, 0.0]]]),
        # The user's fromLogits: a linear output read as logits.
        ("binaryCrossentropy/from-logits", {"name": "binaryCrossentropy", "fromLogits": True}, "linear",
         [[z["0"], z["1"], z["1e-9"], z["1-1e-9"], 0.0, 1.5, -3.0, 1e-4],
          [z["0"], z["1"], 0.0, -1e-4, 0.0, -0.75, 4.0, -20.0]],
         [[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5],
          [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.3, 1.0]]),
        ("categoricalCrossentropy/from-logits", {"name": "categoricalCrossentropy", "fromLogits": True}, "linear",
         [[50.0, 0.0, -50.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1e-4, 0.0, -1e-4, 0.0], [3.0, -1.0, 0.5, 2.0]],
         [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.5, 0.0, 0.5]]),
        # Sparse: integer labels without the class axis.
        ("sparseCategoricalCrossentropy/probabilities-extremes", "sparseCategoricalCrossentropy", "linear",
         [[0.7, 0.2, 0.1, 0.0], [1.0, 0.0, 0.0, 0.0], [1e-9, 0.5, 0.25, 0.25], [BELOW_ONE, 1e-9, 1e-9, 1e-9], [2.0, 1.0, 0.5, 0.5]],
         [3.0, 0.0, 0.0, 1.0, 2.0]),
        ("sparseCategoricalCrossentropy/logits-extremes", "sparseCategoricalCrossentropy", "softmax",
         [[[50.0, 0.0, -50.0, 1.0], [0.0, 0.0, 0.0, 0.0]],
          [[z["1e-9"], 0.0, 0.0, 0.0], [3.0, -1.0, 0.5, 2.0]],
          [[-40.0, 40.0, 0.0, 0.0], [1e-4, 0.0, 0.0, -1e-4]]],
         [[2.0, 0.0], [0.0, 3.0], [0.0, 1.0]]),
        ("sparseCategoricalCrossentropy/from-logits", {"name": "sparseCategoricalCrossentropy", "fromLogits": True}, "linear",
         [[50.0, 0.0, -50.0], [0.0, 0.0, 0.0], [1e-4, -1e-4, 0.0], [-3.0, 2.0, 0.5]],
         [2.0, 0.0, 1.0, 1.0]),
        ("meanAbsoluteError/edges", "meanAbsoluteError", "linear",
         [[0.5, -1.0, 2.0, 1e-4], [0.0, 3.0, -2.5, 1.0]],
         [[0.5, 0.0, 1.0, 0.0], [-1e-4, 3.0, 0.0, 1.0]]),
        ("huber/delta-1", "huber", "linear",
         [[1.0, -1.0, 2.5, 1e-4], [0.0, 0.75, -4.0, 0.5]],
         [[0.0, 0.0, 0.0, 0.0], [0.0, -0.5, 0.0, 0.5]]),
        ("huber/delta-0.5", {"name": "huber", "delta": 0.5}, "linear",
         [[0.5, -0.5, 2.0, 1e-4], [0.25, 1.0, -3.0, 0.0]],
         [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]),
        ("kullbackLeiblerDivergence/extremes", "kullbackLeiblerDivergence", "linear",
         [[0.7, 0.2, 0.1, 0.0], [1.0, 0.0, 0.0, 0.0], [1e-9, 0.5, 0.25, 0.25], [0.25, 0.25, 0.2501, 0.2499]],
         [[0.5, 0.25, 0.25, 0.0], [0.0, 1.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]]),
        ("hinge/binary-labels", "hinge", "linear",
         [[1.0, -1.0, 0.5, 1e-4, 3.0], [-2.0, 0.25, -1e-4, 0.0, -0.5]],
         [[1.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0, 0.0]]),
        ("hinge/signed-labels", "hinge", "linear",
         [[1.0, -1.0, 0.5, 1e-4, 3.0], [-2.0, 0.25, -1e-4, 0.0, -0.5]],
         [[1.0, -1.0, 1.0, 1.0, -1.0], [-1.0, 1.0, 0.5, 1.0, -1.0]]),
        ("categoricalHinge/ties", "categoricalHinge", "linear",
         [[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1], [0.1, 0.4, 0.4, 0.1], [3.0, 0.0, 0.0, 0.0], [1e-4, 0.0, 2e-4, 0.0]],
         [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]),
        ("logCosh/rank3", "logCosh", "linear",
         [[[0.0, 1e-4], [1.0, -1.0], [30.0, -30.0]], [[2.5, 0.5], [-1e-4, 0.0], [100.0, -0.25]]],
         [[[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 1.0], [0.0, 0.5]]]),
        ("poisson/edges", "poisson", "linear",
         [[0.0, 1e-9, 1.0, 5.0], [2.0, 0.5, 1e-4, 3.0]],
         [[0.0, 1.0, 1.0, 3.0], [0.0, 2.0, 0.0, 3.0]]),
    ]


# --------------------------------------------------------------------------
# Per-sample weights (Keras 3's reduce_weighted_values, 'sum_over_batch_size'):
# each sample's loss terms times its weight, summed, divided by the number of
# terms (not by the sum of the weights).
# --------------------------------------------------------------------------

def mse_terms(p, y):
    return (p - y) ** 2


def bce_probability_terms(p, y):
    pc = torch.clamp(p, CLIP_LO, CLIP_HI)
    return -(y * torch.log(pc) + (1 - y) * torch.log(1 - pc))


def bce_logit_terms(z, y):
    return F.binary_cross_entropy_with_logits(z, y, reduction="none")


def cce_probability_terms(p, y):
    q = torch.clamp(p / p.sum(-1, keepdim=True), CLIP_LO, CLIP_HI)
    return -(y * torch.log(q)).sum(-1)


def cce_logit_terms(z, y):
    return -(y * torch.log_softmax(z, -1)).sum(-1)


WEIGHTED_TERMS = {
    ("meanSquaredError", False): mse_terms,
    ("binaryCrossentropy", False): bce_probability_terms,
    ("binaryCrossentropy", True): bce_logit_terms,
    ("categoricalCrossentropy", False): cce_probability_terms,
    ("categoricalCrossentropy", True): cce_logit_terms,
}


def weighted_loss_function(loss, activation, w):
    """The loss with per-sample weights w ([N]): Σ w·terms / number of terms."""
    name, options = loss_spec(loss)
    logits = activation != "linear" or options.get("fromLogits", False)
    if name == "sparseCategoricalCrossentropy":
        terms = lambda out, labels: WEIGHTED_TERMS[("categoricalCrossentropy", logits)](out, one_hot(labels, out.shape[-1]))
    else:
        terms = WEIGHTED_TERMS[(name, logits)]

    def f(out, y):
        t = terms(out, y)
        return (t * w.reshape([-1] + [1] * (t.dim() - 1))).sum() / t.numel()
    return f


def class_sample_weights(y, class_weight):
    """Keras's class_weight → sample weights: argmax of one-hot rows, else the rounded label; missing classes weigh 1."""
    classes = y.argmax(-1) if y.dim() == 2 and y.shape[-1] > 1 else torch.round(y.reshape(-1))
    return t64([class_weight.get(int(c), 1.0) for c in classes.tolist()])


def weighted_loss_cases():
    z = SIGMOID_OF
    return [
        ("meanSquaredError/sample-weights", "meanSquaredError", "linear",
         [[0.5, -1.0, 2.0], [0.0, 3.0, -0.5], [1.5, 0.25, 0.0], [-2.0, 1.0, 4.0]],
         [[0.0, 0.0, 1.0], [1.0, 2.0, 0.0], [1.0, 1.0, 1.0], [0.0, -1.0, 3.0]],
         {"sampleWeight": [2.0, 0.0, 0.5, 1.0]}),
        ("meanSquaredError/rank3-sample-weights", "meanSquaredError", "linear",
         [[[0.5, -1.0], [2.0, 0.0], [0.25, 3.0]], [[-0.5, 1.5], [0.0, 0.0], [1.0, -2.0]]],
         [[[0.5, 0.0], [1.0, 0.0], [-0.25, 1.0]], [[0.5, 1.5], [0.0, 1.0], [0.0, 0.0]]],
         {"sampleWeight": [3.0, 0.25]}),
        ("binaryCrossentropy/sample-weights", "binaryCrossentropy", "linear",
         [[0.9, 0.2, 1e-9, 0.5], [0.3, BELOW_ONE, 0.6, 0.1], [0.7, 0.4, 0.2, 0.95]],
         [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.5, 1.0]],
         {"sampleWeight": [0.0, 1.5, 4.0]}),
        ("binaryCrossentropy/logits-sample-weights", "binaryCrossentropy", "sigmoid",
         [[z["0"], 1.5, -3.0, 0.0], [2.0, -0.75, 4.0, 0.25], [0.5, z["1"], -1.0, 1e-4]],
         [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.3, 1.0], [1.0, 1.0, 0.0, 0.5]],
         {"sampleWeight": [1.0, 0.0, 2.5]}),
        ("categoricalCrossentropy/sample-weights", "categoricalCrossentropy", "linear",
         [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [1e-9, 0.5, 0.5]],
         [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
         {"sampleWeight": [0.5, 2.0, 0.0, 1.0]}),
        ("categoricalCrossentropy/logits-sample-weights", "categoricalCrossentropy", "softmax",
         [[2.0, 0.0, -1.0], [0.5, 1.5, -0.5], [-3.0, 0.0, 3.0], [0.0, 0.0, 0.0]],
         [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.25, 0.5, 0.25], [0.0, 1.0, 0.0]],
         {"sampleWeight": [1.0, 3.0, 0.0, 0.5]}),
        # classWeight: the weights come from the targets (argmax of one-hot rows; labels of sparse ones); class 1 unnamed weighs 1.
        ("categoricalCrossentropy/class-weights", "categoricalCrossentropy", "softmax",
         [[2.0, 0.0, -1.0], [0.5, 1.5, -0.5], [-3.0, 0.0, 3.0], [0.0, 0.0, 0.0], [1.0, -1.0, 0.5]],
         [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
         {"classWeight": {0: 3.0, 2: 0.0}}),
        ("sparseCategoricalCrossentropy/class-weights", "sparseCategoricalCrossentropy", "softmax",
         [[2.0, 0.0, -1.0], [0.5, 1.5, -0.5], [-3.0, 0.0, 3.0], [0.0, 0.0, 0.0]],
         [2.0, 1.0, 0.0, 2.0],
         {"classWeight": {1: 0.5, 2: 2.0}}),
    ]


LOSS_FUNCTIONS = {
    ("binaryCrossentropy", "probabilities"): bce_probabilities,
    ("binaryCrossentropy", "logits"): bce_logits,
    ("categoricalCrossentropy", "probabilities"): cce_probabilities,
    ("categoricalCrossentropy", "logits"): cce_logits,
    ("meanSquaredError", "probabilities"): mse,
    ("meanAbsoluteError", "probabilities"): mae,
    ("kullbackLeiblerDivergence", "probabilities"): kld,
    ("hinge", "probabilities"): hinge,
    ("categoricalHinge", "probabilities"): categorical_hinge,
    ("logCosh", "probabilities"): log_cosh,
    ("poisson", "probabilities"): poisson,
}


def loss_case(case_id, loss, activation, x, y, weighting=None):
    x, y = t64(x), t64(y)
    c = x.shape[-1]
    kernel = torch.eye(c, dtype=DTYPE)
    bias = torch.zeros(c, dtype=DTYPE)
    xg, kg, bg = (t.clone().requires_grad_(True) for t in (x, kernel, bias))
    out = torch.matmul(xg, kg) + bg
    extra = {}
    if weighting is None:
        value = loss_function(loss, activation)(out, y)
    else:
        if "classWeight" in weighting:
            w = class_sample_weights(y, weighting["classWeight"])
            extra["classWeight"] = {str(k): v for k, v in weighting["classWeight"].items()}
        else:
            w = t64(weighting["sampleWeight"])
        assert w.shape == (x.shape[0],), f"{case_id}: one weight per sample"
        extra["sampleWeight"] = tensor_json(w)
        value = weighted_loss_function(loss, activation, w)(out, y)
    grads = torch.autograd.grad(value, [xg, kg, bg])
    assert math.isfinite(value.item()) and all(torch.isfinite(g).all() for g in grads), case_id
    if activation == "linear" and loss in ("binaryCrossentropy", "kullbackLeiblerDivergence"):
        clipped = (x < CLIP_LO) | (x > (CLIP_HI if loss == "binaryCrossentropy" else 1.0))
        if clipped is not None:
            assert clipped.any() and (grads[0][clipped] == 0).all(), f"{case_id}: a clipped prediction must get a zero gradient"
    predictions = activation_of(out.detach(), activation)
    return {
        "id": case_id,
        "loss": loss,
        "activation": activation,
        "input": tensor_json(x),
        "target": tensor_json(y),
        "predictions": tensor_json(predictions),
        **extra,
        "value": gg.F32Number(value.item()),
        "gradients": {
            "input": tensor_json(grads[0]),
            "weights": [{"name": "kernel", **tensor_json(grads[1])}, {"name": "bias", **tensor_json(grads[2])}],
        },
    }


def activation_of(x, name):
    return gg.activate(x, name)


# --------------------------------------------------------------------------
# Layer edge cases (the golden layer format): ties, relu at 0, dilation 3
# --------------------------------------------------------------------------

def first_max_pool_gradient(x, o, upstream):
    """dLoss/dx of max pooling by the rule every backend must follow: each window's first maximum in row-major order gets the gradient."""
    n, h, wd, ch = x.shape
    k = gg.pair(o.get("poolSize", 2))
    s = gg.pair(o.get("strides", o.get("poolSize", 2)))
    padding = o.get("padding", "valid")
    ph, pw = gg.axis_padding(h, k[0], s[0], 1, padding), gg.axis_padding(wd, k[1], s[1], 1, padding)
    oh, ow = upstream.shape[1], upstream.shape[2]
    grad = torch.zeros_like(x)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for c in range(ch):
                    best = None
                    for r in range(i * s[0] - ph[0], i * s[0] - ph[0] + k[0]):
                        for q in range(j * s[1] - pw[0], j * s[1] - pw[0] + k[1]):
                            if 0 <= r < h and 0 <= q < wd and (best is None or x[b, r, q, c] > x[best[0], best[1], best[2], c]):
                                best = (b, r, q)
                    grad[best[0], best[1], best[2], c] += upstream[b, i, j, c]
    return grad


def saturated_patch():
    """A 7x7 patch of a digit stroke as the MNIST loader gives it (pixel/255), with its saturated 255s: ties of 1.0."""
    rows = [
        [0, 0, 38, 254, 255, 255, 125],
        [0, 19, 221, 255, 255, 255, 255],
        [0, 128, 255, 255, 198, 255, 255],
        [37, 252, 255, 81, 0, 170, 255],
        [121, 255, 255, 0, 0, 57, 255],
        [255, 255, 143, 0, 0, 0, 0],
        [255, 255, 0, 0, 0, 0, 0],
    ]
    return [[[v / 255.0] for v in row] for row in rows]


def edge_grid():
    gen = torch.Generator().manual_seed(15)
    ints = lambda shape, hi: torch.randint(0, hi, shape, generator=gen).to(DTYPE)  # noqa: E731
    cases = []

    def add(kind, name, options, x, weights=None):
        cases.append((f"{kind}/{name}", kind, options, x, weights or {}))

    # Max pooling on integer-valued windows: many exact ties, overlapping windows, same padding.
    add("maxPooling2d", "ties-int-p2-valid-6x6", {"poolSize": 2}, ints([2, 6, 6, 2], 3))
    add("maxPooling2d", "ties-int-p3-s2-same-7x7", {"poolSize": 3, "strides": 2, "padding": "same"}, ints([2, 7, 7, 2], 3))
    add("maxPooling2d", "ties-int-p2-s1-same-5x5", {"poolSize": 2, "strides": 1, "padding": "same"}, ints([2, 5, 5, 1], 2))
    add("maxPooling2d", "ties-all-equal-p2x3-s1x2-6x6", {"poolSize": [2, 3], "strides": [1, 2]}, torch.ones(1, 6, 6, 2, dtype=DTYPE))
    patch = gg.f32(torch.tensor([saturated_patch()], dtype=DTYPE))
    add("maxPooling2d", "ties-saturated-digit-p2-same-7x7", {"poolSize": 2, "padding": "same"}, patch)
    add("maxPooling2d", "ties-saturated-digit-p3-s1-valid-7x7", {"poolSize": 3, "strides": 1}, patch)

    # relu at exactly 0: zeros in the activation's input, and pre-activations that are 0 because the input is.
    zx = gg.f32(torch.tensor([[0.0, -1.5, 0.0, 2.0, 0.0], [0.0, 0.0, -0.25, 0.0, 0.75]], dtype=DTYPE))
    add("activation", "relu-exact-zeros-r2", {"activation": "relu"}, zx)
    zx4 = ints([2, 3, 3, 2], 3) - 1.0
    add("activation", "relu-exact-zeros-r4", {"activation": "relu"}, zx4)
    dx = gg.draw([3, 4], gen)
    dx[1] = 0.0
    add("dense", "relu-nobias-zero-row", {"units": 3, "useBias": False, "activation": "relu"}, dx)
    cx = gg.draw([2, 7, 2], gen)
    cx[0, 2:6] = 0.0
    add("conv1d", "relu-nobias-zero-span-k3-same", {"filters": 2, "kernelSize": 3, "padding": "same", "useBias": False, "activation": "relu"}, cx)
    c2 = gg.draw([2, 6, 6, 2], gen)
    c2[0, 1:5, 1:5] = 0.0
    c2[1] = 0.0
    add("conv2d", "relu-nobias-zero-patch-k3-same", {"filters": 2, "kernelSize": 3, "padding": "same", "useBias": False, "activation": "relu"}, c2)

    # The other kinks, exactly on them (TensorFlow's derivatives): relu6′ 0 at 0 and 6, hardSigmoid′ 0 at ±3,
    # elu′(0) = 1, selu′(0) = λ.
    kx = gg.f32(torch.tensor([[0.0, 6.0, -1.5, 3.0, 7.25], [6.0, 0.0, 2.5, -0.5, 0.0]], dtype=DTYPE))
    add("activation", "relu6-exact-kinks-r2", {"activation": "relu6"}, kx)
    hx = gg.f32(torch.tensor([[-3.0, 3.0, 0.0, -4.5, 1.25], [3.0, -3.0, 5.0, -0.75, 3.0]], dtype=DTYPE))
    add("activation", "hardSigmoid-exact-kinks-r2", {"activation": "hardSigmoid"}, hx)
    ex = gg.f32(torch.tensor([[0.0, -1.5, 0.0, 2.0, 0.0], [0.0, 0.0, -0.25, 0.0, 0.75]], dtype=DTYPE))
    add("activation", "elu-exact-zeros-r2", {"activation": "elu"}, ex)
    add("activation", "selu-exact-zeros-r2", {"activation": "selu"}, ex)

    # Dilation 3 with even kernels: `same` pads (k-1)*3 = 3 or 9, an odd total, so the sides differ.
    for k, length, padding in [(2, 9, "same"), (4, 10, "same"), (2, 9, "valid"), (4, 12, "valid")]:
        add("conv1d", f"k{k}-d3-{padding}-L{length}", {"filters": 2, "kernelSize": k, "dilationRate": 3, "padding": padding}, gg.draw([2, length, 2], gen))
    for k, size, padding in [(2, 8, "same"), ([4, 2], 9, "same"), (2, 8, "valid"), ([2, 4], 10, "valid")]:
        kname = f"{k[0]}x{k[1]}" if isinstance(k, list) else str(k)
        add("conv2d", f"k{kname}-d3-{padding}-{size}x{size}", {"filters": 2, "kernelSize": k, "dilationRate": 3, "padding": padding}, gg.draw([2, size, size, 2], gen))

    # leakyRelu at exactly 0 (its derivative there is the slope, as TensorFlow's) and global max pooling
    # with tied maxima (the gradient split evenly among them, as TensorFlow's reduce_max).
    add("leakyRelu", "exact-zeros-r2", {"negativeSlope": 0.2}, zx)
    add("globalMaxPooling2d", "ties-int-3x3", {}, ints([2, 3, 3, 2], 3))
    add("globalMaxPooling2d", "ties-all-equal-keepdims-2x2", {"keepdims": True}, torch.ones(1, 2, 2, 3, dtype=DTYPE))
    add("globalMaxPooling1d", "ties-int-5", {}, ints([2, 5, 2], 2))
    # 1-D max pooling with ties: each window's first maximum gets the gradient, as in 2-D.
    add("maxPooling1d", "ties-int-p3-s1-same-L7", {"poolSize": 3, "strides": 1, "padding": "same"}, ints([2, 7, 2], 3))
    # Tiled 2x2 windows over 6 channels: a backend that runs channels 4 at a time (tfjs-wasm's SIMD max-pool
    # gradient) meets ties both in its vector lanes and in its one-channel tail.
    add("maxPooling2d", "ties-int-p2-valid-6x6x6", {"poolSize": 2}, ints([2, 6, 6, 6], 3))
    return cases


def edge_case(case_id, kind, options, x, _weights):
    seed = sum(map(ord, case_id))
    gen = torch.Generator().manual_seed(seed)
    input_shape = list(x.shape)
    weights = {}
    for name, shape in gg.weight_shapes(kind, input_shape, options):
        fan_in = math.prod(shape[:-1]) if name == "kernel" else 1
        weights[name] = gg.draw(shape, gen, 1.0 / math.sqrt(fan_in) if name == "kernel" else 0.5)
    xg = x.clone().requires_grad_(True)
    wg = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
    y = gg.forward(kind, xg, wg, options)
    target = gg.draw(list(y.shape), gen)
    loss = ((y - target) ** 2).mean()
    grads = torch.autograd.grad(loss, [xg, *wg.values()])
    if kind == "maxPooling2d":
        upstream = 2 * (y.detach() - target) / y.numel()
        expected = first_max_pool_gradient(x, options, upstream)
        assert torch.allclose(grads[0], expected, atol=1e-15), f"{case_id}: torch's tie rule differs from first-maximum"
        assert gg.kink_distance(kind, x, weights, options) == 0, f"{case_id}: no exact tie"
    elif options.get("activation") == "relu":
        pre = x if kind == "activation" else gg.PRE_ACTIVATION[kind](x, weights, options)
        assert (pre == 0).any(), f"{case_id}: no exact zero before relu"
    elif kind == "maxPooling1d":
        upstream = 2 * (y.detach() - target) / y.numel()
        expected = first_max_pool_gradient(x.unsqueeze(1), gg.as_2d_pool(options), upstream.unsqueeze(1)).squeeze(1)
        assert torch.allclose(grads[0], expected, atol=1e-15), f"{case_id}: torch's tie rule differs from first-maximum"
        assert gg.kink_distance(kind, x, weights, options) == 0, f"{case_id}: no exact tie"
    elif kind == "leakyRelu":
        assert (x == 0).any(), f"{case_id}: no exact zero"
        upstream = 2 * (y.detach() - target) / y.numel()
        slope = torch.where(x > 0, torch.ones_like(x), torch.full_like(x, options["negativeSlope"]))
        assert torch.allclose(grads[0], upstream * slope, atol=1e-15), f"{case_id}: torch's leaky relu derivative at 0 differs"
    elif kind in ("globalMaxPooling2d", "globalMaxPooling1d"):
        assert gg.kink_distance(kind, x, weights, options) == 0, f"{case_id}: no exact tie"
        upstream = (2 * (y.detach() - target) / y.numel()).reshape(x.shape[0], 1, x.shape[-1])
        flat = x.reshape(x.shape[0], -1, x.shape[-1])
        ties = (flat == flat.amax(dim=1, keepdim=True)).to(DTYPE)
        expected = (ties * upstream / ties.sum(dim=1, keepdim=True)).reshape(x.shape)
        assert torch.allclose(grads[0], expected, atol=1e-15), f"{case_id}: torch's tie rule differs from an even split"
    elif kind == "activation" and options["activation"] in ("relu6", "hardSigmoid", "elu", "selu"):
        kinks = gg.ACTIVATION_KINKS.get(options["activation"], [0.0])
        assert all((x == k).any() for k in kinks), f"{case_id}: not on every kink"
        upstream = 2 * (y.detach() - target) / y.numel()
        slopes = {
            "relu6": ((x > 0) & (x < 6)).to(DTYPE),
            "hardSigmoid": ((x > -3) & (x < 3)).to(DTYPE) / 6,
            "elu": torch.where(x >= 0, torch.ones_like(x), torch.exp(x)),
            "selu": torch.where(x >= 0, torch.full_like(x, gg.SELU_SCALE), gg.SELU_SCALE * gg.SELU_ALPHA * torch.exp(x)),
        }
        assert torch.allclose(grads[0], upstream * slopes[options["activation"]], atol=1e-15), f"{case_id}: torch's derivative differs from TensorFlow's at a kink"
    else:
        gg.check_finite_differences(case_id, kind, options, x, weights, target, grads)
    return {
        "id": case_id,
        "kind": kind,
        "options": options,
        "input": tensor_json(x),
        "weights": [{"name": n, **tensor_json(v)} for n, v in weights.items()],
        "output": tensor_json(y.detach()),
        "target": tensor_json(target),
        "loss": gg.F32Number(loss.item()),
        "gradients": {
            "input": tensor_json(grads[0]),
            "weights": [{"name": n, **tensor_json(g)} for n, g in zip(weights, grads[1:])],
        },
    }


# Layer chains: pairs a backend may lower together (e.g. fuse), so a one-layer case never reaches their code.
CHAIN_CASES = [
    # A stride-1 conv with an even kernel (same: padding 0 before, 1 after) and fewer filters than
    # channels, then a 1x1 max pooling: a conv+pool fusion computes dx with the conv's pads.
    ("conv2d-k2-same-f1-then-maxpool-p1", [
        ("conv2d", {"filters": 1, "kernelSize": 2, "padding": "same", "activation": "relu"}),
        ("maxPooling2d", {"poolSize": 1}),
    ], [2, 5, 5, 3]),
    ("conv2d-k2x4-same-f2-then-maxpool-p2", [
        ("conv2d", {"filters": 2, "kernelSize": [2, 4], "padding": "same", "activation": "linear"}),
        ("maxPooling2d", {"poolSize": 2}),
    ], [2, 6, 6, 3]),
    # A conv on the model input then a batch normalisation, with no more im2col rows (input channels x taps)
    # than filters: a backend may fold the normalisation into the conv in a training step (its input needs no
    # gradient there), computing the statistics from the input's patches.
    ("conv2d-k3-same-f12-then-batchnorm-m09", [
        ("conv2d", {"filters": 12, "kernelSize": 3, "padding": "same"}),
        ("batchNormalization", {"momentum": 0.9}),
    ], [3, 6, 6, 1]),
    ("conv2d-k2-s2-valid-nobias-f8-then-batchnorm-noscale-eps01", [
        ("conv2d", {"filters": 8, "kernelSize": 2, "strides": 2, "padding": "valid", "useBias": False}),
        ("batchNormalization", {"scale": False, "epsilon": 0.1}),
    ], [2, 7, 7, 2]),
    ("conv2d-k3-d2-same-f9-then-batchnorm-nocenter", [
        ("conv2d", {"filters": 9, "kernelSize": 3, "dilationRate": 2, "padding": "same"}),
        ("batchNormalization", {"center": False, "momentum": 0.5}),
    ], [2, 8, 8, 1]),
    # The same with a monotone activation and a max pooling whose windows tile the conv output: a backend may
    # run the four as the pooling's phase convolutions with the normalisation folded into their kernels.
    ("conv2d-k3-same-f12-then-batchnorm-m09-relu-maxpool-p2", [
        ("conv2d", {"filters": 12, "kernelSize": 3, "padding": "same"}),
        ("batchNormalization", {"momentum": 0.9}),
        ("activation", {"activation": "relu"}),
        ("maxPooling2d", {"poolSize": 2}),
    ], [3, 6, 6, 1]),
    ("conv2d-k3-same-nobias-f10-then-batchnorm-noscale-nocenter-tanh-maxpool-p2", [
        ("conv2d", {"filters": 10, "kernelSize": 3, "padding": "same", "useBias": False}),
        ("batchNormalization", {"scale": False, "center": False}),
        ("activation", {"activation": "tanh"}),
        ("maxPooling2d", {"poolSize": 2}),
    ], [2, 8, 8, 1]),
    ("conv2d-k2-same-f8-then-batchnorm-eps01-sigmoid-maxpool-p2", [
        ("conv2d", {"filters": 8, "kernelSize": 2, "padding": "same"}),
        ("batchNormalization", {"epsilon": 0.1, "momentum": 0.8}),
        ("activation", {"activation": "sigmoid"}),
        ("maxPooling2d", {"poolSize": 2}),
    ], [2, 6, 6, 2]),
    ("conv2d-k3-valid-f9-then-batchnorm-relu-maxpool-p2x1", [
        ("conv2d", {"filters": 9, "kernelSize": 3, "padding": "valid"}),
        ("batchNormalization", {"momentum": 0.9}),
        ("activation", {"activation": "relu"}),
        ("maxPooling2d", {"poolSize": [2, 1]}),
    ], [2, 8, 7, 1]),
]


TIED_POOL_CHAIN = "conv2d-k2-valid-f2-integer-kernel-then-maxpool-p2-ties"


def tied_pool_chain_case():
    """A conv2d (integer kernel, integer input) then a 2x2 max pooling of its output, with exact ties
    between windows' positions whose patches differ: where a backend fuses the two (the pooling's phase
    convolutions), which tied position gets the gradient changes the kernel's gradient, so the case
    tells the first-maximum rule from any other."""
    gen = torch.Generator().manual_seed(sum(map(ord, TIED_POOL_CHAIN)))
    conv_o = {"filters": 2, "kernelSize": 2, "padding": "valid", "activation": "linear"}
    pool_o = {"poolSize": 2}
    chain = [("conv2d", conv_o), ("maxPooling2d", pool_o)]
    x = torch.randint(0, 3, [2, 7, 7, 1], generator=gen).to(DTYPE)
    # Keras layout [kh, kw, in, out]: filter 0 sums its window, filter 1 weighs it [[1, 2], [0, 1]].
    kernel = torch.tensor([[[[1.0, 1.0]], [[1.0, 2.0]]], [[[1.0, 0.0]], [[1.0, 1.0]]]], dtype=DTYPE)
    bias = torch.tensor([0.5, -0.25], dtype=DTYPE)
    leaves = [x.clone().requires_grad_(True), kernel.permute(3, 2, 0, 1).contiguous().requires_grad_(True), bias.clone().requires_grad_(True)]
    conv = gg.forward("conv2d", leaves[0], {"kernel": leaves[1].permute(2, 3, 1, 0), "bias": leaves[2]}, conv_o)
    conv.retain_grad()
    y = gg.forward("maxPooling2d", conv, {}, pool_o)
    target = gg.draw(list(y.shape), gen)
    loss = ((y - target) ** 2).mean()
    loss.backward()
    upstream = 2 * (y.detach() - target) / y.numel()
    first = first_max_pool_gradient(conv.detach(), pool_o, upstream)
    assert torch.allclose(conv.grad, first, atol=1e-15), f"{TIED_POOL_CHAIN}: torch's tie rule differs from first-maximum"
    # The last maximum instead: the same pooling with both window axes reversed, mapped back.
    flipped = first_max_pool_gradient(conv.detach().flip(1, 2), pool_o, upstream.flip(1, 2)).flip(1, 2)
    patches = F.unfold(x.permute(0, 3, 1, 2), 2)  # [n, taps, positions]
    def kernel_grad(dconv):
        return torch.einsum("ntp,npf->tf", patches, dconv.reshape(dconv.shape[0], -1, dconv.shape[-1]))
    assert torch.allclose(kernel_grad(first), kernel_grad(conv.grad), atol=1e-12), TIED_POOL_CHAIN
    assert (kernel_grad(first) - kernel_grad(flipped)).abs().max() > 1e-2, f"{TIED_POOL_CHAIN}: the tie rule does not change the kernel gradient"
    keras = lambda t: t.permute(2, 3, 1, 0) if t.dim() == 4 else t  # noqa: E731
    names = ["0/kernel", "0/bias"]
    return {
        "id": TIED_POOL_CHAIN,
        "layers": [{"kind": kind, "options": o} for kind, o in chain],
        "input": tensor_json(x),
        "weights": [{"name": n, **tensor_json(v)} for n, v in zip(names, [kernel, bias])],
        "output": tensor_json(y.detach()),
        "target": tensor_json(target),
        "loss": gg.F32Number(loss.item()),
        "gradients": {"input": tensor_json(leaves[0].grad), "weights": [{"name": n, **tensor_json(keras(leaf.grad))} for n, leaf in zip(names, leaves[1:])]},
    }


def bn_chain_weights(shape, o, gen):
    """A batch normalisation's weights in core's order (gamma, beta when enabled; moving mean and variance), drawn as generate_golden_state.py draws them."""
    c = shape[-1]
    w = {}
    if o.get("scale", True):
        w["gamma"] = gg.f32(torch.rand(c, generator=gen, dtype=DTYPE) + 0.5)
    if o.get("center", True):
        w["beta"] = gg.f32(torch.randn(c, generator=gen, dtype=DTYPE) * 0.5)
    w["movingMean"] = gg.f32(torch.randn(c, generator=gen, dtype=DTYPE) * 0.2)
    w["movingVariance"] = gg.f32(torch.rand(c, generator=gen, dtype=DTYPE) + 0.5)
    return w


def bn_chain_forward(x, w, o):
    """Training-mode batch normalisation over the last axis; returns y, the batch mean and the biased batch variance."""
    axes = tuple(range(x.dim() - 1))
    mean = x.mean(dim=axes)
    var = ((x - mean) ** 2).mean(dim=axes)
    y = (x - mean) / torch.sqrt(var + o.get("epsilon", 1e-3))
    if "gamma" in w:
        y = y * w["gamma"]
    if "beta" in w:
        y = y + w["beta"]
    return y, mean, var


def chain_forward(kind, x, w, o):
    return bn_chain_forward(x, w, o)[0] if kind == "batchNormalization" else gg.forward(kind, x, w, o)


def chain_case(case_id, chain, input_shape):
    gen = torch.Generator().manual_seed(sum(map(ord, case_id)))
    for _ in range(100):
        x = gg.draw(input_shape, gen)
        weights, shape = [], input_shape
        for n, (kind, o) in enumerate(chain):
            w = {}
            if kind == "batchNormalization":
                w = bn_chain_weights(shape, o, gen)
            else:
                for name, wshape in gg.weight_shapes(kind, shape, o):
                    fan_in = math.prod(wshape[:-1]) if name == "kernel" else 1
                    w[name] = gg.draw(wshape, gen, 1.0 / math.sqrt(fan_in) if name == "kernel" else 0.5)
            weights.append(w)
            shape = list(chain_forward(kind, torch.zeros(shape, dtype=DTYPE), w, o).shape)
        # Away from relu's kink and max-pool ties, as the random one-layer cases.
        # A max pooling of a relu's output measures its ties before the relu: windows of zeros tie, but pass
        # no gradient through the relu either way (relu's own kink check keeps its input away from zero).
        h, near, before_relu = x, math.inf, None
        for (kind, o), w in zip(chain, weights):
            if kind != "batchNormalization" and not (kind == "maxPooling2d" and gg.pair(o["poolSize"]) == (1, 1)):  # a one-element window cannot tie
                near = min(near, gg.kink_distance(kind, before_relu if kind == "maxPooling2d" and before_relu is not None else h, w, o))
            before_relu = h if kind == "activation" and o["activation"] == "relu" else None
            h = chain_forward(kind, h, w, o)
        if near > gg.KINK_MARGIN:
            break
    else:
        raise RuntimeError(f"{case_id}: no draw away from the kinks")
    # Kernels as contiguous [out, in, kh, kw] leaves (torch's conv weight-gradient kernel wants that layout), viewed in Keras's.
    keras = lambda t: t.permute(2, 3, 1, 0) if t.dim() == 4 else t  # noqa: E731
    leaves = [x.clone().requires_grad_(True)] + [(v.permute(3, 2, 0, 1) if v.dim() == 4 else v).contiguous().requires_grad_(True) for w in weights for v in w.values()]
    h, i = leaves[0], 1
    batch_stats = {}
    for n, ((kind, o), w) in enumerate(zip(chain, weights)):
        wl = {}
        for name in w:
            wl[name] = keras(leaves[i])
            i += 1
        if kind == "batchNormalization":
            bn_input = h.detach()
            h, mean, var = bn_chain_forward(h, wl, o)
            batch_stats[n] = (mean.detach(), var.detach(), h.numel() // h.shape[-1])
            # Independent check with PyTorch's own batch norm (NCHW; momentum = 1 - Keras's; unbiased variance in the running one).
            rm, rv = weights[n]["movingMean"].detach().clone(), weights[n]["movingVariance"].detach().clone()
            affine = {name: v.detach() for name, v in w.items()}
            perm = (0, bn_input.dim() - 1, *range(1, bn_input.dim() - 1))
            ref = F.batch_norm(bn_input.permute(perm), rm, rv, affine.get("gamma"), affine.get("beta"), training=True, momentum=1 - o.get("momentum", 0.99), eps=o.get("epsilon", 1e-3))
            assert torch.allclose(ref.permute(0, *range(2, bn_input.dim()), 1), h.detach(), atol=1e-12), case_id
            batch_stats[n] += (rm, rv)
        else:
            h = gg.forward(kind, h, wl, o)
    target = gg.draw(list(h.shape), gen)
    loss = ((h - target) ** 2).mean()
    # The moving statistics take no part in a training-mode forward pass: zero gradients.
    all_grads = torch.autograd.grad(loss, leaves, allow_unused=True)
    grads = [all_grads[0]] + [keras(g) if g is not None else torch.zeros_like(keras(leaf)) for g, leaf in zip(all_grads[1:], leaves[1:])]
    names = [f"{n}/{name}" for n, w in enumerate(weights) for name in w]
    flat = [v for w in weights for v in w.values()]
    state = {}
    for n, (mean, var, count, torch_mean, torch_var) in batch_stats.items():
        momentum = chain[n][1].get("momentum", 0.99)
        state[f"{n}/movingMean"] = weights[n]["movingMean"].detach() * momentum + mean * (1 - momentum)
        state[f"{n}/movingVariance"] = weights[n]["movingVariance"].detach() * momentum + var * count / (count - 1) * (1 - momentum)
        assert torch.allclose(state[f"{n}/movingMean"], torch_mean, atol=1e-12) and torch.allclose(state[f"{n}/movingVariance"], torch_var, atol=1e-12), case_id
    after = {"weightsAfterStep": [{"name": n, **tensor_json(state[n] if n in state else v - g)} for n, v, g in zip(names, flat, grads[1:])]} if state else {}
    return {
        "id": case_id,
        "layers": [{"kind": kind, "options": o} for kind, o in chain],
        "input": tensor_json(x),
        "weights": [{"name": n, **tensor_json(v)} for n, v in zip(names, flat)],
        "output": tensor_json(h.detach()),
        "target": tensor_json(target),
        "loss": gg.F32Number(loss.item()),
        "gradients": {"input": tensor_json(grads[0]), "weights": [{"name": n, **tensor_json(g)} for n, g in zip(names, grads[1:])]},
        **after,
    }


# --------------------------------------------------------------------------
# Learning-rate schedules (core's schedules.ts, Keras 3's formulas)
# --------------------------------------------------------------------------

SCHEDULE_STEPS = 41


def schedule_rate(name, o, step):
    if name == "exponentialDecay":
        p = step / o["decaySteps"]
        return o["initialLearningRate"] * o["decayRate"] ** (math.floor(p) if o.get("staircase", False) else p)
    if name == "piecewiseConstantDecay":
        for b, v in zip(o["boundaries"], o["values"]):
            if step <= b:
                return v
        return o["values"][-1]
    if name == "cosineDecay":
        alpha, decay_steps = o.get("alpha", 0.0), o["decaySteps"]

        def decay(s, start):
            return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)
        if "warmupTarget" not in o:
            return decay(min(step, decay_steps), o["initialLearningRate"])
        warmup = o.get("warmupSteps", 0)
        s = min(step, decay_steps + warmup)
        if s < warmup:
            return (o["warmupTarget"] - o["initialLearningRate"]) * (s / warmup) + o["initialLearningRate"]
        return decay(s - warmup, o["warmupTarget"])
    raise ValueError(name)


SCHEDULE_CASES = [
    ("exponentialDecay", {"initialLearningRate": 0.1, "decaySteps": 7, "decayRate": 0.5}),
    ("exponentialDecay", {"initialLearningRate": 0.1, "decaySteps": 7, "decayRate": 0.5, "staircase": True}),
    ("piecewiseConstantDecay", {"boundaries": [5, 12, 30], "values": [0.1, 0.05, 0.01, 0.001]}),
    ("cosineDecay", {"initialLearningRate": 0.1, "decaySteps": 25, "alpha": 0.1}),
    ("cosineDecay", {"initialLearningRate": 0.0, "decaySteps": 25, "warmupTarget": 0.1, "warmupSteps": 8}),
    ("cosineDecay", {"initialLearningRate": 0.01, "decaySteps": 20, "alpha": 0.05, "warmupTarget": 0.2, "warmupSteps": 5}),
]


def schedule_case(name, options):
    rates = [schedule_rate(name, options, t) for t in range(SCHEDULE_STEPS)]
    if name == "cosineDecay" and "warmupTarget" not in options:
        # torch's cosine annealing (closed form) with eta_min = alpha * lr is the same curve up to decaySteps.
        lr0, steps = options["initialLearningRate"], options["decaySteps"]
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=options.get("alpha", 0.0) * lr0)
        for t in range(steps + 1):
            sched.last_epoch = t
            assert abs(sched._get_closed_form_lr()[0] - rates[t]) < 1e-12, (t, rates[t])
    return {"schedule": name, "options": options, "rates": rates}


def check_known_answers():
    # Dilation 3, even kernel, same on 5: total pad (2-1)*3 = 3, one before and two after.
    assert gg.same_padding(5, 2, 1, 3) == (1, 2)
    x = torch.tensor([1.0, 2, 3, 4, 5], dtype=DTYPE).reshape(1, 5, 1)
    w = {"kernel": torch.tensor([1.0, 10.0], dtype=DTYPE).reshape(2, 1, 1)}
    y = gg.conv1d_pre(x, w, {"kernelSize": 2, "dilationRate": 3, "padding": "same", "useBias": False})
    # out[i] = x[i-1] + 10*x[i+2] (zeros outside).
    assert y.flatten().tolist() == [30, 41, 52, 3, 4], y
    # First maximum in row-major order.
    tie = torch.tensor([[1.0, 2.0], [2.0, 0.0]], dtype=DTYPE).reshape(1, 2, 2, 1)
    g = first_max_pool_gradient(tie, {"poolSize": 2}, torch.ones(1, 1, 1, 1, dtype=DTYPE))
    assert g.flatten().tolist() == [0, 1, 0, 0], g
    # Optimizers: one Adam step from zero slots moves every weight by lr*sign(g) (up to epsilon).
    w1, _ = optimizer_update({"kind": "adam", "learningRate": 0.1, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-12},
                             torch.tensor([1.0, 1.0], dtype=DTYPE), torch.tensor([3.0, -1e-4], dtype=DTYPE), [torch.zeros(2, dtype=DTYPE)] * 2, 1)
    assert torch.allclose(w1, torch.tensor([0.9, 1.1], dtype=DTYPE), atol=1e-6), w1
    # The clip bounds a float32 backend holds.
    assert CLIP_HI == 1 - 2 ** -23 and BELOW_ONE > CLIP_HI and float(torch.tensor(BELOW_ONE, dtype=torch.float32)) == BELOW_ONE


def write_doc(path, doc):
    text = gg.encode(doc) + "\n"
    json.loads(text)
    gg.write_atomically(path, text)
    print(f"{os.path.relpath(path):50s} {len(text.encode()) / 1024:7.1f} KiB")


def main():
    torch.set_num_threads(1)
    check_known_answers()
    os.makedirs(TRAINING_DIR, exist_ok=True)
    os.makedirs(EDGES_DIR, exist_ok=True)
    header = {"generator": GENERATOR, "torch": torch.__version__}
    write_doc(os.path.join(TRAINING_DIR, "optimizers.json"), {**header, "cases": [optimizer_case(n, s) for n, s in OPTIMIZER_CASES]})
    write_doc(os.path.join(TRAINING_DIR, "losses.json"), {**header, "cases": [loss_case(*c) for c in loss_cases() + weighted_loss_cases()]})
    write_doc(os.path.join(TRAINING_DIR, "chains.json"), {**header, "cases": [chain_case(*c) for c in CHAIN_CASES] + [tied_pool_chain_case()]})
    write_doc(os.path.join(TRAINING_DIR, "schedules.json"), {**header, "cases": [schedule_case(*c) for c in SCHEDULE_CASES]})
    by_kind = {}
    for case_id, kind, options, x, weights in edge_grid():
        by_kind.setdefault(kind, []).append(edge_case(case_id, kind, options, gg.f32(x), weights))
    for kind, cases in by_kind.items():
        write_doc(os.path.join(EDGES_DIR, f"{kind}.json"), {**header, "kind": kind, "cases": cases})


if __name__ == "__main__":
    sys.exit(main())
