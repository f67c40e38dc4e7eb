#!/bin/sh
# run_fuzz.sh TARGET CORPUS RUNS [MAX_LEN]: one run of a libFuzzer target:
# every seed in CORPUS (tests/fuzz/corpus/NAME), then RUNS mutated inputs
# drawn from a fixed seed, so CI repeats the same executions each time. New
# inputs and crash files go to a scratch directory (the repository's corpus
# is only read); a crash prints the input (libFuzzer's "Base64:" line) and
# exits non-zero. Used by CTest (label fuzz) and by scripts/fuzz-campaign.sh.
set -eu
target=$1 corpus=$2 runs=$3 max_len=${4:-4096}
work=$(mktemp -d "${TMPDIR:-/tmp}/alexnet-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/new"
cd "$work"
set +e
"$target" -runs="$runs" -seed=1 -max_len="$max_len" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" "$work/new" "$corpus" >"$work/log" 2>&1
status=$?
tail -n 40 "$work/log"
exit $status
