#!/usr/bin/env python3
"""to_onnx.py: writes an alexnet checkpoint (docs/FORMAT.md section 2) as an
ONNX model, through the PyTorch module of scripts/to_pytorch.py (any of the
experiments' variants, docs/experiments.md), and checks it: onnxruntime's
logits against PyTorch's on the same inputs. The model is written only when
the check passes.

    python3 scripts/to_onnx.py CHECKPOINT.h5 --out model.onnx [--opset 13] [--batch 2]

The model takes "input" [N, 3, 224, 224] float32 (a crop with the dataset's
mean image subtracted, byte units, as alexnet-eval feeds the network) and
gives "logits" [N, K]; N is free. Needs numpy, h5py, torch, onnx and
onnxruntime (Debian: python3-numpy python3-h5py python3-torch python3-onnx;
onnxruntime from PyPI: pip install onnxruntime); tested with Debian 12's
PyTorch 1.13 and PyPI's 2.15. Exit status 0 when written and checked, 1
otherwise."""
import argparse
import importlib.util
import inspect
import os
import sys
import tempfile
import warnings

# Every module the script needs, and where each comes from. The exporter is
# PyTorch's TorchScript-based one, which needs torch and, from PyTorch 2.9 on,
# onnx; the newer torch.export-based one (the default from 2.9) needs
# onnxscript as well, and onnxscript needs onnx, onnx-ir and ml_dtypes.
NEEDED = (("numpy", "python3-numpy"), ("h5py", "python3-h5py"), ("torch", "python3-torch"),
          ("onnx", "python3-onnx"), ("onnxruntime", "pip install onnxruntime"))
missing = [m for m, _ in NEEDED if importlib.util.find_spec(m) is None]
if missing:
    print(f"to_onnx: {sys.executable} lacks {', '.join(missing)}: the script needs "
          + ", ".join(f"{m} ({where})" for m, where in NEEDED), file=sys.stderr)
    sys.exit(1)

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The check's tolerance: both sides compute in float32 with different sum
# orders; the worst difference measured on the tests' checkpoints is below
# 1e-6 of the largest |logit| (docs/experiments.md); a wrong layer gives O(1).
TOLERANCE = 1e-4


def export(torch, model, x, path, opset):
    """The TorchScript-based exporter (see NEEDED): named with dynamo=False
    where PyTorch has both (2.5 and later), the only one before."""
    options = dict(input_names=["input"], output_names=["logits"],
                   dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                   opset_version=opset, do_constant_folding=True)
    if "dynamo" not in inspect.signature(torch.onnx.export).parameters:
        torch.onnx.export(model, x, path, **options)
        return
    with warnings.catch_warnings():  # it is deprecated from 2.9 on, and says so at every call
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, x, path, dynamo=False, **options)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--out", required=True, help="the ONNX file to write")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--batch", type=int, default=2, help="images in the check (default 2)")
    args = ap.parse_args()
    try:
        import torch
        import onnxruntime
        from alexnet_torch import formula_input
        from to_pytorch import load
    except ImportError as e:
        print(f"to_onnx: {e}: the script needs " + ", ".join(f"{m} ({where})" for m, where in NEEDED),
              file=sys.stderr)
        return 1
    try:
        model, attrs = load(args.checkpoint)
    except (OSError, KeyError, ValueError) as e:
        print(f"to_onnx: {e}", file=sys.stderr)
        return 1
    out_dir = os.path.dirname(os.path.abspath(args.out))
    x = torch.from_numpy(formula_input(args.batch))  # byte-sized, as the mean-subtracted crops
    with torch.no_grad():
        want = model(x).numpy()
    fd, tmp = tempfile.mkstemp(prefix=".to_onnx-", suffix=".onnx", dir=out_dir)
    os.close(fd)
    try:
        export(torch, model, x, tmp, args.opset)
        session = onnxruntime.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        got = session.run(["logits"], {"input": x.numpy()})[0]
        if got.shape != want.shape:
            raise ValueError(f"onnxruntime gives logits of shape {got.shape}, PyTorch {want.shape}")
        diff = float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-30))
        top_same = bool(np.array_equal(np.argmax(got, axis=1), np.argmax(want, axis=1)))
        print(f"onnxruntime {onnxruntime.__version__} against PyTorch {torch.__version__}: largest logit "
              f"difference {diff:.2g} of the largest |logit| (tolerance {TOLERANCE:g}), top-1 "
              f"{'the same' if top_same else 'DIFFERENT'} on {args.batch} inputs")
        if not (diff <= TOLERANCE and top_same):
            raise ValueError(f"the ONNX model does not compute the checkpoint's network (difference {diff:.3g})")
        os.replace(tmp, args.out)
    except Exception as e:  # the export, onnxruntime or the check: nothing is left behind
        if os.path.exists(tmp):
            os.unlink(tmp)
        print(f"to_onnx: {args.checkpoint}: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} (step {attrs.get('step')}, epoch {attrs.get('epoch')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
