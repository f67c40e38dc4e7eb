#!/usr/bin/env bash
# bench/prep/run.sh: alexnet-prep against the Pillow + h5py peer, side by side
# on the same inputs and machine; prints images/s, images/s per core, ratios.
# Usage: bench/prep/run.sh BUILD_DIR [COUNT] [JOBS...]   (not a test)
#   COUNT  ImageNet-like JPEGs to generate (default 300), JOBS e.g. "1 2"
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [COUNT] [JOBS...]}
count=${2:-300}
shift $(( $# >= 2 ? 2 : 1 ))
jobs_list=${*:-"1 $(nproc)"}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/alexnet-bench-prep.XXXXXX)
trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3
prep="$build/prep/alexnet-prep"

echo "generating $count ImageNet-like JPEGs (500x375 mostly, quality 96)..."
"$python" "$here/make_corpus.py" "$work/jpeg" "$count"

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }
# CPU seconds (user + system, children included) of a command, into the file $cpu.
cpu="$work/cpu"
timed() { /usr/bin/time -f "%U %S" -o "$cpu" "$@"; }
cpu_ms() { awk -v n="$1" '{ printf "%.2f", ($1 + $2) * 1000 / n }' "$cpu"; }
printf '%-28s %6s %10s %14s %14s\n' "what" "jobs" "images/s" "images/s/core" "cpu ms/image"
for jobs in $jobs_list; do
  # alexnet-prep: decode + resize + checksums + statistics + HDF5 shards (fsynced).
  rm -rf "$work/out"
  t0=$(date +%s.%N)
  timed "$prep" --source folder --input "$work/jpeg" --output "$work/out" --jobs "$jobs" --quiet
  t1=$(date +%s.%N)
  ours_cpu=$(cpu_ms "$count")
  ours=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  ours_rate=$(rate "$count" "$ours")
  timed "$python" "$here/peer_pillow.py" "$work/jpeg" "$work/peer.h5" "$jobs" > "$work/peer.out"
  read -r n peer < "$work/peer.out"
  peer_cpu=$(cpu_ms "$n")
  peer_rate=$(rate "$n" "$peer")
  printf '%-28s %6d %10s %14s %14s\n' "alexnet-prep (libvips)" "$jobs" "$ours_rate" "$(rate "$ours_rate" "$jobs")" "$ours_cpu"
  printf '%-28s %6d %10s %14s %14s\n' "peer: Pillow + h5py" "$jobs" "$peer_rate" "$(rate "$peer_rate" "$jobs")" "$peer_cpu"
  awk -v a="$ours_rate" -v b="$peer_rate" -v c="$ours_cpu" -v d="$peer_cpu" -v j="$jobs" \
    'BEGIN { printf "ratio alexnet-prep / peer at %d jobs: %.2fx by wall clock, %.2fx by CPU time\n", j, a / b, d / c }'
  rm -f "$work/peer.h5"
done

# IDX input (Fashion-MNIST), ours only: Pillow has no IDX reader.
if [ -d /usr/share/datasets/fashion-mnist ]; then
  for jobs in $jobs_list; do
    rm -rf "$work/idx"
    t0=$(date +%s.%N)
    timed "$prep" --source idx --input /usr/share/datasets/fashion-mnist --output "$work/idx" --train-limit 3000 \
            --val-limit 1 --jobs "$jobs" --quiet
    t1=$(date +%s.%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    printf '%-28s %6d %10s %14s %14s\n' "alexnet-prep IDX (3001)" "$jobs" "$(rate 3001 "$s")" \
      "$(rate "$(rate 3001 "$s")" "$jobs")" "$(cpu_ms 3001)"
  done
fi
