#!/bin/sh
# Full disks (docs/RELIABILITY.md) beyond checkpoints (tests/train/
# test_train_disk_full.sh): alexnet-prep writing its shards onto a 4 MB tmpfs,
# and alexnet-eval writing report.json, tables.html and its figures onto a
# full one. Each stops with exit 1 and a message naming the file and "No space
# left"; nothing under a final name is partial (every shard left is byte for
# byte the uninterrupted prep's; the previous report and figures are
# untouched); once there is room the same command finishes. Needs to mount a
# tmpfs: skipped (77) where that is not permitted.
. "$(dirname "$0")/fault_lib.sh" "$1"
small="$WORK/small"
mkdir "$small"
mount -t tmpfs -o size=4m tmpfs "$small" 2>/dev/null || { echo "SKIP: cannot mount a tmpfs here"; exit 77; }
trap 'umount "$small" 2>/dev/null; rm -rf "$WORK"' EXIT

# 1. prep: 240 + 40 images of 192 KiB are 54 MB: the shards cannot fit in 4 MB.
if [ -x "$PREP" ]; then
    idx=/usr/share/datasets/fashion-mnist
    [ -d "$idx" ] || idx=$(dirname "$(find /usr/share -name 't10k-labels-idx1-ubyte*' 2>/dev/null | head -n 1)")
    if [ -d "$idx" ]; then
        opts="--source idx --input $idx --train-limit 240 --val-limit 40 --shard-size 40 --jobs 1 --quiet"
        # shellcheck disable=SC2086
        "$PREP" $opts --output "$WORK/straight" || fail "the prep on a roomy disk failed"
        # shellcheck disable=SC2086
        if "$PREP" $opts --output "$small/data" 2>"$WORK/prep.err"; then fail "prep succeeded on a full disk"; fi
        cat "$WORK/prep.err"
        grep -q "No space left" "$WORK/prep.err" || fail "prep's message does not say the disk is full"
        [ -f "$small/data/dataset.json" ] && fail "a dataset.json was written on a full disk"
        for f in "$small"/data/*.h5; do
            [ -f "$f" ] || continue
            cmp -s "$f" "$WORK/straight/$(basename "$f")" || fail "$(basename "$f") is partial under its final name"
        done
        mount -o remount,size=128m "$small" || fail "cannot grow the tmpfs"
        # shellcheck disable=SC2086
        "$PREP" $opts --output "$small/data" || fail "the rerun with room failed"
        for f in "$WORK/straight"/*; do
            cmp -s "$f" "$small/data/$(basename "$f")" || fail "after the rerun $(basename "$f") differs"
        done
        rm -rf "$small/data"
        mount -o remount,size=4m "$small" || fail "cannot shrink the tmpfs back"
        echo "prep: a full disk stopped it cleanly, the rerun with room ended byte for byte equal"
    else
        echo "prep part skipped: Fashion-MNIST (dataset-fashion-mnist) is not installed"
    fi
else
    echo "prep part skipped: alexnet-prep is not built (no libvips)"
fi

# 2. eval: a report (and figures, where the build draws them) onto a disk that then fills up.
"$MAKE_DATASET" "$WORK/data" 32 1 16 4
"$TRAIN" --data "$WORK/data" --run "$WORK/run" --width 0.05 --batch 8 --max-steps 2 --threads 1 --quiet
figures=""
"$EVAL" --help | grep -q -- "--figures" && [ -x "$PREP" ] && figures="--figures --train-sample 8"
# without figures the full disk hits report.json and tables.html; with them, the PNGs first
variants=plain
[ -n "$figures" ] && variants="plain figures"
for variant in $variants; do
    extra=""
    [ "$variant" = figures ] && extra=$figures
    opts="--data $WORK/data --run $WORK/run --batch 2 --threads 1 --quiet $extra"
    rm -rf "$small/eval" "$WORK/eval-before"
    # shellcheck disable=SC2086
    "$EVAL" $opts --out "$small/eval" >/dev/null || fail "eval with room failed ($extra)"
    cp -r "$small/eval" "$WORK/eval-before"
    dd if=/dev/zero of="$small/filler" bs=4096 2>/dev/null || true  # until the disk is full
    # shellcheck disable=SC2086
    if "$EVAL" $opts --out "$small/eval" >/dev/null 2>"$WORK/eval.err"; then fail "eval succeeded on a full disk ($extra)"; fi
    cat "$WORK/eval.err"
    grep -q "No space left" "$WORK/eval.err" || fail "eval's message does not say the disk is full ($extra)"
    diff -r "$WORK/eval-before" "$small/eval" >/dev/null || fail "the previous report or figures changed ($extra)"
    rm -f "$small/filler"
    # shellcheck disable=SC2086
    "$EVAL" $opts --out "$small/eval" >/dev/null || fail "eval with room again failed ($extra)"
    same_report "$WORK/eval-before/report.json" "$small/eval/report.json" || fail "the report after the rerun differs"
    echo "eval${extra:+ with figures}: a full disk left the previous outputs untouched, the rerun wrote the same report"
done
echo PASS
