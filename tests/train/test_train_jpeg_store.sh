#!/bin/sh
# The JPEG store end to end: a Fashion-MNIST subset prepared by the real
# alexnet-prep with --store jpeg is verified, trained on by the real
# alexnet-train (an epoch of a few steps, validation included) and scored by
# the real alexnet-eval (ten crops, figures when the build has libvips); a
# raw shard copied into that dataset is refused by alexnet-train and
# alexnet-eval, naming both stores. Skipped (77) without the IDX files or
# without alexnet-prep (a build without libvips).
. "$(dirname "$0")/train_test_lib.sh" "$1"
FASHION=${ALEXNET_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
PREP=$BUILD/prep/alexnet-prep
EVAL=$BUILD/eval/alexnet-eval
[ -x "$PREP" ] || { echo "SKIP: no alexnet-prep in this build"; exit 77; }
[ -f "$FASHION/train-images-idx3-ubyte.gz" ] || [ -f "$FASHION/train-images-idx3-ubyte" ] ||
    { echo "SKIP: no Fashion-MNIST at $FASHION"; exit 77; }
ARGS="--source idx --input $FASHION --train-limit 300 --val-limit 60 --shard-size 128 --quiet"
"$PREP" $ARGS --output "$WORK/data" --store jpeg
"$PREP" verify "$WORK/data" > /dev/null
"$PREP" info "$WORK/data" | grep -q '^store     jpeg (quality 90, 4:2:0)' || fail "info does not name the jpeg store"
"$TRAIN" --data "$WORK/data" --run "$WORK/run" --width 0.05 --batch 32 --epochs 1 --seed 1 \
    --checkpoint-minutes 0 --quiet
grep -q '^val,1,' "$WORK/run/metrics.csv" || fail "no validation row after the epoch"
"$EVAL" --data "$WORK/data" --run "$WORK/run" --limit 40 --quiet
grep -q '"ten_crop"' "$WORK/run/eval/report.json" || fail "report.json has no ten-crop scores"
grep -q '"images": 40' "$WORK/run/eval/report.json" || fail "report.json did not score 40 images"

# One raw shard in the JPEG dataset (same inputs, --store raw): refused by both.
"$PREP" $ARGS --output "$WORK/raw"
cp "$WORK/raw/train-00001-of-00003.h5" "$WORK/data/"
if "$TRAIN" --data "$WORK/data" --run "$WORK/run2" --width 0.05 --batch 32 --epochs 1 --quiet 2> "$WORK/err"; then
    fail "alexnet-train accepted a raw shard in a jpeg dataset"
fi
grep -q 'train-00001-of-00003.h5 stores raw images' "$WORK/err" || { cat "$WORK/err"; fail "train: no store named"; }
cp "$WORK/raw/val-00000-of-00001.h5" "$WORK/data/"
if "$EVAL" --data "$WORK/data" --run "$WORK/run" --limit 8 --quiet 2> "$WORK/err"; then
    fail "alexnet-eval accepted a raw shard in a jpeg dataset"
fi
grep -q 'val-00000-of-00001.h5 stores raw images' "$WORK/err" || { cat "$WORK/err"; fail "eval: no store named"; }
echo PASS
