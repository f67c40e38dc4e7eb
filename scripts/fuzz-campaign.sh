#!/usr/bin/env bash
# fuzz-campaign.sh [SECONDS_PER_TARGET [NAME...]]: the longer fuzzing campaign of
# docs/RELIABILITY.md, run once by hand (CI runs only the short, fixed-count
# regression of tests/fuzz). Builds the fuzz targets with clang into
# build-fuzz/, runs each (or each NAME given: idx, shard, ...) for
# SECONDS_PER_TARGET (default 3600) from its seed
# corpus, keeps the corpora it grows under build-fuzz/campaign/NAME, and prints
# one line per target: executions, seconds, crashes. Crash inputs stay in
# build-fuzz/campaign/ for a test to be made of them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3600}
shift $(( $# > 0 ? 1 : 0 ))
command -v clang >/dev/null || { echo "fuzz-campaign: clang is needed (scripts/install-deps.sh)" >&2; exit 2; }
CC=clang cmake -S . -B build-fuzz -DALEXNET_CUDA=OFF -DALEXNET_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_targets >/dev/null
mkdir -p build-fuzz/campaign
printf '%-16s %12s %8s %8s\n' target executions seconds crashes
if [ $# -gt 0 ]; then
    bins=()
    for name in "$@"; do
        [ -x "build-fuzz/tests/fuzz/fuzz_$name" ] || { echo "fuzz-campaign: no target fuzz_$name" >&2; exit 2; }
        bins+=("build-fuzz/tests/fuzz/fuzz_$name")
    done
else
    bins=(build-fuzz/tests/fuzz/fuzz_*)
fi
for bin in "${bins[@]}"; do
    [ -x "$bin" ] && [ -f "$bin" ] || continue
    name=${bin##*/fuzz_}
    out=build-fuzz/campaign/$name
    mkdir -p "$out/corpus" "$out/crashes"
    # Inputs up to 4 KiB, or twice the largest seed (two runs' files for compare).
    largest=$(find "tests/fuzz/corpus/$name" -type f -exec wc -c {} + | awk '$2 != "total" && $1 > m { m = $1 } END { print m + 0 }')
    max_len=$(( 2 * largest > 4096 ? 2 * largest : 4096 ))
    start=$(date +%s)
    "$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/crashes/" "$out/corpus" "tests/fuzz/corpus/$name" >"$out/log" 2>&1 || true
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
    printf '%-16s %12s %8s %8s\n' "$name" "${execs:-?}" $(( $(date +%s) - start )) "$(ls "$out/crashes" | wc -l)"
done
