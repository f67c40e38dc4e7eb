"""alexnet_torch.py: the paper's network (§3.5, Figure 2) in PyTorch with the
same structure, parameter names and width multiplier as net/net_layers.c, and
the formula that fills weights and inputs on both sides (so no weights are
stored). The one PyTorch model of the project: used by scripts/to_pytorch.py
and scripts/to_onnx.py (checkpoints), tests/reference/gen_fixture.py (parity
fixtures) and bench/cpu (the PyTorch peer)."""
import math

try:
    import numpy as np  # the fill formula only: the model needs torch alone (bench/gpu/bench_torch.py)
except ImportError:
    np = None
import torch
from torch import nn


def scaled_conv(channels, width):
    """Conv channel count times the width: a multiple of 2 (the groups), >= 2 (as net.c)."""
    return max(2, 2 * int(math.floor(channels * width / 2.0 + 0.5)))


def scaled_fc(features, width):
    return max(1, int(math.floor(features * width + 0.5)))


class AlexNet(nn.Module):
    """conv1..conv5 with ReLU, LRN after relu1/relu2, 3x3/2 max pooling, fc6..fc8;
    or a variant of the paper's experiments (net/net.h's net_config,
    docs/experiments.md): lrn_convention "off" drops the LRNs (§3.3),
    pooling "plain" pools 2x2 with stride 2 (§3.4), towers 1 makes conv2, conv4
    and conv5 ungrouped (§3.2), activation "tanh" replaces every ReLU (§3.1)."""

    def __init__(self, width=1.0, num_classes=1000, lrn_convention="divided_by_n", dropout=0.5,
                 pooling="overlap", towers=2, activation="relu"):
        super().__init__()
        if lrn_convention not in ("divided_by_n", "literal", "off"):
            raise ValueError(f"unknown LRN setting {lrn_convention!r}")
        if pooling not in ("overlap", "plain") or towers not in (1, 2) or activation not in ("relu", "tanh"):
            raise ValueError(f"unknown variant: pooling {pooling!r}, towers {towers!r}, activation {activation!r}")
        c1, c2, c3, c4, c5 = (scaled_conv(c, width) for c in (96, 256, 384, 384, 256))
        f6, f7 = scaled_fc(4096, width), scaled_fc(4096, width)
        self.conv1 = nn.Conv2d(3, c1, 11, stride=4, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2, groups=towers)
        self.conv3 = nn.Conv2d(c2, c3, 3, padding=1)
        self.conv4 = nn.Conv2d(c3, c4, 3, padding=1, groups=towers)
        self.conv5 = nn.Conv2d(c4, c5, 3, padding=1, groups=towers)
        self.fc6 = nn.Linear(c5 * 36, f6)
        self.fc7 = nn.Linear(f6, f7)
        self.fc8 = nn.Linear(f7, num_classes)
        # PyTorch divides alpha by size: "divided_by_n" is alpha = 1e-4 as given,
        # "literal" (the paper's formula as printed) is alpha = 1e-4 * 5.
        alpha = 1e-4 if lrn_convention == "divided_by_n" else 5e-4
        self.lrn = (nn.LocalResponseNorm(5, alpha=alpha, beta=0.75, k=2.0) if lrn_convention != "off"
                    else nn.Identity())
        self.pool = nn.MaxPool2d(3, stride=2) if pooling == "overlap" else nn.MaxPool2d(2, stride=2)
        self.act = torch.relu if activation == "relu" else torch.tanh
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        act = self.act
        x = self.pool(self.lrn(act(self.conv1(x))))
        x = self.pool(self.lrn(act(self.conv2(x))))
        x = act(self.conv3(x))
        x = act(self.conv4(x))
        x = self.pool(act(self.conv5(x)))
        x = torch.flatten(x, 1)
        x = self.dropout(act(self.fc6(x)))
        x = self.dropout(act(self.fc7(x)))
        return self.fc8(x)

    def named_views(self):
        """(name, tensor) in the order of net.c's views."""
        return [(n, p) for n, p in self.named_parameters()]


# The fill formula, the same bits on both sides (tests/net/test_reference_parity.c
# has the C twin): Philox4x32-10 (common/philox.h) keyed by seed 2012, purpose
# TEST (100), with the stream t as the epoch word:
#   u(t, i) = philox_uniform(word i % 4 of block (element 0, image id i // 4)),
#             ((word >> 8) + 0.5) / 2^24 computed in float32
#   v(t, i) = 2 u - 1
#   parameter view t (0-based, view order), element i, fan in F:
#     weight: float(sqrt(6 / F) * v(t, i))  (uniform with the variance 2/F),
#             fc8 (the last view pair) divided by 50 so that the logits are O(1)
#     bias:   float(0.1 * v(t, i))
#   input element i (flat NCHW over the batch): float(S * v(1000, i)), S = 60
#     (byte-sized inputs), or 1 for the tanh cases: tanh saturates on inputs of
#     60, and 1 - y² of a saturated y is rounding noise on both sides
#   label of image b: (7 b + 3) mod K
# A pseudo-random fill matters: with smooth or periodic values (sin of the
# index) pooling windows hold near-ties and sums cancel, so that PyTorch's own
# float32 and float64 gradients already differ by 1e-2.
FILL_SEED = 2012
PURPOSE_TEST = 100
INPUT_STREAM = 1000


def philox4x32_10(c0, c1, c2, c3, key0, key1):
    """Philox4x32-10 on uint64 arrays holding 32-bit words (common/philox.h)."""
    m0, m1, w0, w1, mask = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85, 0xFFFFFFFF
    k0, k1 = key0, key1
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + w0) & mask, (k1 + w1) & mask
        p0 = np.uint64(m0) * c0
        p1 = np.uint64(m1) * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(mask)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(mask)
        c0, c1, c2, c3 = (hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0)
    return c0, c1, c2, c3


def formula_uniform(stream, count):
    """v(stream, i) for i < count, float64 holding float32-exact values in (-1, 1)."""
    blocks = (count + 3) // 4
    ids = np.arange(blocks, dtype=np.uint64)
    zero = np.zeros(blocks, dtype=np.uint64)
    words = philox4x32_10(zero, ids, zero + np.uint64(stream), zero + np.uint64(PURPOSE_TEST),
                          FILL_SEED & 0xFFFFFFFF, FILL_SEED >> 32)
    w = np.stack(words, axis=1).reshape(-1)[:count]
    # philox_uniform computes in float32 (the + 0.5 rounds for words >= 2^23)
    u = ((w >> np.uint64(8)).astype(np.float32) + np.float32(0.5)) * np.float32(1.0 / 16777216.0)
    return 2.0 * u.astype(np.float64) - 1.0


def formula_param(t, shape, last):
    """View t of the given shape; `last`: whether it is fc8's (views 14 and 15)."""
    count = int(np.prod(shape))
    v = formula_uniform(t, count)
    if len(shape) == 1:
        values = 0.1 * v
    else:
        values = math.sqrt(6.0 / (count // shape[0])) * (0.02 if last else 1.0) * v
    return values.astype(np.float32).reshape(shape)


def formula_input(batch, scale=60.0):
    n = batch * 3 * 224 * 224
    return (scale * formula_uniform(INPUT_STREAM, n)).astype(np.float32).reshape(batch, 3, 224, 224)


def formula_labels(batch, classes):
    return np.array([(7 * b + 3) % classes for b in range(batch)], dtype=np.int64)


def fill_formula(model):
    with torch.no_grad():
        views = model.named_views()
        for t, (_, p) in enumerate(views):
            last = t >= len(views) - 2
            p.copy_(torch.from_numpy(formula_param(t, tuple(p.shape), last)))
