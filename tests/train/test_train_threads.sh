#!/bin/sh
# The README's promise about thread counts, exactly (docs/RELIABILITY.md):
# the weights are bitwise the same whatever --threads, --loader-threads and
# --queue-depth, and a --resume repeats the straight run bitwise. Batches of
# 8 (one chunk of images per convolution) and 24 (two chunks: partial weight
# gradients summed across threads), with 1, 2 and 3 compute threads on this
# 2-core machine.
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 48 2 8 4
common="--data $WORK/data --width 0.05 --epochs 2 --seed 11 --checkpoint-minutes 0 --quiet"
"$TRAIN" $common --batch 8 --threads 2 --run "$WORK/one" --max-steps 8 --loader-threads 1
"$TRAIN" $common --batch 8 --threads 2 --run "$WORK/three" --max-steps 8 --loader-threads 3
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/three")" || fail "--loader-threads 1 and 3 differ"
for t in 1 3; do
    "$TRAIN" $common --batch 8 --threads $t --run "$WORK/threads-$t" --max-steps 8
    "$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/threads-$t")" || fail "--threads 2 and $t differ"
done
for t in 1 2; do
    "$TRAIN" $common --batch 24 --threads $t --run "$WORK/b24-$t" --max-steps 4
done
"$COMPARE" "$(latest "$WORK/b24-1")" "$(latest "$WORK/b24-2")" || fail "--threads 1 and 2 differ at batch 24"
# The next step's batch is taken and staged before this step's scores are
# read where the ring has a second slot (docs/train.md, "The loader's
# hand-over"): never with --queue-depth 1, with the ring full at 2; the
# weights are those of the default 3, across the epoch's end.
for q in 1 2; do
    "$TRAIN" $common --batch 8 --threads 2 --run "$WORK/depth-$q" --max-steps 8 --loader-threads 2 --queue-depth $q
    "$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/depth-$q")" || fail "--queue-depth $q differs from 3"
done
"$TRAIN" $common --batch 8 --threads 2 --run "$WORK/resumed" --max-steps 3 --loader-threads 2
"$TRAIN" $common --batch 8 --threads 1 --run "$WORK/resumed" --max-steps 8 --loader-threads 2 --resume
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/resumed")" || fail "a resume with another --threads differs"
echo PASS
