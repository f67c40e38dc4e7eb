#!/bin/sh
# scripts/to_onnx.py on checkpoints written by the real alexnet-train (the
# paper's network and the experiments' variant), under every Python that has
# what it needs: the ONNX model is written and its onnxruntime logits match
# PyTorch's; a file that is not a checkpoint writes nothing and exits 1; a
# missing package is named with every package the script needs. The Pythons:
# ALEXNET_ONNX_PYTHON (one or several, space-separated), else those that
# `ALEXNET_PEERS=1 scripts/install-deps.sh` makes (/opt/alexnet-onnx: Debian's
# PyTorch; /opt/alexnet-torch: the newest PyTorch from PyPI) and
# /usr/bin/python3; without any the test is skipped (exit 77) and says what is
# missing.
set -eu
BUILD=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
candidates=${ALEXNET_ONNX_PYTHON:-/opt/alexnet-onnx/bin/python /opt/alexnet-torch/bin/python /usr/bin/python3}
pythons=""
for py in $candidates; do
    [ -x "$py" ] || { echo "not there: $py"; continue; }
    missing=$("$py" -c "
import importlib.util as u
print(' '.join(m for m in ('numpy', 'h5py', 'torch', 'onnx', 'onnxruntime') if u.find_spec(m) is None))" 2>/dev/null) \
        || { echo "does not run: $py"; continue; }
    if [ -n "$missing" ]; then echo "$py lacks $missing"; continue; fi
    pythons="$pythons $py"
done
if [ -z "$pythons" ]; then
    echo "SKIP: no Python with numpy, h5py, torch, onnx and onnxruntime (ALEXNET_PEERS=1 scripts/install-deps.sh installs them; or set ALEXNET_ONNX_PYTHON)"
    exit 77
fi
. "$SRC/tests/train/train_test_lib.sh" "$BUILD"   # TRAIN, MAKE_DATASET, WORK, fail

"$MAKE_DATASET" "$WORK/data" 32 1 8 3
common="--data $WORK/data --width 0.0625 --batch 8 --epochs 1 --max-steps 2 --threads 1 --checkpoint-minutes 0 --quiet"
"$TRAIN" $common --run "$WORK/paper"
"$TRAIN" $common --run "$WORK/variant" --lrn off --pool plain --towers 1 --activation tanh
cp "$WORK/data/dataset.h5" "$WORK/not-a-checkpoint.h5"
for PY in $pythons; do
    echo "== $PY: torch $("$PY" -c 'import torch; print(torch.__version__)')"
    for run in paper variant; do
        ckpt=$WORK/$run/checkpoints/$(cat "$WORK/$run/checkpoints/latest")
        rm -f "$WORK/$run.onnx"
        "$PY" "$SRC/scripts/to_onnx.py" "$ckpt" --out "$WORK/$run.onnx" > "$WORK/$run.log" 2>&1 \
            || fail "$PY: to_onnx.py on the $run checkpoint: $(cat "$WORK/$run.log")"
        grep -v -e 'UserWarning' -e '^  _C\.' "$WORK/$run.log" || true
        [ -s "$WORK/$run.onnx" ] || fail "$PY: no $run.onnx"
        grep -q "top-1 the same" "$WORK/$run.log" || fail "$PY: no check reported for $run"
    done
    # the variant's graph is another network: tanh nodes, no LRN
    "$PY" - "$WORK" <<'PY' || fail "$PY: the ONNX graphs do not show the variant"
import sys, onnx
work = sys.argv[1]
ops = {r: {n.op_type for n in onnx.load(f"{work}/{r}.onnx").graph.node} for r in ("paper", "variant")}
assert "Tanh" in ops["variant"] and "Tanh" not in ops["paper"], ops
assert "Relu" in ops["paper"] and "Relu" not in ops["variant"], ops
PY
    # not a checkpoint: exit 1, nothing written, no temporary left
    if "$PY" "$SRC/scripts/to_onnx.py" "$WORK/not-a-checkpoint.h5" --out "$WORK/bad.onnx" 2> "$WORK/bad.err"; then
        fail "$PY: to_onnx.py accepted a dataset file"
    fi
    grep -q "not an alexnet checkpoint" "$WORK/bad.err" || fail "$PY: unclear refusal: $(cat "$WORK/bad.err")"
    [ -e "$WORK/bad.onnx" ] && fail "$PY: a refused conversion wrote bad.onnx"
    ls -a "$WORK" | grep -q '^\.to_onnx-' && fail "$PY: a temporary file was left behind"
    # a package missing (hidden from the import system): exit 1 naming it and every package needed
    for hidden in onnxruntime onnx; do
        if "$PY" -c "import runpy, sys; sys.modules['$hidden'] = None; sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')" "$SRC/scripts/to_onnx.py" "$WORK/paper/checkpoints/latest" \
            --out "$WORK/hidden.onnx" 2> "$WORK/hidden.err"; then
            fail "$PY: to_onnx.py ran without $hidden"
        fi
        grep -q "lacks $hidden:" "$WORK/hidden.err" || fail "$PY: the message does not name $hidden: $(cat "$WORK/hidden.err")"
        for m in numpy h5py torch onnx onnxruntime; do
            grep -q "$m (" "$WORK/hidden.err" || fail "$PY: the message does not name $m: $(cat "$WORK/hidden.err")"
        done
    done
    [ -e "$WORK/hidden.onnx" ] && fail "$PY: wrote an ONNX file without its packages"
done
echo PASS
