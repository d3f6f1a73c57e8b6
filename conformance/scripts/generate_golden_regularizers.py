#!/usr/bin/python3
"""Golden vectors of weight regularisation (kernelRegularizer / biasRegularizer).

Written by this script into conformance/fixtures/training/regularizers.json:
for dense(3) over 4 features and conv2d(2 filters, 2x2 kernel) over 3x3x2
inputs, each of l1, l2 and l1l2 on the kernel and on the bias, under MSE:

- "outputLoss": the MSE of the output alone (what the output's own loss reports),
- "penalty": l1 * sum|w| + l2 * sum w^2 of the regularised weight,
- "loss": outputLoss + penalty (the training and evaluation loss, as Keras 3's
  compute_loss adds the layers' losses),
- "gradients": dLoss/d(kernel, bias) by torch autograd (|w|' = sign(w), 0 at 0:
  every regularised weight has exact zeros, whose penalty gradient must be 0),
- "weightsAfter": the weights after one SGD step of rate LEARNING_RATE.

Weights are in Keras's layout (dense [in, out], conv2d [kh, kw, cin, cout]),
inputs channels-last; computed in float64 from float32-exact values. Run it
from the repository root:

    /usr/bin/python3 conformance/scripts/generate_golden_regularizers.py
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate_golden as gg  # noqa: E402

GENERATOR = "conformance/scripts/generate_golden_regularizers.py"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "training", "regularizers.json")
DTYPE = gg.DTYPE
LEARNING_RATE = 0.1

# The regulariser as a layer option, and the factors it resolves to (Keras 3 defaults for a bare name).
REGULARIZERS = [
    ("l1", {"name": "l1", "l1": 0.05}, (0.05, 0.0)),
    ("l2", "l2", (0.0, 0.01)),
    ("l1l2", {"name": "l1l2", "l1": 0.03, "l2": 0.02}, (0.03, 0.02)),
]


def with_zeros(t, every):
    """Sets every `every`-th value to exactly zero (the l1 gradient there is sign(0) = 0)."""
    flat = t.clone().reshape(-1)
    flat[::every] = 0
    return flat.reshape(t.shape)


def forward(layer, x, kernel, bias):
    if layer == "dense":
        return x @ kernel + bias
    # Keras [kh, kw, cin, cout] -> torch [cout, cin, kh, kw]; NHWC -> NCHW and back.
    y = F.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias)
    return y.permute(0, 2, 3, 1)


def case(layer, which, reg_id, option, factors, seed):
    gen = torch.Generator().manual_seed(seed)
    if layer == "dense":
        config = {"units": 3}
        x = gg.draw((5, 4), gen)
        kernel = gg.draw((4, 3), gen, 0.5)
        bias = gg.draw((3,), gen, 0.5)
        target = gg.draw((5, 3), gen)
    else:
        config = {"filters": 2, "kernelSize": 2}
        x = gg.draw((2, 3, 3, 2), gen)
        kernel = gg.draw((2, 2, 2, 2), gen, 0.5)
        bias = gg.draw((2,), gen, 0.5)
        target = gg.draw((2, 2, 2, 2), gen)
    if which == "kernel":
        kernel = with_zeros(kernel, 3)
    else:
        bias = with_zeros(bias, 2)
    k = kernel.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    output_loss = ((forward(layer, x, k, b) - target) ** 2).mean()
    w = k if which == "kernel" else b
    l1, l2 = factors
    penalty = l1 * w.abs().sum() + l2 * (w * w).sum()
    loss = output_loss + penalty
    (dpenalty,) = torch.autograd.grad(penalty, [w], retain_graph=True)
    assert torch.all(dpenalty[w == 0] == 0), "sign(0) must be 0"
    gk, gb = torch.autograd.grad(loss, [k, b])
    return {
        "id": f"{layer}/{which}-{reg_id}",
        "layer": layer,
        "config": {**config, f"{which}Regularizer": option},
        "regularized": which,
        "l1": l1,
        "l2": l2,
        "learningRate": LEARNING_RATE,
        "input": gg.tensor_json(x),
        "target": gg.tensor_json(target),
        "weights": [{"name": "kernel", **gg.tensor_json(kernel)}, {"name": "bias", **gg.tensor_json(bias)}],
        "outputLoss": float(output_loss),
        "penalty": float(penalty),
        "loss": float(loss),
        "gradients": [{"name": "kernel", **gg.tensor_json(gk)}, {"name": "bias", **gg.tensor_json(gb)}],
        "weightsAfter": [{"name": "kernel", **gg.tensor_json(kernel - LEARNING_RATE * gk)}, {"name": "bias", **gg.tensor_json(bias - LEARNING_RATE * gb)}],
    }


def main():
    torch.set_num_threads(1)
    cases = []
    seed = 2100
    for layer in ("dense", "conv2d"):
        for which in ("kernel", "bias"):
            for reg_id, option, factors in REGULARIZERS:
                seed += 1
                cases.append(case(layer, which, reg_id, option, factors, seed))
    doc = {"generator": GENERATOR, "torch": torch.__version__, "cases": cases}
    text = gg.encode(doc) + "\n"
    gg.write_atomically(OUT, text)
    print(f"{os.path.relpath(OUT):50s} {len(text.encode()) / 1024:7.1f} KiB")


if __name__ == "__main__":
    sys.exit(main())
