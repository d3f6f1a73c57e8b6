#!/usr/bin/python3
"""Golden vectors of araboza's merge layers, computed with PyTorch.

The merge layers (add, subtract, multiply, average, maximum, minimum,
concatenate) read several inputs. Each case stores its inputs, the forward
output, and the gradients, with respect to every input, of
loss = mean((output - target)^2), in the format of generate_golden.py's
fixtures with `inputs` (a list) in place of `input`.

Ties in maximum/minimum follow TensorFlow: the inputs are folded left to
right with `where(a >= b, a, b)` (`<=` for minimum), so the whole gradient
of a tied element goes to the lowest-index input among the tied ones (not
split, as torch.maximum does). The tie cases draw small integers so that
exact ties are common, and assert that they are.

Run from the repository root with Debian's PyTorch (python3-torch):

    /usr/bin/python3 conformance/scripts/generate_golden_merge.py
"""

import json
import os
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_golden import DTYPE, F32Number, FIXTURES_DIR, draw, encode, f32, tensor_json, write_atomically  # noqa: E402

GENERATOR = "conformance/scripts/generate_golden_merge.py"
MERGE_KINDS = ["add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]


def fold(xs, pick):
    out = xs[0]
    for x in xs[1:]:
        out = torch.where(pick(out, x), out, x)
    return out


def concat_axis(axis, rank):
    """Keras's axis (batch axis included, negative from the end) as a torch dim of a batched tensor of `rank` dims."""
    full = axis + rank if axis < 0 else axis
    assert 1 <= full < rank, (axis, rank)
    return full


def forward(kind, xs, o):
    if kind == "add":
        return sum(xs[1:], xs[0])
    if kind == "subtract":
        assert len(xs) == 2
        return xs[0] - xs[1]
    if kind == "multiply":
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out
    if kind == "average":
        return sum(xs[1:], xs[0]) / len(xs)
    if kind == "maximum":
        return fold(xs, lambda a, b: a >= b)
    if kind == "minimum":
        return fold(xs, lambda a, b: a <= b)
    if kind == "concatenate":
        return torch.cat(xs, dim=concat_axis(o.get("axis", -1), xs[0].dim()))
    raise ValueError(kind)


def case_grid():
    """(id, kind, options, input shapes, integer-valued draws for ties)."""
    grid = []
    for kind in ["add", "multiply", "average"]:
        grid.append((f"{kind}/two-2x3x4", kind, {}, [[2, 3, 4], [2, 3, 4]], False))
        grid.append((f"{kind}/three-2x5", kind, {}, [[2, 5], [2, 5], [2, 5]], False))
    grid.append(("subtract/two-2x3x4", "subtract", {}, [[2, 3, 4], [2, 3, 4]], False))
    grid.append(("subtract/two-2x4x4x2", "subtract", {}, [[2, 4, 4, 2], [2, 4, 4, 2]], False))
    for kind in ["maximum", "minimum"]:
        grid.append((f"{kind}/two-2x3x4", kind, {}, [[2, 3, 4], [2, 3, 4]], False))
        grid.append((f"{kind}/ties-three-2x4x4x2", kind, {}, [[2, 4, 4, 2]] * 3, True))
    grid.append(("concatenate/channels-2x3x3", "concatenate", {}, [[2, 3, 3, 2], [2, 3, 3, 3]], False))
    grid.append(("concatenate/axis1-2xNx4", "concatenate", {"axis": 1}, [[2, 2, 4], [2, 3, 4]], False))
    grid.append(("concatenate/axis2-three-4d", "concatenate", {"axis": 2}, [[2, 3, 2, 2], [2, 3, 1, 2], [2, 3, 3, 2]], False))
    grid.append(("concatenate/axis-minus3-2x2x3x2", "concatenate", {"axis": -3}, [[2, 2, 3, 2], [2, 1, 3, 2]], False))
    return grid


def make_case(case_id, kind, options, shapes, ties):
    gen = torch.Generator().manual_seed(zlib.crc32(case_id.encode()))
    if ties:
        xs = [torch.randint(-1, 2, s, generator=gen).to(DTYPE) for s in shapes]
        stacked = torch.stack(xs)
        best = stacked.max(0).values if kind == "maximum" else stacked.min(0).values
        tied = ((stacked == best).sum(0) >= 2).sum().item()
        assert tied >= 4, (case_id, "too few exact ties", tied)
        assert ((stacked == best).sum(0) == 3).any(), (case_id, "no three-way tie")
    else:
        xs = [draw(s, gen) for s in shapes]
    xg = [x.clone().requires_grad_(True) for x in xs]
    y = forward(kind, xg, options)
    target = draw(list(y.shape), gen)
    loss = ((y - target) ** 2).mean()
    grads = torch.autograd.grad(loss, xg)
    if ties:
        # Every element's gradient lands on exactly one input: the first among those equal to the result.
        dy = 2 * (y.detach() - target) / y.numel()
        stacked = torch.stack(xs)
        owner = (stacked == y.detach()).to(torch.int64).argmax(0)
        for i, g in enumerate(grads):
            expected = torch.where(owner == i, dy, torch.zeros_like(dy))
            assert torch.allclose(g, expected, rtol=0, atol=1e-15), (case_id, "tie rule", i)
    else:
        check_finite_differences(case_id, kind, options, xs, target, grads)
    return {
        "id": case_id,
        "kind": kind,
        "options": options,
        "inputs": [tensor_json(x) for x in xs],
        "weights": [],
        "output": tensor_json(y.detach()),
        "target": tensor_json(target),
        "loss": F32Number(loss.item()),
        "gradients": {"inputs": [tensor_json(g) for g in grads], "weights": []},
    }


def check_finite_differences(case_id, kind, options, xs, target, grads):
    def loss_at(inputs):
        return ((forward(kind, inputs, options) - target) ** 2).mean().item()

    gen = torch.Generator().manual_seed(zlib.crc32(case_id.encode()) ^ 0x5F5F)
    for k, (x, g) in enumerate(zip(xs, grads)):
        for _ in range(3):
            i = int(torch.randint(x.numel(), (1,), generator=gen))
            eps = 1e-6
            plus, minus = x.clone(), x.clone()
            plus.view(-1)[i] += eps
            minus.view(-1)[i] -= eps
            numeric = (loss_at(xs[:k] + [plus] + xs[k + 1:]) - loss_at(xs[:k] + [minus] + xs[k + 1:])) / (2 * eps)
            analytic = g.reshape(-1)[i].item()
            assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(analytic)) + 1e-9, (case_id, k, i, numeric, analytic)


def check_known_answers():
    a = torch.tensor([[1.0, 5.0, 2.0]], dtype=DTYPE)
    b = torch.tensor([[1.0, 3.0, 4.0]], dtype=DTYPE)
    assert forward("maximum", [a, b], {}).tolist() == [[1.0, 5.0, 4.0]]
    assert forward("minimum", [a, b], {}).tolist() == [[1.0, 3.0, 2.0]]
    assert forward("concatenate", [a, b], {}).tolist() == [[1.0, 5.0, 2.0, 1.0, 3.0, 4.0]]
    assert forward("concatenate", [a.reshape(1, 3, 1), b.reshape(1, 3, 1)], {"axis": 1}).shape == (1, 6, 1)
    # The tie at index 0 goes wholly to the first input.
    ag, bg = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    forward("maximum", [ag, bg], {}).sum().backward()
    assert ag.grad.tolist() == [[1.0, 1.0, 0.0]] and bg.grad.tolist() == [[0.0, 0.0, 1.0]]


def main():
    torch.set_num_threads(1)
    check_known_answers()
    by_kind = {kind: [] for kind in MERGE_KINDS}
    for case_id, kind, options, shapes, ties in case_grid():
        by_kind[kind].append(make_case(case_id, kind, options, shapes, ties))
    for kind, cases in by_kind.items():
        assert cases, kind
        doc = {"generator": GENERATOR, "torch": torch.__version__, "kind": kind, "cases": cases}
        text = encode(doc) + "\n"
        json.loads(text)
        path = os.path.join(FIXTURES_DIR, f"{kind}.json")
        write_atomically(path, text)
        print(f"{kind:12s} {len(cases):3d} cases  {len(text.encode()) / 1024:7.1f} KiB  {os.path.relpath(path)}")


if __name__ == "__main__":
    sys.exit(main())
