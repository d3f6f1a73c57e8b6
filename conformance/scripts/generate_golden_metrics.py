#!/usr/bin/python3
"""Golden values of compile({metrics}), accumulated over several batches.

Written by this script into conformance/fixtures/training/metrics.json: for
each case, fixed float32 predictions and targets, a batch size that splits
them into several batches (the last one short), the metric's configuration,
and its value over all of them accumulated as Keras 3 does (mean metrics:
total over every value / number of values, not a mean of batch means;
precision, recall and AUC: confusion counts summed over batches, the value
computed once from the totals). Each case asserts that the mean of the
per-batch values differs from the accumulated value, so a backend or core
that averages batch results fails it.

Formulas (Keras 3, TensorFlow backend), in float32 where Keras computes in
float32 (comparisons, AUC's bucket index), sums in float64:

- binary accuracy: y == (p > threshold); ties at the threshold are negative.
- categorical accuracy: argmax(y) == argmax(p), first index on ties (numpy,
  TensorFlow); per position of the output without its class axis.
- sparse categorical accuracy: y (class index, shape [n] or [n, 1]) == argmax(p).
- top-k categorical accuracy: TensorFlow's in_top_k, a hit when fewer than k
  classes score strictly above the target class (ties count as in the top k).
- mean absolute / squared error.
- precision / recall at a threshold: p > threshold is positive, y != 0 is.
- AUC (ROC, interpolation, num_thresholds T): Keras's evenly-spaced path,
  bucket = max(ceil(float32(p * (T - 1))) - 1, 0); tp/fp at threshold j sum
  the buckets >= j; area = sum over j of (fpr_j - fpr_j+1) (tpr_j + tpr_j+1) / 2.
  The bucket result is cross-checked here against the thresholds
  themselves (p > j / (T - 1), with -eps and 1 + eps at the ends) on the
  predictions that are not within one float32 ulp of a threshold.

Sparse cases (targets of class indices) are read by the backends' own
package tests at the kernel level until core checks sparse targets.

Run it from the repository root:

    /usr/bin/python3 conformance/scripts/generate_golden_metrics.py
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate_golden as gg  # noqa: E402

GENERATOR = "conformance/scripts/generate_golden_metrics.py"
PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "training", "metrics.json")
F32 = np.float32


def tensor(a):
    return gg.tensor_json(torch.tensor(np.asarray(a, dtype=F32)))


# --------------------------------------------------------------------------
# Per-batch partials and their values (Keras 3's formulas)
# --------------------------------------------------------------------------

def positions(p):
    """[m, classes] view of [n, ..., classes]."""
    return p.reshape(-1, p.shape[-1])


def mean_partial(kind, cfg, p, y):
    """(sum of values, number of values) of a mean metric on one batch."""
    if kind == "binaryAccuracy":
        v = (y == (p > F32(cfg.get("threshold", 0.5))).astype(F32)).astype(np.float64)
    elif kind == "categoricalAccuracy":
        v = (np.argmax(positions(y), axis=1) == np.argmax(positions(p), axis=1)).astype(np.float64)
    elif kind == "sparseCategoricalAccuracy":
        v = (y.reshape(-1) == np.argmax(positions(p), axis=1).astype(F32)).astype(np.float64)
    elif kind == "topKCategoricalAccuracy":
        pp = positions(p)
        t = np.argmax(positions(y), axis=1)
        at = pp[np.arange(len(t)), t][:, None]
        v = ((pp > at).sum(axis=1) < cfg.get("k", 5)).astype(np.float64)
    elif kind == "meanAbsoluteError":
        v = np.abs((p - y).astype(np.float64))  # the difference in float32, as the backends compute it
    elif kind == "meanSquaredError":
        d = (p - y).astype(np.float64)  # the difference in float32, squared and summed in float64
        v = d * d
    else:
        raise ValueError(kind)
    return v.sum(), v.size


def confusion_partial(cfg, p, y):
    pos = p > F32(cfg.get("threshold", 0.5))
    lab = y != 0
    return np.array([(pos & lab).sum(), (pos & ~lab).sum(), (~pos & lab).sum()], dtype=np.float64)


def auc_partial(cfg, p, y):
    t = cfg.get("numThresholds", 200)
    p = p.reshape(-1)
    y = y.reshape(-1).astype(np.float64)
    bucket = np.clip(np.ceil(p * F32(t - 1)) - F32(1), 0, t - 1).astype(np.int64)
    pos = np.bincount(bucket, weights=y, minlength=t)
    neg = np.bincount(bucket, weights=1 - y, minlength=t)
    # Cross-check against the thresholds themselves away from float32 ties.
    thresholds = np.array([-1e-7] + [(i + 1) / (t - 1) for i in range(t - 2)] + [1 + 1e-7])
    for j in range(t):
        clear = np.abs(p.astype(np.float64) - thresholds[j]) > 1e-6
        by_threshold = (y * (p > thresholds[j]))[clear].sum()
        by_bucket = (y * (bucket >= j))[clear].sum()
        assert abs(by_threshold - by_bucket) < 1e-9, (j, by_threshold, by_bucket)
    return np.concatenate([pos, neg])


def partial(kind, cfg, p, y):
    if kind in ("precision", "recall"):
        return confusion_partial(cfg, p, y), 0
    if kind == "auc":
        return auc_partial(cfg, p, y), 0
    s, n = mean_partial(kind, cfg, p, y)
    return np.array([s]), n


def ratio(a, b):
    return 0.0 if b == 0 else a / b


def value(kind, cfg, total, count):
    if kind == "precision":
        return ratio(total[0], total[0] + total[1])
    if kind == "recall":
        return ratio(total[0], total[0] + total[2])
    if kind == "auc":
        t = cfg.get("numThresholds", 200)
        tp = np.cumsum(total[:t][::-1])[::-1]
        fp = np.cumsum(total[t:][::-1])[::-1]
        P, N = tp[0], fp[0]
        tpr = np.array([ratio(v, P) for v in tp])
        fpr = np.array([ratio(v, N) for v in fp])
        return float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))
    return ratio(total[0], count)


def make_case(case_id, kind, cfg, loss, p, y, batch_size, resolves_to=None):
    p = np.asarray(p, dtype=F32)
    y = np.asarray(y, dtype=F32)
    n = p.shape[0]
    assert n % batch_size != 0 and n > 2 * batch_size, "several batches, the last one short"
    resolved = resolves_to or kind
    total, count, batch_values = None, 0, []
    for start in range(0, n, batch_size):
        part, c = partial(resolved, cfg, p[start : start + batch_size], y[start : start + batch_size])
        total = part if total is None else total + part
        count += c
        batch_values.append(value(resolved, cfg, part, c))
    accumulated = value(resolved, cfg, total, count)
    assert abs(np.mean(batch_values) - accumulated) > 1e-4, f"{case_id}: the mean of batch values equals the accumulated one"
    metric = dict(cfg, kind=kind)
    return {
        "id": case_id,
        "metric": metric,
        "key": cfg.get("name", kind),
        "resolvesTo": resolved,
        "loss": loss,
        "sparse": resolved == "sparseCategoricalAccuracy",
        "batchSize": batch_size,
        "predictions": tensor(p),
        "targets": tensor(y),
        "value": float(accumulated),
    }


def probabilities(rng, shape):
    return rng.random(shape).astype(F32)


def one_hot(rng, n, classes):
    return np.eye(classes, dtype=F32)[rng.integers(0, classes, n)]


def cases():
    rng = np.random.default_rng(14)
    out = []
    # Binary accuracy: ties at 0.5 (negative), one ulp on either side, the ends.
    half = F32(0.5)
    edge = [half, np.nextafter(half, F32(1)), np.nextafter(half, F32(0)), F32(0), F32(1)]
    p = np.concatenate([np.array(edge, dtype=F32), probabilities(rng, 8)]).reshape(13, 1)
    y = np.array([1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1], dtype=F32).reshape(13, 1)
    out.append(make_case("binaryAccuracy/threshold-ties", "binaryAccuracy", {}, "binaryCrossentropy", p, y, 5))
    out.append(make_case("accuracy/binary-by-shape", "accuracy", {}, "binaryCrossentropy", p, y, 4, resolves_to="binaryAccuracy"))
    seven = F32(0.7)
    p7 = np.array([seven, np.nextafter(seven, F32(1)), F32(0.69), F32(0.9), F32(0.1), seven, F32(0.71), F32(0.2), F32(0.75), F32(0.3), F32(0.65)], dtype=F32)
    y7 = np.array([1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1], dtype=F32)  # both ties at 0.7 labelled 1: a ">=" bug cannot cancel out
    out.append(make_case("binaryAccuracy/threshold-0.7", "binaryAccuracy", {"threshold": 0.7, "name": "acc70"}, "meanSquaredError", p7.reshape(11, 1), y7.reshape(11, 1), 3))
    pm = probabilities(rng, (9, 3))
    pm[0, 0] = half
    ym = (rng.random((9, 3)) > 0.5).astype(F32)
    out.append(make_case("binaryAccuracy/multi-label", "binaryAccuracy", {}, "binaryCrossentropy", pm, ym, 4))
    # Categorical accuracy: ties (first maximum wins), several positions per sample.
    pc = probabilities(rng, (11, 4))
    pc[0] = [0.4, 0.4, 0.1, 0.1]
    pc[1] = [0.1, 0.4, 0.4, 0.1]
    pc[2] = [0.25, 0.25, 0.25, 0.25]
    yc = one_hot(rng, 11, 4)
    yc[0] = [0, 1, 0, 0]
    yc[1] = [0, 1, 0, 0]
    yc[2] = [1, 0, 0, 0]
    out.append(make_case("categoricalAccuracy/ties", "categoricalAccuracy", {}, "categoricalCrossentropy", pc, yc, 4))
    out.append(make_case("accuracy/categorical-by-shape", "accuracy", {}, "categoricalCrossentropy", pc, yc, 3, resolves_to="categoricalAccuracy"))
    pr = probabilities(rng, (7, 2, 3))
    yr = one_hot(rng, 14, 3).reshape(7, 2, 3)
    out.append(make_case("categoricalAccuracy/positions", "categoricalAccuracy", {}, "categoricalCrossentropy", pr, yr, 3))
    # Top-k: ties straddling the k-th place count as in.
    pk = probabilities(rng, (10, 5))
    pk[0] = [0.3, 0.3, 0.3, 0.05, 0.05]
    pk[1] = [0.1, 0.5, 0.2, 0.2, 0.0]
    pk[2] = [0.5, 0.2, 0.1, 0.1, 0.1]
    yk = one_hot(rng, 10, 5)
    yk[0] = [0, 0, 1, 0, 0]
    yk[1] = [0, 0, 0, 1, 0]
    yk[2] = [0, 0, 1, 0, 0]
    out.append(make_case("topKCategoricalAccuracy/k2-ties", "topKCategoricalAccuracy", {"k": 2}, "categoricalCrossentropy", pk, yk, 4))
    pk6 = probabilities(rng, (9, 7))
    yk6 = one_hot(rng, 9, 7)
    out.append(make_case("topKCategoricalAccuracy/default-k5", "topKCategoricalAccuracy", {}, "categoricalCrossentropy", pk6, yk6, 4))
    # Mean errors.
    pe = rng.normal(size=(10, 3)).astype(F32)
    ye = rng.normal(size=(10, 3)).astype(F32)
    ye[:3] = ye[:3] * 4
    out.append(make_case("meanAbsoluteError/normal", "meanAbsoluteError", {}, "meanSquaredError", pe, ye, 4))
    out.append(make_case("meanSquaredError/normal", "meanSquaredError", {}, "meanSquaredError", pe, ye, 4))
    # Precision and recall: ties at the threshold, a soft label (y != 0 is positive).
    pp = np.concatenate([np.array(edge, dtype=F32), probabilities(rng, 9)]).reshape(7, 2)
    yp = np.array([1, 0, 0.5, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1], dtype=F32).reshape(7, 2)
    out.append(make_case("precision/threshold-ties", "precision", {}, "meanSquaredError", pp, yp, 2))
    out.append(make_case("recall/threshold-ties", "recall", {}, "meanSquaredError", pp, yp, 3))
    out.append(make_case("precision/threshold-0.7", "precision", {"threshold": 0.7}, "meanSquaredError", p7.reshape(11, 1), y7.reshape(11, 1), 4))
    # AUC: predictions at 0, 1, on the thresholds k/199 and between them; one soft label.
    on = np.array([F32(k / 199) for k in (1, 50, 99, 100, 150, 198)], dtype=F32)
    pa = np.concatenate([np.array([0, 1, 0.5, 0.5], dtype=F32), on, probabilities(rng, 30)]).reshape(40, 1)
    ya = (rng.random(40) < pa.reshape(-1) * 0.8 + 0.1).astype(F32).reshape(40, 1)
    out.append(make_case("auc/default-200", "auc", {}, "binaryCrossentropy", pa, ya, 16))
    ya_soft = ya.copy()
    ya_soft[5, 0] = 0.25
    out.append(make_case("auc/soft-label", "auc", {}, "binaryCrossentropy", pa, ya_soft, 16))
    out.append(make_case("auc/5-thresholds", "auc", {"numThresholds": 5, "name": "auc5"}, "binaryCrossentropy", pa, ya, 15))
    pa2 = probabilities(rng, (9, 3))
    pa2[0, 0] = 0.25  # exactly on a threshold of T = 5
    ya2 = (rng.random((9, 3)) > 0.5).astype(F32)
    out.append(make_case("auc/multi-element", "auc", {"numThresholds": 5}, "binaryCrossentropy", pa2, ya2, 4))
    # Sparse categorical accuracy (kernel level): labels [n] and [n, 1], a tie.
    ps = probabilities(rng, (10, 4))
    ps[0] = [0.3, 0.3, 0.2, 0.2]
    ys = rng.integers(0, 4, 10).astype(F32)
    ys[0] = 1
    out.append(make_case("sparseCategoricalAccuracy/labels-n", "sparseCategoricalAccuracy", {}, "sparseCategoricalCrossentropy", ps, ys, 4))
    out.append(make_case("sparseCategoricalAccuracy/labels-n1", "sparseCategoricalAccuracy", {}, "sparseCategoricalCrossentropy", ps, ys.reshape(10, 1), 3))
    return out


def main():
    all_cases = cases()
    ids = [c["id"] for c in all_cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    doc = {"generator": GENERATOR, "numpy": np.__version__, "cases": all_cases}
    text = gg.encode(doc) + "\n"
    json.loads(text)
    gg.write_atomically(PATH, text)
    print(f"{os.path.relpath(PATH)}: {len(all_cases)} cases, {len(text.encode()) / 1024:.1f} KiB")


if __name__ == "__main__":
    sys.exit(main())
