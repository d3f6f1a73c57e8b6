#!/usr/bin/python3
"""PyTorch contender worker for `pnpm bench` (araboza's bench/src/run.ts).

Speaks the line protocol of bench/src/protocol.ts: one JSON request per line
on stdin, one JSON reply per line on stdout. It measures the PyTorch CPU
reference model, imported unchanged from ae_mnist.py (a byte-for-byte copy
of ../shared/bench/ae_mnist.py: Keras padding, pooling and init semantics,
BCE from logits), with the same protocol as ../shared/bench/speed_bench.py
and train_bench.py:

  trainSteps: forward + BCE + backward + Adam step (Keras betas/epsilon) on
              one batch, plus loss.item(), as araboza's trainStep returns the loss;
  inference:  eval mode + inference_mode, forward incl. sigmoid over the
              10,000 test images at the batch size;
  epoch:      one epoch over the 60,000 training images, reshuffled with a
              seeded generator, batch gather included, as train_bench.py.

Unlike the shared scripts it does not wait for a quiet CPU: the orchestrator
alternates contenders and records the CPU other processes used instead.
Run it with MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ set (the
orchestrator does), as ../shared/bench/README.md explains.
"""
import json
import os
import platform
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Worker:
    def __init__(self):
        self.ready = False

    def setup(self, req):
        import torch
        from ae_mnist import DEFAULT_DATA_DIR, EXPECTED_PARAMS, ConvAE, bce_from_logits, count_params, load_mnist

        torch.set_num_threads(int(req["threads"]))
        torch.manual_seed(int(req["seed"]))
        self.torch, self.bce = torch, bce_from_logits
        self.bs = int(req["batchSize"])
        self.x_train, self.x_test = load_mnist(DEFAULT_DATA_DIR)
        self.model = ConvAE()
        params = count_params(self.model)
        if params != EXPECTED_PARAMS:
            raise RuntimeError(f"PyTorch reference model has {params} parameters, expected {EXPECTED_PARAMS}")
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        self.batch = self.x_train[:self.bs].clone()
        self.gen = torch.Generator()
        self.ready = True
        malloc = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_") or k == "LD_PRELOAD"}
        return {"ok": True, "engine": f"torch {torch.__version__}", "threads": torch.get_num_threads(), "params": params,
                "info": {"python": platform.python_version(), "mkldnn": torch.backends.mkldnn.is_available(),
                         "interop_threads": torch.get_num_interop_threads(), "malloc_env": malloc}}

    def step(self, b):
        self.opt.zero_grad(set_to_none=True)
        loss = self.bce(self.model.logits(b), b)
        loss.backward()
        self.opt.step()
        return loss.item()

    def train_steps(self, reps):
        self.model.train()
        ms, loss = [], None
        for _ in range(reps):
            t0 = time.perf_counter()
            loss = self.step(self.batch)
            ms.append((time.perf_counter() - t0) * 1e3)
        return {"ok": True, "ms": ms, "loss": loss}

    def inference(self, reps, images=None):
        x = self.x_test if images is None else self.x_test[:int(images)]
        self.model.eval()
        ms = []
        for _ in range(reps):
            t0 = time.perf_counter()
            with self.torch.inference_mode():
                for i in range(0, len(x), self.bs):
                    self.model(x[i:i + self.bs])
            ms.append((time.perf_counter() - t0) * 1e3)
        self.model.train()
        return {"ok": True, "ms": ms}

    def epoch(self, seed):
        self.model.train()
        n = len(self.x_train)
        self.gen.manual_seed(int(seed))
        perm = self.torch.randperm(n, generator=self.gen)
        loss_sum = 0.0
        t0 = time.perf_counter()
        for i in range(0, n, self.bs):
            b = self.x_train[perm[i:i + self.bs]]
            loss_sum += self.step(b) * len(b)
        ms = (time.perf_counter() - t0) * 1e3
        return {"ok": True, "ms": [ms], "loss": loss_sum / n}

    def handle(self, req):
        cmd = req.get("cmd")
        if cmd == "setup":
            return self.setup(req)
        if not self.ready:
            raise RuntimeError(f"'{cmd}' before 'setup'")
        if cmd == "trainSteps":
            return self.train_steps(int(req["reps"]))
        if cmd == "inference":
            return self.inference(int(req["reps"]), req.get("images"))
        if cmd == "epoch":
            return self.epoch(req["seed"])
        if cmd == "quit":
            return {"ok": True, "ms": []}
        raise ValueError(f"unknown command {cmd!r}")


def main():
    worker = Worker()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            out = worker.handle(req)
        except Exception:
            req, out = {}, {"ok": False, "error": traceback.format_exc()}
        reply(out)
        if req.get("cmd") == "quit":
            break


if __name__ == "__main__":
    main()
