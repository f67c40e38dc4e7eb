#!/usr/bin/env bash
# run_bench.sh: the CPU network against its peers, side by side in one run
# on this machine, with the ratios printed (docs/network.md, "Performance").
#   bench/cpu/run_bench.sh [BUILD_DIR] [THREADS]
#   - training step at batch 128 vs PyTorch on the CPU (same network, same threads)
#   - inference at batch 1 vs darknet (Debian package, its alexnet.cfg)
#   - GFLOP/s vs OpenBLAS sgemm at 2048^3 (the practical limit)
#   - peak resident memory of the training step
# Needs python3-torch (Debian) for the PyTorch peer and `darknet` for the
# inference peer; a missing peer is reported and skipped. Not a test.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
threads="${2:-2}"
bench="$build/bench/cpu/bench_cpu_net"
python="${ALEXNET_TORCH_PYTHON:-/usr/bin/python3}"
[ -x "$bench" ] || { echo "run_bench: $bench not built (cmake --build $build)" >&2; exit 1; }
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
# OpenBLAS falls back to its generic Prescott kernels on CPUs it does not
# recognise (virtual CPUs); name the core the CPU supports unless the caller did.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(auto)}"

val() { awk -v k="$2" '$1 == k { print $2 }' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== sgemm (OpenBLAS, $threads threads)"
sg=$("$bench" --mode sgemm --threads "$threads" --steps 3); echo "$sg"

echo "== training step, batch 128, $threads threads"
ours=$("$bench" --mode train --batch 128 --threads "$threads" --steps 3); echo "$ours"
theirs=""
if "$python" -c "import torch" 2>/dev/null; then
  theirs=$("$python" "$here/bench_torch.py" --mode train --batch 128 --threads "$threads" --steps 3); echo "$theirs"
else
  echo "(PyTorch not importable by $python: peer skipped)"
fi

echo "== inference, batch 1, $threads threads"
ours1=$("$bench" --mode infer --batch 1 --threads "$threads" --steps 20); echo "$ours1"
dn_hz=""
if command -v darknet >/dev/null && [ -f /usr/share/darknet/cfg/alexnet.cfg ]; then
  dn=$(cd "$(mktemp -d)" && darknet speed /usr/share/darknet/cfg/alexnet.cfg 20 2>&1 | tail -2)
  echo "darknet: $dn"
  dn_hz=$(awk '/Hz/ { print $2 }' <<<"$dn")
else
  echo "(darknet not installed: peer skipped)"
fi

echo "== summary"
echo "train images/s: ours $(val "$ours" images_per_s)${theirs:+, pytorch $(val "$theirs" images_per_s), ratio $(ratio "$(val "$ours" images_per_s)" "$(val "$theirs" images_per_s)")x}"
echo "train GFLOP/s: $(val "$ours" gflops) of sgemm's $(val "$sg" sgemm_gflops) ($(ratio "$(val "$ours" gflops)" "$(val "$sg" sgemm_gflops)"))"
echo "train peak memory: $(val "$ours" peak_rss_mib) MiB${theirs:+ (pytorch $(val "$theirs" peak_rss_mib) MiB)}"
echo "inference batch 1 images/s: ours $(val "$ours1" images_per_s)${dn_hz:+, darknet $dn_hz, ratio $(ratio "$(val "$ours1" images_per_s)" "$dn_hz")x}"
