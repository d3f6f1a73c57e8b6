#!/usr/bin/python3
"""Golden vectors of whole graphs (skips, shared layers, several inputs and
outputs), computed with PyTorch.

Each case is a small functional model in the topology of araboza's saved
format version 2 — inputs, layers (kind, name, factory options), nodes
(the layer applied and the values it reads, in topological order) and
outputs — with its weights (layers in the order of their first
application, a shared layer's once), inputs, one target per output, the
loss weights, and: every output, every output's loss
mean((output - target)^2), the training loss Σ lossWeights[i]·loss_i, and
its gradients with respect to every input and every weight. A shared layer's
gradient is the sum over its uses (autograd adds them).

The layers are computed by generate_golden.py's and generate_golden_merge.py's
implementations; cases are drawn away from relu's kink and from ties in
maximum (by 1e-3), and every gradient is checked by central differences.

    /usr/bin/python3 conformance/scripts/generate_golden_graphs.py
"""

import json
import math
import os
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate_golden as single  # noqa: E402
import generate_golden_merge as merge  # noqa: E402
from generate_golden import DTYPE, F32Array, F32Number, draw, encode, tensor_json, write_atomically  # noqa: E402

GENERATOR = "conformance/scripts/generate_golden_graphs.py"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "graphs", "graphs.json")
MARGIN = 1e-3


def L(kind, name, **options):
    return {"kind": kind, "name": name, "options": options}


def N(layer, *inputs):
    return {"layer": layer, "inputs": list(inputs)}


def cases():
    """(id, inputs, layers, nodes, outputs, loss weights)."""
    return [
        (
            "residual-block",
            [{"name": "x", "shape": [5, 5, 2]}],
            [
                L("conv2d", "c1", filters=2, kernelSize=3, padding="same", activation="relu"),
                L("conv2d", "c2", filters=2, kernelSize=3, padding="same"),
                L("add", "res"),
                L("activation", "out", activation="tanh"),
            ],
            [N("c1", "x"), N("c2", "c1"), N("res", "c2", "x"), N("out", "res")],
            ["out"],
            [1.0],
        ),
        (
            "concat-skip",
            [{"name": "x", "shape": [6, 6, 1]}],
            [
                L("conv2d", "c1", filters=3, kernelSize=3, padding="same", activation="tanh"),
                L("maxPooling2d", "pool", poolSize=2),
                L("conv2d", "c2", filters=4, kernelSize=3, padding="same", activation="tanh"),
                L("upSampling2d", "up", size=2),
                L("concatenate", "skip"),
                # Two filters: torch 1.13's float64 conv2d backward fails on a one-filter kernel view.
                L("conv2d", "out", filters=2, kernelSize=3, padding="same", activation="sigmoid"),
            ],
            [N("c1", "x"), N("pool", "c1"), N("c2", "pool"), N("up", "c2"), N("skip", "up", "c1"), N("out", "skip")],
            ["out"],
            [1.0],
        ),
        (
            # The cropping's gradient pads dz with zeros right before the upsampling's sum (an AveragePool
            # for a power-of-two size on onnxruntime): a runtime that folds the pad into the pool's own
            # padding gets the border wrong, or (wider than the 2x1 window) fails to build the model.
            "upsample-then-crop",
            [{"name": "x", "shape": [3, 3, 2]}],
            [
                L("conv2d", "c", filters=2, kernelSize=2, padding="same", activation="tanh"),
                L("upSampling2d", "up", size=[2, 1]),
                L("cropping2d", "crop", cropping=[[1, 1], [1, 0]]),
                L("conv2d", "out", filters=2, kernelSize=3, padding="same", activation="sigmoid"),
            ],
            [N("c", "x"), N("up", "c"), N("crop", "up"), N("out", "crop")],
            ["out"],
            [1.0],
        ),
        (
            "shared-layer",
            [{"name": "a", "shape": [4]}, {"name": "b", "shape": [4]}],
            [
                L("dense", "shared", units=3, activation="tanh"),
                L("subtract", "diff"),
                L("dense", "head", units=2),
            ],
            [N("shared", "a"), N("shared", "b"), N("diff", "shared", "shared:1"), N("head", "diff")],
            ["head"],
            [1.0],
        ),
        (
            "two-inputs-two-outputs",
            [{"name": "image", "shape": [3, 3, 2]}, {"name": "side", "shape": [5]}],
            [
                L("conv2d", "conv", filters=2, kernelSize=2),
                L("flatten", "flat"),
                L("dense", "fa", units=4, activation="tanh"),
                L("dense", "fb", units=4, activation="relu"),
                L("concatenate", "joined"),
                L("maximum", "peak"),
                L("average", "mean"),
                L("dense", "label", units=2, activation="sigmoid"),
                L("dense", "value", units=1),
            ],
            [
                N("conv", "image"),
                N("flat", "conv"),
                N("fa", "flat"),
                N("fb", "side"),
                N("joined", "fa", "fb"),
                N("peak", "fa", "fb"),
                N("mean", "fa", "fb", "peak"),
                N("label", "joined"),
                N("value", "mean"),
            ],
            ["label", "value"],
            [1.0, 0.5],
        ),
    ]


def layer_forward(layer, xs, w):
    kind, o = layer["kind"], layer["options"]
    if kind in merge.MERGE_KINDS:
        return merge.forward(kind, xs, o)
    assert len(xs) == 1, layer["name"]
    return single.forward(kind, xs[0], w, o)


def run(inputs, layers, nodes, outputs, xs, weights):
    """Values by name; `weights[layer]` is that layer's {name: tensor}; also the smallest distance to a kink."""
    by_name = {l["name"]: l for l in layers}
    values = {i["name"]: x for i, x in zip(inputs, xs)}
    uses = {}
    kink = math.inf
    for n in nodes:
        layer = by_name[n["layer"]]
        k = uses.get(n["layer"], 0)
        uses[n["layer"]] = k + 1
        reads = [values[i] for i in n["inputs"]]
        o = layer["options"]
        if layer["kind"] in single.PRE_ACTIVATION and o.get("activation") == "relu":
            kink = min(kink, single.PRE_ACTIVATION[layer["kind"]](reads[0], weights[n["layer"]], o).abs().min().item())
        if layer["kind"] in ("maximum", "minimum"):
            stacked = torch.stack(reads)
            top2 = stacked.topk(2, dim=0).values
            kink = min(kink, (top2[0] - top2[1]).abs().min().item())
        values[n["layer"] if k == 0 else f"{n['layer']}:{k}"] = layer_forward(layer, reads, weights[n["layer"]])
    return [values[o] for o in outputs], kink


def weight_layout(inputs, layers, nodes):
    """(layer name, weight name, shape) in getWeights order: layers in first-application order."""
    by_name = {l["name"]: l for l in layers}
    shapes = {i["name"]: i["shape"] for i in inputs}
    order, seen = [], set()
    uses = {}
    for n in nodes:
        layer = by_name[n["layer"]]
        reads = [torch.zeros([1, *shapes[i]], dtype=DTYPE) for i in n["inputs"]]
        k = uses.get(n["layer"], 0)
        uses[n["layer"]] = k + 1
        ws = single.weight_shapes(layer["kind"], shapes[n["inputs"][0]], layer["options"]) if layer["kind"] not in merge.MERGE_KINDS else []
        if n["layer"] not in seen:
            seen.add(n["layer"])
            order += [(n["layer"], w, s) for w, s in ws]
        w = {wn: torch.zeros(s, dtype=DTYPE) for wn, s in ws}
        shapes[n["layer"] if k == 0 else f"{n['layer']}:{k}"] = list(layer_forward(layer, reads, w).shape[1:])
    return order


def make_case(case_id, inputs, layers, nodes, outputs, loss_weights, batch=3):
    layout = weight_layout(inputs, layers, nodes)
    seed = zlib.crc32(case_id.encode())
    for attempt in range(200):
        gen = torch.Generator().manual_seed(seed + attempt)
        xs = [draw([batch, *i["shape"]], gen) for i in inputs]
        flat = {}
        for layer, name, shape in layout:
            fan_in = math.prod(shape[:-1]) if name == "kernel" else 1
            flat[(layer, name)] = draw(shape, gen, 1.0 / math.sqrt(fan_in) if name == "kernel" else 0.5)
        weights = {l["name"]: {} for l in layers}
        for (layer, name), t in flat.items():
            weights[layer][name] = t
        _, kink = run(inputs, layers, nodes, outputs, xs, weights)
        if kink > MARGIN:
            break
    else:
        raise RuntimeError(f"{case_id}: no draw kept relu inputs and maximum ties {MARGIN} away")
    leaves = [x.clone().requires_grad_(True) for x in xs] + [t.clone().requires_grad_(True) for t in flat.values()]
    n_in = len(xs)
    wg = {l["name"]: {} for l in layers}
    for (layer, name), leaf in zip(flat.keys(), leaves[n_in:]):
        wg[layer][name] = leaf
    ys, _ = run(inputs, layers, nodes, outputs, leaves[:n_in], wg)
    targets = [draw(list(y.shape), gen) for y in ys]
    losses = [((y - t) ** 2).mean() for y, t in zip(ys, targets)]
    total = sum(w * l for w, l in zip(loss_weights, losses))
    grads = torch.autograd.grad(total, leaves)

    def total_at(values):
        wv = {l["name"]: {} for l in layers}
        for (layer, name), v in zip(flat.keys(), values[n_in:]):
            wv[layer][name] = v
        out, _ = run(inputs, layers, nodes, outputs, values[:n_in], wv)
        return sum(w * ((y - t) ** 2).mean().item() for w, y, t in zip(loss_weights, out, targets))

    base = [leaf.detach() for leaf in leaves]
    fd = torch.Generator().manual_seed(seed ^ 0x5F5F)
    for k, (t, g) in enumerate(zip(base, grads)):
        for _ in range(3):
            i = int(torch.randint(t.numel(), (1,), generator=fd))
            plus, minus = t.clone(), t.clone()
            plus.view(-1)[i] += 1e-6
            minus.view(-1)[i] -= 1e-6
            numeric = (total_at(base[:k] + [plus] + base[k + 1:]) - total_at(base[:k] + [minus] + base[k + 1:])) / 2e-6
            analytic = g.reshape(-1)[i].item()
            assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(analytic)) + 1e-9, (case_id, k, i, numeric, analytic)
    return {
        "id": case_id,
        "topology": {"inputs": inputs, "layers": layers, "nodes": nodes, "outputs": outputs},
        "lossWeights": loss_weights,
        "inputs": [tensor_json(x) for x in xs],
        "weights": [{"layer": layer, "name": name, **tensor_json(t)} for (layer, name), t in flat.items()],
        "outputs": [tensor_json(y.detach()) for y in ys],
        "targets": [tensor_json(t) for t in targets],
        "outputLosses": F32Array([float(torch.tensor(l.item(), dtype=torch.float32)) for l in losses]),
        "loss": F32Number(total.item()),
        "gradients": {
            "inputs": [tensor_json(g) for g in grads[:n_in]],
            "weights": [{"layer": layer, "name": name, **tensor_json(g)} for (layer, name), g in zip(flat.keys(), grads[n_in:])],
        },
    }


def main():
    torch.set_num_threads(1)
    built = [make_case(*c) for c in cases()]
    doc = {"generator": GENERATOR, "torch": torch.__version__, "cases": built}
    text = encode(doc) + "\n"
    json.loads(text)
    write_atomically(OUT, text)
    print(f"{len(built)} graph cases  {len(text.encode()) / 1024:.1f} KiB  {os.path.relpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main())
