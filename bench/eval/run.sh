#!/usr/bin/env bash
# run.sh: ten-crop evaluation images/s, alexnet-eval's scorer beside PyTorch
# doing the same evaluation on the same machine, and their ratio.
#   bench/eval/run.sh [BUILD_DIR] [-- bench options: --width W --classes K --batch B --images N --threads T]
# Defaults: build/, the paper's network (width 1.0, 1000 classes), 32 images.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
shift || true
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--width 1.0 --classes 1000 --batch 8 --images 32 --threads "$(nproc)")  # same thread count on both sides
ours=$("$build/bench/eval/bench_eval" "${args[@]}")
echo "$ours"
python="${ALEXNET_TORCH_PYTHON:-/usr/bin/python3}"  # Debian python3-torch installs there
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "pytorch: not installed (pip install torch): no peer number on this machine"
  exit 0
fi
peer=$("$python" "$here/bench_torch_eval.py" "${args[@]}")
echo "$peer"
rate() { sed -n 's/.*= \([0-9.]*\) images\/s.*/\1/p'; }
awk -v a="$(echo "$ours" | rate)" -v b="$(echo "$peer" | rate)" \
  'BEGIN { printf "ratio alexnet-eval / pytorch: %.2fx\n", a / b }'
