#!/usr/bin/env python3
"""gen_fixture.py: writes tests/reference/parity.h5, what PyTorch computes for
the network of net/net.h with weights and inputs from the formula in
scripts/alexnet_torch.py: logits, loss, every parameter gradient (norm and a sample
of entries) and the losses of 5 SGD steps with the update of §5. Run by hand
(not by CI) with Debian's python3-torch:

    /usr/bin/python3 tests/reference/gen_fixture.py [--out tests/reference/parity.h5]

Cases: width 1/16 with batch 8 and width 1.0 with batch 2, each with both
LRN alpha conventions; the paper's experiments (docs/experiments.md) one at a
time at width 1/16 (LRN off, plain pooling, one tower, tanh) and all together
at width 1.0; dropout off (PyTorch cannot draw the Philox masks)."""
import argparse
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from alexnet_torch import AlexNet, fill_formula, formula_input, formula_labels  # noqa: E402

SAMPLES = 16      # gradient entries recorded per parameter
SGD_STEPS = 5
# constant ε per case (the formula's weights are larger than §5's, so the
# full width needs a smaller step to stay stable); momentum, decay as in §5
MOMENTUM, WEIGHT_DECAY = 0.9, 0.0005

PAPER = {"pooling": "overlap", "towers": 2, "activation": "relu"}
ALL_VARIANTS = {"pooling": "plain", "towers": 1, "activation": "tanh"}
# The input's scale (alexnet_torch.py's formula): byte-sized, except where tanh
# would saturate on it
INPUT_SCALE = {"relu": 60.0, "tanh": 1.0}
CASES = [  # (name, width, classes, batch, lrn setting, ε, variant)
    ("w0.0625_b8_divided_by_n", 0.0625, 10, 8, "divided_by_n", 1e-4, PAPER),
    ("w0.0625_b8_literal", 0.0625, 10, 8, "literal", 1e-4, PAPER),
    ("w1_b2_divided_by_n", 1.0, 1000, 2, "divided_by_n", 1e-6, PAPER),
    ("w1_b2_literal", 1.0, 1000, 2, "literal", 1e-6, PAPER),
    ("w0.0625_b8_lrn_off", 0.0625, 10, 8, "off", 1e-5, PAPER),  # larger activations: smaller step
    ("w0.0625_b8_pool_plain", 0.0625, 10, 8, "divided_by_n", 1e-4, dict(PAPER, pooling="plain")),
    ("w0.0625_b8_towers1", 0.0625, 10, 8, "divided_by_n", 1e-4, dict(PAPER, towers=1)),
    ("w0.0625_b8_tanh", 0.0625, 10, 8, "divided_by_n", 1e-4, dict(PAPER, activation="tanh")),
    ("w1_b2_all_variants", 1.0, 1000, 2, "off", 1e-6, ALL_VARIANTS),
]


def sample_indices(count):
    """SAMPLES spread indices, the same rule as the C test reads them (stored anyway)."""
    return np.array([(count * (2 * k + 1)) // (2 * SAMPLES) for k in range(SAMPLES)], dtype=np.int64)


def run_case(group, width, classes, batch, lrn, lr, variant):
    torch.manual_seed(0)
    model = AlexNet(width, classes, lrn, dropout=0.0, **variant)
    fill_formula(model)
    input_scale = INPUT_SCALE[variant["activation"]]
    x = torch.from_numpy(formula_input(batch, input_scale))
    y = torch.from_numpy(formula_labels(batch, classes))
    loss_fn = torch.nn.CrossEntropyLoss()  # mean over the batch

    logits = model(x)
    loss = loss_fn(logits, y)
    model.zero_grad()
    loss.backward()
    group.attrs["width"] = width
    group.attrs["num_classes"] = classes
    group.attrs["batch"] = batch
    group.attrs["lrn_convention"] = lrn  # divided_by_n, literal or off
    group.attrs["pooling"] = variant["pooling"]
    group.attrs["towers"] = variant["towers"]
    group.attrs["activation"] = variant["activation"]
    group.attrs["input_scale"] = input_scale
    group.attrs["lr"] = lr
    group.attrs["momentum"] = MOMENTUM
    group.attrs["weight_decay"] = WEIGHT_DECAY
    group.create_dataset("logits", data=logits.detach().numpy().astype(np.float64))
    group.create_dataset("loss", data=np.float64(loss.item()))
    names, norms, indices, values = [], [], [], []
    for name, p in model.named_views():
        g = p.grad.detach().numpy().reshape(-1).astype(np.float64)
        idx = sample_indices(g.size)
        names.append(name)
        norms.append(np.linalg.norm(g))
        indices.append(idx)
        values.append(g[idx])
    group.create_dataset("param_names", data=np.array(names, dtype=h5py.string_dtype()))
    group.create_dataset("grad_norm", data=np.array(norms, dtype=np.float64))   # [V]
    group.create_dataset("grad_index", data=np.stack(indices))                   # [V, S]
    group.create_dataset("grad_value", data=np.stack(values))                    # [V, S]

    # §5: v <- 0.9 v - 0.0005 ε w - ε g; w <- w + v, in float32 as the C code does
    velocity = [torch.zeros_like(p) for p in model.parameters()]
    losses = []
    for _ in range(SGD_STEPS):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            for p, v in zip(model.parameters(), velocity):
                v.mul_(MOMENTUM).sub_(WEIGHT_DECAY * lr * p).sub_(lr * p.grad)
                p.add_(v)
    with torch.no_grad():
        losses.append(loss_fn(model(x), y).item())
    group.create_dataset("sgd_losses", data=np.array(losses, dtype=np.float64))
    print(f"{group.name}: loss {losses[0]:.6f} -> {losses[-1]:.6f}, "
          f"logits std {logits.detach().std().item():.3f}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "parity.h5"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    tmp = args.out + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["format_version"] = 1
        f.attrs["generator"] = f"tests/reference/gen_fixture.py, torch {torch.__version__}"
        f.attrs["sgd_steps"] = SGD_STEPS
        for name, width, classes, batch, lrn, lr, variant in CASES:
            run_case(f.create_group(name), width, classes, batch, lrn, lr, variant)
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
