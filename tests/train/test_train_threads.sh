#!/bin/sh
# The README's promise about thread counts, exactly (docs/RELIABILITY.md):
# the weights are bitwise the same whatever --loader-threads, and a --resume
# with the same --threads repeats the straight run bitwise, here at
# --threads 2 (the compute threads regroup float sums, so runs with different
# --threads agree only to rounding, which training amplifies: not promised).
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 48 2 8 4
common="--data $WORK/data --width 0.05 --batch 8 --epochs 2 --seed 11 --threads 2 --checkpoint-minutes 0 --quiet"
OMP_NUM_THREADS=2 "$TRAIN" $common --run "$WORK/one" --max-steps 8 --loader-threads 1
OMP_NUM_THREADS=2 "$TRAIN" $common --run "$WORK/three" --max-steps 8 --loader-threads 3
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/three")" || fail "--loader-threads 1 and 3 differ"
OMP_NUM_THREADS=2 "$TRAIN" $common --run "$WORK/resumed" --max-steps 3 --loader-threads 2
OMP_NUM_THREADS=2 "$TRAIN" $common --run "$WORK/resumed" --max-steps 8 --loader-threads 2 --resume
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/resumed")" || fail "a resume at --threads 2 differs"
echo PASS
