#!/usr/bin/env python3
"""to_pytorch.py: loads an alexnet checkpoint (docs/FORMAT.md section 2) into
the equivalent PyTorch module (scripts/alexnet_torch.py) and saves
its state dict, or checks it against a forward pass.

    python3 scripts/to_pytorch.py CHECKPOINT.h5 [--out model.pt]

Every tensor of the module must be found in the checkpoint with the same
shape; anything missing or left over is an error. Needs h5py and torch
(Debian: python3-h5py, python3-torch)."""
import argparse
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alexnet_torch import AlexNet  # noqa: E402


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def load(path):
    """Returns (module, attributes) for the checkpoint at path."""
    with h5py.File(path, "r") as f:
        if text(f.attrs.get("kind", "")) != "alexnet-checkpoint":
            raise ValueError(f"{path}: not an alexnet checkpoint (kind attribute)")
        if int(f.attrs["format_version"]) not in (1, 2):  # docs/FORMAT.md section 2: 2 differs only in trainer_state
            raise ValueError(f"{path}: format_version {f.attrs['format_version']} is not 1 or 2")
        cfg = f["config"].attrs
        # lrn, pooling, towers, activation: the experiments' settings (docs/experiments.md),
        # absent from checkpoints written before them, which hold the paper's network
        lrn = text(cfg["lrn_convention"]) if int(cfg.get("lrn", 1)) else "off"
        model = AlexNet(float(cfg["width"]), int(cfg["num_classes"]), lrn, dropout=float(cfg["dropout_rate"]),
                        pooling=text(cfg.get("pooling", "overlap")), towers=int(cfg.get("towers", 2)),
                        activation=text(cfg.get("activation", "relu")))
        weights = f["weights"]
        state = model.state_dict()
        missing = [k for k in state if k not in weights]
        extra = [k for k in weights if k not in state]
        if missing or extra:
            raise ValueError(f"{path}: missing {missing}, unexpected {extra}")
        for name, tensor in state.items():
            data = np.asarray(weights[name], dtype=np.float32)
            if tuple(data.shape) != tuple(tensor.shape):
                raise ValueError(f"{path}: {name} has shape {data.shape}, the module {tuple(tensor.shape)}")
            state[name] = torch.from_numpy(data)
        model.load_state_dict(state)
        attrs = {k: (text(v) if isinstance(v, (bytes, str)) else v.item() if hasattr(v, "item") else v)
                 for k, v in f.attrs.items()}
    model.eval()
    return model, attrs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--out", help="write the state dict here (torch.save)")
    args = ap.parse_args()
    try:
        model, attrs = load(args.checkpoint)
    except (OSError, KeyError, ValueError) as e:
        print(f"to_pytorch: {e}", file=sys.stderr)
        return 1
    params = sum(p.numel() for p in model.parameters())
    print(f"loaded {args.checkpoint}: step {attrs.get('step')}, epoch {attrs.get('epoch')}, "
          f"{params} parameters")
    if args.out:
        torch.save(model.state_dict(), args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
