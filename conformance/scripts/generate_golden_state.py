#!/usr/bin/env python3
"""Golden cases for the layer kinds with training/inference modes: batchNormalization, dropout, spatialDropout2d.

Writes fixtures/golden/batchNormalization.json, dropout.json and spatialDropout2d.json in the format of
generate_golden.py (whose JSON helpers it reuses), with one extra field per batch-normalisation case:

- `output`: the forward pass in inference mode (moving statistics), what `predict` gives;
- `loss`, `gradients`: the MSE loss and its gradients in training mode (batch statistics; the
  moving statistics get zero gradients, they are state weights); for a frozen layer
  (`trainable: false`) training runs in inference mode, as Keras 3;
- `weightsAfterStep`: every weight after one SGD step with learning rate 1: gamma and beta moved by
  −gradient, the moving mean and variance updated by the forward pass as Keras/TF2 do
  (`moving·momentum + batch·(1 − momentum)`, the variance with the unbiased batch variance);
  a frozen layer's weights unchanged.

Everything is computed in float64 with PyTorch's autograd and checked against
`torch.nn.functional.batch_norm` (an independent implementation, NCHW, PyTorch's momentum being
1 − Keras's). Dropout and spatial dropout cases use rate 0 (training mode is then the identity, so the values are
exact); the dropping itself is checked statistically by the conformance suite (roles/dropout-statistics).
Run: /usr/bin/python3 conformance/scripts/generate_golden_state.py
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from generate_golden import encode, tensor_json, write_atomically, F32Number  # noqa: E402

DTYPE = torch.float64
GENERATOR = "conformance/scripts/generate_golden_state.py"
FIXTURES_DIR = os.path.join(os.path.dirname(__file__), "..", "fixtures", "golden")


def f32(t):
    return t.to(torch.float32).to(DTYPE)


def bn_forward(x, gamma, beta, mean, var, eps, training):
    """Channels-last batch normalisation over the last axis; returns y and the batch statistics."""
    axes = tuple(range(x.dim() - 1))
    if training:
        bm = x.mean(dim=axes)
        bv = ((x - bm) ** 2).mean(dim=axes)
    else:
        bm, bv = mean, var
    y = (x - bm) / torch.sqrt(bv + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y, bm, bv


def bn_case(case_id, shape, options, seed):
    g = torch.Generator().manual_seed(seed)
    momentum = options.get("momentum", 0.99)
    eps = options.get("epsilon", 1e-3)
    scale = options.get("scale", True)
    center = options.get("center", True)
    frozen = options.get("trainable", True) is False
    c = shape[-1]
    x = f32(torch.randn(shape, generator=g, dtype=DTYPE) * 1.5 + 0.3)
    gamma = f32(torch.rand(c, generator=g, dtype=DTYPE) + 0.5) if scale else None
    beta = f32(torch.randn(c, generator=g, dtype=DTYPE) * 0.5) if center else None
    mean = f32(torch.randn(c, generator=g, dtype=DTYPE) * 0.2)
    var = f32(torch.rand(c, generator=g, dtype=DTYPE) + 0.5)
    target = f32(torch.randn(shape, generator=g, dtype=DTYPE))

    out_inf, _, _ = bn_forward(x, gamma, beta, mean, var, eps, training=False)
    xg = x.clone().requires_grad_(True)
    gg = gamma.clone().requires_grad_(True) if gamma is not None else None
    bg = beta.clone().requires_grad_(True) if beta is not None else None
    y, bm, bv = bn_forward(xg, gg, bg, mean, var, eps, training=not frozen)
    loss = ((y - target) ** 2).mean()
    loss.backward()

    # Independent check with PyTorch's own batch norm (NCHW; momentum = 1 − Keras's).
    perm = (0, x.dim() - 1, *range(1, x.dim() - 1))
    rm, rv = mean.clone(), var.clone()
    ref = F.batch_norm(x.permute(perm), rm, rv, gamma, beta, training=not frozen, momentum=1 - momentum, eps=eps)
    assert torch.allclose(ref.permute(0, *range(2, x.dim()), 1), y.detach(), atol=1e-12), case_id
    ref_inf = F.batch_norm(x.permute(perm), mean.clone(), var.clone(), gamma, beta, training=False, eps=eps)
    assert torch.allclose(ref_inf.permute(0, *range(2, x.dim()), 1), out_inf, atol=1e-12), case_id

    names, values, grads, after = [], [], [], []
    if scale:
        names.append("gamma"); values.append(gamma); grads.append(gg.grad); after.append(gamma if frozen else gamma - gg.grad)
    if center:
        names.append("beta"); values.append(beta); grads.append(bg.grad); after.append(beta if frozen else beta - bg.grad)
    names += ["movingMean", "movingVariance"]
    values += [mean, var]
    grads += [torch.zeros(c, dtype=DTYPE), torch.zeros(c, dtype=DTYPE)]
    if frozen:
        after += [mean, var]
    else:
        # PyTorch's running statistics are Keras's moving ones (unbiased variance in the update).
        assert torch.allclose(rm, mean * momentum + bm.detach() * (1 - momentum), atol=1e-12), case_id
        assert torch.allclose(rv, var * momentum + bv.detach() * (x.numel() / c) / (x.numel() / c - 1) * (1 - momentum), atol=1e-12), case_id
        after += [rm, rv]
    named = lambda ts: [{"name": n, **tensor_json(t)} for n, t in zip(names, ts)]
    return {
        "id": case_id,
        "kind": "batchNormalization",
        "options": options,
        "input": tensor_json(x),
        "weights": named(values),
        "output": tensor_json(out_inf),
        "target": tensor_json(target),
        "loss": F32Number(loss.item()),
        "gradients": {"input": tensor_json(xg.grad), "weights": named(grads)},
        "weightsAfterStep": named(after),
    }


def dropout_case(case_id, shape, options, seed, kind="dropout"):
    g = torch.Generator().manual_seed(seed)
    x = f32(torch.randn(shape, generator=g, dtype=DTYPE))
    target = f32(torch.randn(shape, generator=g, dtype=DTYPE))
    assert options["rate"] == 0
    xg = x.clone().requires_grad_(True)
    y = F.dropout(xg, p=0.0, training=True)
    loss = ((y - target) ** 2).mean()
    loss.backward()
    return {
        "id": case_id,
        "kind": kind,
        "options": options,
        "input": tensor_json(x),
        "weights": [],
        "output": tensor_json(x),
        "target": tensor_json(target),
        "loss": F32Number(loss.item()),
        "gradients": {"input": tensor_json(xg.grad), "weights": []},
    }


BN_CASES = [
    ("batchNormalization/dense-b6-c3", [6, 3], {}, 1),
    ("batchNormalization/conv-b4-5x5x4-m09", [4, 5, 5, 4], {"momentum": 0.9}, 2),
    ("batchNormalization/conv1d-b3-7x2-eps01", [3, 7, 2], {"epsilon": 0.1}, 3),
    ("batchNormalization/no-scale-b5-c4", [5, 4], {"scale": False}, 4),
    ("batchNormalization/no-center-b2-3x3x2", [2, 3, 3, 2], {"center": False, "momentum": 0.5}, 5),
    ("batchNormalization/frozen-b4-3x3x3", [4, 3, 3, 3], {"trainable": False}, 6),
    # Channel counts that reach a backend's vector paths: 31 = blocks of 16, 8 and 4 and a 3-channel tail; 20 = 16 + 4.
    ("batchNormalization/conv-b3-4x4x31-m09", [3, 4, 4, 31], {"momentum": 0.9}, 7),
    ("batchNormalization/dense-b8-c20", [8, 20], {}, 8),
]

DROPOUT_CASES = [
    ("dropout/rate0-b3-c5", [3, 5], {"rate": 0}, 11),
    ("dropout/rate0-noise-b2-4x4x3", [2, 4, 4, 3], {"rate": 0, "noiseShape": [1, 1, 3]}, 12),
]

SPATIAL_DROPOUT_CASES = [
    ("spatialDropout2d/rate0-b2-3x5x4", [2, 3, 5, 4], {"rate": 0}, 13),
]


def main():
    torch.set_num_threads(1)
    docs = {
        "batchNormalization": [bn_case(*c) for c in BN_CASES],
        "dropout": [dropout_case(*c) for c in DROPOUT_CASES],
        "spatialDropout2d": [dropout_case(*c, kind="spatialDropout2d") for c in SPATIAL_DROPOUT_CASES],
    }
    for kind, cases in docs.items():
        doc = {"generator": GENERATOR, "torch": torch.__version__, "kind": kind, "cases": cases}
        text = encode(doc) + "\n"
        json.loads(text)
        path = os.path.join(FIXTURES_DIR, f"{kind}.json")
        write_atomically(path, text)
        print(f"{kind:18s} {len(cases):3d} cases  {os.path.relpath(path)}")


if __name__ == "__main__":
    sys.exit(main())
