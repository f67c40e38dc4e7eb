#!/bin/sh
# Datasets are shared: an incomplete one (no dataset.json) is refused by every
# reader with a message; a read-only one trains and scores; two trainers and
# an eval read the same shards at once and each gets the result it gets alone.
. "$(dirname "$0")/fault_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 32 2 16 4
common="--width 0.05 --batch 8 --max-steps 3 --threads 1 --seed 5 --quiet"

# Alone, for reference.
"$TRAIN" --data "$WORK/data" --run "$WORK/alone" $common
"$EVAL" --data "$WORK/data" --run "$WORK/alone" --out "$WORK/alone-eval" --threads 1 --quiet


# Incomplete: every reader refuses, naming dataset.json and what to do.
cp -r "$WORK/data" "$WORK/partial"
rm "$WORK/partial/dataset.json"
for reader in "$TRAIN --data $WORK/partial --run $WORK/r0 $common" "$EVAL --data $WORK/partial --run $WORK/alone" \
              "$PREP info $WORK/partial" "$PREP verify $WORK/partial"; do
    case "$reader" in "$PREP"*) [ -x "$PREP" ] || continue ;; esac
    # shellcheck disable=SC2086
    $reader >/dev/null 2>"$WORK/err" && fail "accepted an incomplete dataset: $reader"
    grep -q "not a complete dataset" "$WORK/err" || { cat "$WORK/err"; fail "no clear message: $reader"; }
done
echo "an incomplete dataset is refused by train, eval, info and verify"

# Read-only: a read-only mount where possible (root ignores file modes), else file modes.
ro="$WORK/ro"
mkdir "$ro"
if mount -t tmpfs -o size=64m tmpfs "$ro" 2>/dev/null; then
    trap 'umount "$ro" 2>/dev/null; rm -rf "$WORK"' EXIT
    cp -r "$WORK/data" "$ro/data"
    mount -o remount,ro "$ro" || fail "cannot remount $ro read-only"
    how="a read-only mount"
else
    cp -r "$WORK/data" "$ro/data"
    chmod -R a-w "$ro/data"
    how="read-only files"
fi
touch "$ro/data/probe" 2>/dev/null && fail "$ro/data is writable"
"$TRAIN" --data "$ro/data" --run "$WORK/ro-run" $common || fail "training on $how failed"
"$COMPARE" "$WORK/alone/checkpoints/$(cat "$WORK/alone/checkpoints/latest")" \
    "$WORK/ro-run/checkpoints/$(cat "$WORK/ro-run/checkpoints/latest")" >/dev/null || fail "read-only training differs"
"$EVAL" --data "$ro/data" --run "$WORK/ro-run" --out "$WORK/ro-eval" --threads 1 --quiet || fail "eval on $how failed"
echo "training and eval work on $how"

# Together: two trainers and an eval on the same shards at once.
"$TRAIN" --data "$WORK/data" --run "$WORK/a" $common & a=$!
"$TRAIN" --data "$WORK/data" --run "$WORK/b" $common & b=$!
"$EVAL" --data "$WORK/data" --run "$WORK/alone" --out "$WORK/c-eval" --threads 1 --quiet & c=$!
wait $a || fail "trainer a failed"
wait $b || fail "trainer b failed"
wait $c || fail "the eval failed"
for r in a b; do
    "$COMPARE" "$WORK/alone/checkpoints/$(cat "$WORK/alone/checkpoints/latest")" \
        "$WORK/$r/checkpoints/$(cat "$WORK/$r/checkpoints/latest")" >/dev/null || fail "trainer $r differs"
done
same_report "$WORK/alone-eval/report.json" "$WORK/c-eval/report.json" || fail "the concurrent eval differs"

# HDF5 file locking off (as on file systems without locks, where users set it).
HDF5_USE_FILE_LOCKING=FALSE "$TRAIN" --data "$WORK/data" --run "$WORK/nolock" $common || fail "training without HDF5 file locks failed"
echo "two trainers and an eval at once each match the run alone; HDF5_USE_FILE_LOCKING=FALSE works"
echo PASS
