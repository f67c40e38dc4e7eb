#!/bin/sh
# run.sh: alexnet-train's loader against a PyTorch DataLoader over the same
# dataset directory, side by side, with the ratio.
#   bench/loader/run.sh BUILD_DIR DATA_DIR [THREADS] [BATCHES] [BATCH]
# The peer needs python3 with torch and h5py (pip install torch h5py).
set -eu
BUILD=$1 DATA=$2 THREADS=${3:-1} BATCHES=${4:-40} BATCH=${5:-128}
here=$(dirname "$0")
ours=$("$BUILD/bench/loader/bench_loader" "$DATA" "$THREADS" "$BATCHES" "$BATCH")
echo "$ours"
python="${ALEXNET_TORCH_PYTHON:-/usr/bin/python3}"  # Debian python3-torch installs there
if ! "$python" -c "import torch, h5py" 2>/dev/null; then
    echo "peer not run: python3 lacks torch or h5py (pip install torch h5py)"
    exit 0
fi
peer=$("$python" "$here/torch_loader.py" "$DATA" "$THREADS" "$BATCHES" "$BATCH")
echo "$peer"
a=$(echo "$ours" | sed -n 's/.*: \([0-9]*\) images\/s (.*/\1/p')
b=$(echo "$peer" | sed -n 's/.*: \([0-9]*\) images\/s (.*/\1/p')
awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio alexnet / torch: %.2fx\n", a / b }'
