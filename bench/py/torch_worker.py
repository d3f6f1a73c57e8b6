#!/usr/bin/python3
"""PyTorch contender worker for `pnpm bench` (araboza's bench/src/run.ts).

Speaks the line protocol of bench/src/protocol.ts: one JSON request per line
on stdin, one JSON reply per line on stdout. It measures the PyTorch CPU
reference of the model `setup` names:

  autoencoder: imported unchanged from ae_mnist.py (a byte-for-byte copy of
               ../shared/bench/ae_mnist.py: Keras padding, pooling and init
               semantics, BCE from logits), trained image -> itself;
  unet:        reference_models.DenoisingUnet, BCE from logits, noisy images
               (clip(x + 0.5 N(0, 1), 0, 1), made once at setup from a
               seeded generator) -> clean ones;
  resnet:      reference_models.SmallResidualNetwork, cross-entropy from
               logits on the integer labels (the same value as categorical
               cross-entropy on one-hot labels after a softmax).

Setup refuses to run when the model's parameter count is not araboza's.
With the same protocol as ../shared/bench/speed_bench.py and train_bench.py:

  trainSteps: forward + loss + backward + Adam step (Keras betas/epsilon) on
              one batch, plus loss.item(), as araboza's trainStep returns the loss;
  inference:  eval mode + inference_mode, forward incl. the output
              activation over the 10,000 test images at the batch size;
  epoch:      one epoch over the 60,000 training images, reshuffled with a
              seeded generator, batch gather included, as train_bench.py;
              with "validation", then an eval-mode loss pass over the 10,000
              test images at the batch size (Keras's validation_data), timed
              with the epoch.

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
        import torch.nn.functional as F
        from ae_mnist import DEFAULT_DATA_DIR, EXPECTED_PARAMS, ConvAE, bce_from_logits, count_params, load_mnist
        import reference_models as rm

        torch.set_num_threads(int(req["threads"]))
        seed = int(req["seed"])
        torch.manual_seed(seed)
        self.torch = torch
        self.bs = int(req["batchSize"])
        name = req.get("model", "autoencoder")
        if name == "autoencoder":
            self.model, expected, expected_non_trainable = ConvAE(), EXPECTED_PARAMS, 0
        elif name == "unet":
            self.model, expected, expected_non_trainable = rm.DenoisingUnet(), rm.UNET_PARAMS, 0
        elif name == "resnet":
            self.model, expected, expected_non_trainable = rm.SmallResidualNetwork(), rm.RESNET_PARAMS, rm.RESNET_NON_TRAINABLE
        else:
            raise ValueError(f"unknown model {name!r}; expected autoencoder, unet or resnet")
        # Refused before any data is loaded: a model that is not araboza's must not be measured against it.
        trainable = count_params(self.model)
        non_trainable = rm.non_trainable_count(self.model)
        params = trainable + non_trainable
        if params != expected or non_trainable != expected_non_trainable:
            raise RuntimeError(f"PyTorch reference {name} has {params} parameters ({non_trainable} non-trainable), "
                               f"expected {expected} ({expected_non_trainable} non-trainable) as araboza's")
        x_train, x_test = load_mnist(DEFAULT_DATA_DIR)
        if name == "autoencoder":
            self.loss_fn = bce_from_logits
            self.train = (x_train, x_train)
            self.test = (x_test, x_test)
        elif name == "unet":
            self.loss_fn = bce_from_logits
            # Different seeds for the two splits, as araboza's worker (and the U-Net example) draws them.
            self.train = (rm.noisy(x_train, seed * 2 + 1), x_train)
            self.test = (rm.noisy(x_test, seed * 2 + 2), x_test)
        else:
            self.loss_fn = F.cross_entropy
            self.train = (x_train, rm.load_labels(DEFAULT_DATA_DIR, "train"))
            self.test = (x_test, rm.load_labels(DEFAULT_DATA_DIR, "t10k"))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        self.batch = (self.train[0][:self.bs].clone(), self.train[1][:self.bs].clone())
        self.gen = torch.Generator()
        self.ready = True
        malloc = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_") or k == "LD_PRELOAD"}
        return {"ok": True, "engine": f"torch {torch.__version__}", "threads": torch.get_num_threads(), "params": params,
                "nonTrainableParams": non_trainable,
                "info": {"python": platform.python_version(), "mkldnn": torch.backends.mkldnn.is_available(),
                         "interop_threads": torch.get_num_interop_threads(), "malloc_env": malloc, "model": name}}

    def step(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model.logits(x), y)
        loss.backward()
        self.opt.step()
        return loss.item()

    def train_steps(self, reps):
        self.model.train()
        ms, loss = [], None
        for _ in range(reps):
            t0 = time.perf_counter()
            loss = self.step(*self.batch)
            ms.append((time.perf_counter() - t0) * 1e3)
        return {"ok": True, "ms": ms, "loss": loss}

    def inference(self, reps, images=None):
        x = self.test[0] if images is None else self.test[0][:int(images)]
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

    def epoch(self, seed, validation=False):
        self.model.train()
        x, y = self.train
        n = len(x)
        self.gen.manual_seed(int(seed))
        perm = self.torch.randperm(n, generator=self.gen)
        loss_sum = 0.0
        t0 = time.perf_counter()
        for i in range(0, n, self.bs):
            idx = perm[i:i + self.bs]
            loss_sum += self.step(x[idx], y[idx]) * len(idx)
        out = {"ok": True, "loss": loss_sum / n}
        if validation:
            out["valLoss"] = self.validation_loss()
        out["ms"] = [(time.perf_counter() - t0) * 1e3]
        return out

    def validation_loss(self):
        """Mean loss over the test samples, eval mode, batch by batch (Keras's validation pass)."""
        x, y = self.test
        self.model.eval()
        total = 0.0
        with self.torch.inference_mode():
            for i in range(0, len(x), self.bs):
                total += self.loss_fn(self.model.logits(x[i:i + self.bs]), y[i:i + self.bs]).item() * len(x[i:i + self.bs])
        self.model.train()
        return total / len(x)

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
            return self.epoch(req["seed"], bool(req.get("validation", False)))
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
