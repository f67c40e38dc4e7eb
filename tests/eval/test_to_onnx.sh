#!/bin/sh
# scripts/to_onnx.py on checkpoints written by the real alexnet-train (the
# paper's network and the experiments' variant): the ONNX model is written
# and its onnxruntime logits match PyTorch's; a file that is not a checkpoint
# writes nothing and exits 1. Needs a Python with h5py, torch, onnx and
# onnxruntime: ALEXNET_ONNX_PYTHON, else the environment that
# `ALEXNET_PEERS=1 scripts/install-deps.sh` makes (/opt/alexnet-onnx), else
# /usr/bin/python3; without them the test is skipped (exit 77) and says which
# is missing.
set -eu
BUILD=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=${ALEXNET_ONNX_PYTHON:-/opt/alexnet-onnx/bin/python}
[ -x "$PY" ] || PY=/usr/bin/python3
missing=$("$PY" -c "
import importlib.util as u
print(' '.join(m for m in ('h5py', 'torch', 'onnx', 'onnxruntime') if u.find_spec(m) is None))" 2>/dev/null) \
    || { echo "SKIP: $PY does not run"; exit 77; }
if [ -n "$missing" ]; then
    echo "SKIP: $PY lacks $missing (ALEXNET_PEERS=1 scripts/install-deps.sh installs them; or set ALEXNET_ONNX_PYTHON)"
    exit 77
fi
. "$SRC/tests/train/train_test_lib.sh" "$BUILD"   # TRAIN, MAKE_DATASET, WORK, fail

"$MAKE_DATASET" "$WORK/data" 32 1 8 3
common="--data $WORK/data --width 0.0625 --batch 8 --epochs 1 --max-steps 2 --threads 1 --checkpoint-minutes 0 --quiet"
"$TRAIN" $common --run "$WORK/paper"
"$TRAIN" $common --run "$WORK/variant" --lrn off --pool plain --towers 1 --activation tanh
for run in paper variant; do
    ckpt=$WORK/$run/checkpoints/$(cat "$WORK/$run/checkpoints/latest")
    "$PY" "$SRC/scripts/to_onnx.py" "$ckpt" --out "$WORK/$run.onnx" > "$WORK/$run.log" 2>&1 \
        || fail "to_onnx.py on the $run checkpoint: $(cat "$WORK/$run.log")"
    cat "$WORK/$run.log"
    [ -s "$WORK/$run.onnx" ] || fail "no $run.onnx"
    grep -q "top-1 the same" "$WORK/$run.log" || fail "no check reported for $run"
done
# the variant's graph is another network: tanh nodes, no LRN
"$PY" - "$WORK" <<'PY' || fail "the ONNX graphs do not show the variant"
import sys, onnx
work = sys.argv[1]
ops = {r: {n.op_type for n in onnx.load(f"{work}/{r}.onnx").graph.node} for r in ("paper", "variant")}
assert "Tanh" in ops["variant"] and "Tanh" not in ops["paper"], ops
assert "Relu" in ops["paper"] and "Relu" not in ops["variant"], ops
PY
# not a checkpoint: exit 1, nothing written, no temporary left
cp "$WORK/data/dataset.h5" "$WORK/not-a-checkpoint.h5"
if "$PY" "$SRC/scripts/to_onnx.py" "$WORK/not-a-checkpoint.h5" --out "$WORK/bad.onnx" 2> "$WORK/bad.err"; then
    fail "to_onnx.py accepted a dataset file"
fi
grep -q "not an alexnet checkpoint" "$WORK/bad.err" || fail "unclear refusal: $(cat "$WORK/bad.err")"
[ -e "$WORK/bad.onnx" ] && fail "a refused conversion wrote bad.onnx"
ls -a "$WORK" | grep -q '^\.to_onnx-' && fail "a temporary file was left behind"
echo PASS
