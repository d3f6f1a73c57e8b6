"""PyTorch equivalents of araboza's two second-stage reference models
(DESIGN.md, "Two more reference models"), for `pnpm bench`.

Keras semantics as araboza implements them: 3x3 `same` convolutions
(padding 1), 2x2 max pooling (28 -> 14 -> 7, no padding needed), nearest
upsampling, Glorot-uniform kernels and zero biases, BatchNormalization
with Keras's epsilon 1e-3 and momentum 0.9 (PyTorch's momentum is
1 - Keras's), Adam with Keras's epsilon (set by the worker).

- DenoisingUnet: 14,625 parameters; trained with BCE from noisy inputs
  (clip(x + 0.5 N(0, 1), 0, 1)) to clean digits; `logits` is the last
  convolution before its sigmoid (BCE from logits has the same value).
- SmallResidualNetwork: 9,930 parameters, 160 of them non-trainable
  buffers (the moving statistics); categorical cross-entropy on the dense
  layer's logits (the softmax folded into the loss, as Keras does).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

UNET_PARAMS = 14625
RESNET_PARAMS = 9930
RESNET_NON_TRAINABLE = 160
NOISE_STDDEV = 0.5


def _keras_init(module):
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def _conv(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1)


class DenoisingUnet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.c3 = _conv(1, 8), _conv(8, 16), _conv(16, 32)
        self.u2, self.u1, self.out = _conv(48, 16), _conv(24, 8), _conv(8, 1)
        _keras_init(self)

    def logits(self, x):
        c1 = F.relu(self.c1(x))
        c2 = F.relu(self.c2(F.max_pool2d(c1, 2)))
        c3 = F.relu(self.c3(F.max_pool2d(c2, 2)))
        u2 = F.relu(self.u2(torch.cat([F.interpolate(c3, scale_factor=2, mode="nearest"), c2], 1)))
        u1 = F.relu(self.u1(torch.cat([F.interpolate(u2, scale_factor=2, mode="nearest"), c1], 1)))
        return self.out(u1)

    def forward(self, x):
        return torch.sigmoid(self.logits(x))


def _bn():
    return nn.BatchNorm2d(16, eps=1e-3, momentum=0.1)


class SmallResidualNetwork(nn.Module):
    def __init__(self, dropout=0.2):
        super().__init__()
        self.stem, self.stem_bn = _conv(1, 16), _bn()
        self.convs = nn.ModuleList(_conv(16, 16) for _ in range(4))
        self.bns = nn.ModuleList(_bn() for _ in range(4))
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(16, 10)
        _keras_init(self)

    def logits(self, x):
        h = F.max_pool2d(F.relu(self.stem_bn(self.stem(x))), 2)
        for block in range(2):
            a, b = 2 * block, 2 * block + 1
            inner = self.bns[b](self.convs[b](F.relu(self.bns[a](self.convs[a](h)))))
            h = F.relu(inner + h)
        return self.dense(self.dropout(h.mean(dim=(2, 3))))

    def forward(self, x):
        return torch.softmax(self.logits(x), 1)


def non_trainable_count(model):
    """Keras's non-trainable parameters: the moving means and variances."""
    return sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))


def noisy(images, seed):
    """clip(x + 0.5 N(0, 1), 0, 1) with a seeded generator."""
    gen = torch.Generator().manual_seed(int(seed))
    return (images + NOISE_STDDEV * torch.randn(images.shape, generator=gen)).clamp_(0, 1)


def load_labels(data_dir, prefix):
    """MNIST labels as int64, from the IDX file next to the images."""
    import os

    from ae_mnist import read_idx

    for name in (f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte", f"{prefix}-labels-idx1-ubyte.gz"):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return torch.from_numpy(read_idx(p).astype(np.int64))
    raise FileNotFoundError(f"no {prefix} labels in {data_dir}")
