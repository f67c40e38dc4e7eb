#!/usr/bin/env bash
# run_bench.sh: the CPU network against its peers, side by side in one run
# on this machine, with the ratios printed (docs/network.md, "Performance").
#   bench/cpu/run_bench.sh [BUILD_DIR] [THREADS]
#   - training step at batch 128 vs PyTorch on the CPU (same network, same threads)
#   - inference at batch 1 vs darknet (Debian package, its alexnet.cfg)
#   - GFLOP/s vs OpenBLAS sgemm at 2048^3 (the practical limit)
#   - peak resident memory of the training step
# Needs PyTorch (Debian's python3-torch, and/or the newest from PyPI in a
# venv named by ALEXNET_TORCH_PYTHONS) and `darknet` for the inference peer;
# a missing peer is reported and skipped. Not a test.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
threads="${2:-2}"
bench="$build/bench/cpu/bench_cpu_net"
# Pythons whose PyTorch is a peer, e.g. Debian's and the newest from PyPI in
# a venv: ALEXNET_TORCH_PYTHONS="/usr/bin/python3 /opt/torch-venv/bin/python"
pythons="${ALEXNET_TORCH_PYTHONS:-${ALEXNET_TORCH_PYTHON:-/usr/bin/python3}}"
[ -x "$bench" ] || { echo "run_bench: $bench not built (cmake --build $build)" >&2; exit 1; }
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
# OpenBLAS's kernels: not set here. bench_cpu_net starts like every program
# (blas_runtime_select), so it measures what users get: the kernels OpenBLAS
# detects, or, where that is its generic fallback, the ones chosen for this CPU.
# The peers (Debian's PyTorch and darknet link the same OpenBLAS) run twice:
# as their users get them and with the kernels ours ran; the ratios are
# taken against the faster of the two.
echo "OPENBLAS_CORETYPE from the caller: ${OPENBLAS_CORETYPE-(unset)}"
echo "machine load: $(uptime)"

val() { awk -v k="$2" '$1 == k { print $2 }' <<<"$1"; }
faster() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
torch_rate() { val "$1" images_per_s; }
darknet_rate() { awk '/Hz/ { print $2 }' <<<"$1"; }
darknet_speed() { (cd "$dn_dir" && darknet speed /usr/share/darknet/cfg/alexnet.cfg 20 2>&1 | tail -2); }
# peer_runs RATE_FN CMD...: runs a peer as its users get it and, when that
# differs, with the kernels ours ran (Debian's PyTorch and darknet link the
# same OpenBLAS); prints both and leaves the faster run's output in peer_out.
peer_runs() {
  local rate_fn=$1 out_default out_core; shift
  out_default=$("$@"); echo "-- as installed (OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE-unset}):"; echo "$out_default"
  peer_out=$out_default
  if [ "${OPENBLAS_CORETYPE-}" != "$core" ]; then
    out_core=$(OPENBLAS_CORETYPE="$core" "$@"); echo "-- with OPENBLAS_CORETYPE=$core:"; echo "$out_core"
    if faster "$("$rate_fn" "$out_core")" "$("$rate_fn" "$out_default")"; then peer_out=$out_core; fi
  fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== sgemm (OpenBLAS, $threads threads)"
sg=$("$bench" --mode sgemm --threads "$threads" --steps 3); echo "$sg"

echo "== training step, batch 128, $threads threads"
ours=$("$bench" --mode train --batch 128 --threads "$threads" --steps 3); echo "$ours"
core=$(val "$ours" blas_core)
# Every PyTorch in $pythons: the training peer, and a second inference peer.
torch_train=(); torch_infer=()
for py in $pythons; do
  if ! "$py" -c "import torch" 2>/dev/null; then
    echo "(PyTorch not importable by $py: peer skipped)"; continue
  fi
  peer_runs torch_rate "$py" "$here/bench_torch.py" --mode train --batch 128 --threads "$threads" --steps 3
  torch_train+=("$peer_out")
done

echo "== inference, batch 1, $threads threads"
ours1=$("$bench" --mode infer --batch 1 --threads "$threads" --steps 20); echo "$ours1"
for py in $pythons; do
  "$py" -c "import torch" 2>/dev/null || continue
  out=$("$py" "$here/bench_torch.py" --mode infer --batch 1 --threads "$threads" --steps 20); echo "$out"
  torch_infer+=("$out")
done
dn_hz=""
if command -v darknet >/dev/null && [ -f /usr/share/darknet/cfg/alexnet.cfg ]; then
  dn_dir=$(mktemp -d)
  peer_runs darknet_rate darknet_speed
  dn_hz=$(darknet_rate "$peer_out")
  rm -rf "$dn_dir"
else
  echo "(darknet not installed: peer skipped)"
fi

echo "== summary (OpenBLAS kernels: $core; load after: $(uptime | sed 's/.*load/load/'))"
echo "train images/s: ours $(val "$ours" images_per_s)"
for t in "${torch_train[@]}"; do
  echo "  pytorch $(val "$t" torch) (faster run) $(val "$t" images_per_s): ratio $(ratio "$(val "$ours" images_per_s)" "$(val "$t" images_per_s)")x, peak memory $(val "$t" peak_rss_mib) MiB"
done
echo "train GFLOP/s: $(val "$ours" gflops) of sgemm's $(val "$sg" sgemm_gflops) ($(ratio "$(val "$ours" gflops)" "$(val "$sg" sgemm_gflops)"))"
echo "train peak memory: $(val "$ours" peak_rss_mib) MiB"
echo "inference batch 1 images/s: ours $(val "$ours1" images_per_s)${dn_hz:+, darknet (faster run) $dn_hz, ratio $(ratio "$(val "$ours1" images_per_s)" "$dn_hz")x}"
for t in "${torch_infer[@]}"; do
  echo "  pytorch $(val "$t" torch) $(val "$t" images_per_s): ratio $(ratio "$(val "$ours1" images_per_s)" "$(val "$t" images_per_s)")x"
done
