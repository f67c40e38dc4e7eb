#!/bin/sh
# kill -9 during alexnet-prep at 24 points chosen by count (every stage of
# every shard, plan, bad-files.tsv, dataset.h5 and dataset.json write), then
# the same command again: the dataset directory ends byte for byte equal to
# an uninterrupted prep's, and no reader accepts it before dataset.json exists.
. "$(dirname "$0")/fault_lib.sh" "$1"
[ -x "$PREP" ] || { echo "SKIP: alexnet-prep is not built (no libvips)"; exit 77; }
idx=/usr/share/datasets/fashion-mnist
[ -d "$idx" ] || idx=$(dirname "$(find /usr/share -name 't10k-labels-idx1-ubyte*' 2>/dev/null | head -n 1)")
[ -d "$idx" ] || { echo "SKIP: Fashion-MNIST (dataset-fashion-mnist) is not installed"; exit 77; }
opts="--source idx --input $idx --train-limit 240 --val-limit 40 --shard-size 40 --jobs 1 --quiet"
# shellcheck disable=SC2086
total=$(count_points "$WORK/points" "$PREP" $opts --output "$WORK/straight")
echo "an uninterrupted prep passes $total fault points"
survived=0
for k in $(kill_points "$total" 24); do
    out="$WORK/data-$k"
    # shellcheck disable=SC2086
    killed_at "$k" "$PREP" $opts --output "$out"
    if [ ! -f "$out/dataset.json" ]; then
        "$PREP" info "$out" >/dev/null 2>"$WORK/err" && fail "point $k: info accepted an incomplete dataset"
        grep -q "not a complete dataset\|cannot read" "$WORK/err" || { cat "$WORK/err"; fail "point $k: no clear message"; }
    fi
    # shellcheck disable=SC2086
    "$PREP" $opts --output "$out" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; fail "point $k: the rerun failed"; }
    for f in "$WORK/straight"/*; do
        cmp -s "$f" "$out/$(basename "$f")" || fail "point $k: $(basename "$f") differs from the uninterrupted prep"
    done
    [ "$(ls "$out" | wc -l)" -eq "$(ls "$WORK/straight" | wc -l)" ] || fail "point $k: other files remain: $(ls -a "$out")"
    survived=$((survived + 1))
    rm -rf "$out"
done
echo "killed at $survived points of $total; every rerun ended byte for byte equal to the uninterrupted prep"
[ "$survived" -ge 20 ] || fail "only $survived kill points"
echo PASS
