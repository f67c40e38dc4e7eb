#!/bin/sh
# Refused inputs: a folder collection with one unreadable file in each split,
# prepared by the real alexnet-prep with --max-bad allowing them, has gaps in
# its image ids (the refused files' ids stay unused). The real alexnet-train
# trains a full epoch on it (every stored image once, validation included),
# writes a checkpoint and resumes from it. Skipped (77) in a build without
# alexnet-prep (no libvips).
. "$(dirname "$0")/train_test_lib.sh" "$1"
PREP=$BUILD/prep/alexnet-prep
MAKE_FOLDER=$BUILD/tests/train/make_folder_source
[ -x "$PREP" ] && [ -x "$MAKE_FOLDER" ] || { echo "SKIP: no alexnet-prep in this build"; exit 77; }

"$MAKE_FOLDER" "$WORK/source"
"$PREP" --source folder --input "$WORK/source" --output "$WORK/data" --max-bad 2 --quiet
[ "$(grep -c . "$WORK/data/bad-files.tsv")" -ge 2 ] || fail "alexnet-prep refused fewer than 2 files"
# 8 training images, ids 0..8 with the unreadable train/a/img1x.png's id 2 unused; 4 + 1 for validation.
attr() { h5dump -a "$1" "$WORK/data/dataset.h5" | sed -n 's/^ *(0): \([0-9]*\)$/\1/p'; }
if command -v h5dump >/dev/null; then
    [ "$(attr num_train)" = 8 ] && [ "$(attr num_train_ids)" = 9 ] || fail "expected 8 training images over 9 ids"
    [ "$(attr num_val)" = 4 ] && [ "$(attr num_val_ids)" = 5 ] || fail "expected 4 validation images over 5 ids"
fi

common="--data $WORK/data --run $WORK/run --width 0.05 --batch 3 --init fan_in --lr 0.001 --seed 3 --threads 1
        --checkpoint-minutes 0 --device cpu"
# shellcheck disable=SC2086
"$TRAIN" $common --epochs 1 2> "$WORK/err" || { cat "$WORK/err"; fail "training on a gapped dataset failed"; }
grep -q '"num_train": 8' "$WORK/run/config.json" || fail "config.json does not say 8 training images"
# One epoch of 8 images at batch 3: 3 steps (3 + 3 + 2), then validation over the 4 images.
grep -q '^val,1,3,' "$WORK/run/metrics.csv" || { cat "$WORK/run/metrics.csv"; fail "no validation row after 3 steps"; }
grep -q 'on 8 images' "$WORK/err" || { cat "$WORK/err"; fail "the log does not say 8 images"; }
grep -q '4 images)' "$WORK/err" || { cat "$WORK/err"; fail "validation did not see the 4 images"; }
# A second epoch resumed from the checkpoint.
# shellcheck disable=SC2086
"$TRAIN" $common --epochs 2 --resume --quiet 2> "$WORK/err" || { cat "$WORK/err"; fail "resume failed"; }
grep -q '^val,2,6,' "$WORK/run/metrics.csv" || { cat "$WORK/run/metrics.csv"; fail "no validation row after 6 steps"; }
echo PASS
