#!/usr/bin/env python3
"""to_onnx.py: writes an alexnet checkpoint (docs/FORMAT.md section 2) as an
ONNX model, through the PyTorch module of scripts/to_pytorch.py (any of the
experiments' variants, docs/experiments.md), and checks it: onnxruntime's
logits against PyTorch's on the same inputs. The model is written only when
the check passes.

    python3 scripts/to_onnx.py CHECKPOINT.h5 --out model.onnx [--opset 13] [--batch 2]

The model takes "input" [N, 3, 224, 224] float32 (a crop with the dataset's
mean image subtracted, byte units, as alexnet-eval feeds the network) and
gives "logits" [N, K]; N is free. Needs h5py, torch (Debian: python3-h5py,
python3-torch) and onnxruntime (pip install onnxruntime). Exit status 0 when
written and checked, 1 otherwise."""
import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The check's tolerance: both sides compute in float32 with different sum
# orders; the worst difference measured on the tests' checkpoints is below
# 1e-6 of the largest |logit| (docs/experiments.md); a wrong layer gives O(1).
TOLERANCE = 1e-4


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
        print(f"to_onnx: {e}: needs torch (python3-torch) and onnxruntime (pip install onnxruntime)",
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
        torch.onnx.export(model, x, tmp, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=args.opset, do_constant_folding=True)
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
