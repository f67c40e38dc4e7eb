#!/bin/sh
# --reproducible across processes (docs/train.md, "Reproducible training"):
# mpirun -np 2 (one CPU replica each), and -np 2 with two replicas each
# (--parallel data, towers and hybrid), give bitwise the weights and
# momentum of one process with one replica
# after 5 steps; 3 processes are refused with exit 2.
. "$(dirname "$0")/train_test_lib.sh" "$1"
use_mpirun "${2:-}"
"$MAKE_DATASET" "$WORK/data" 40 2 12 4
common="--data $WORK/data --width 0.05 --batch 16 --epochs 2 --seed 3 --threads 1 --checkpoint-minutes 0 --quiet --max-steps 5 --reproducible"

"$TRAIN" $common --run "$WORK/one" --devices cpu
"$MPIRUN" -np 2 --oversubscribe "$TRAIN" $common --run "$WORK/two" --devices cpu || fail "mpirun -np 2 failed"
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/two")" || fail "2 processes differ from 1 under --reproducible"
"$MPIRUN" -np 2 --oversubscribe "$TRAIN" $common --run "$WORK/four" --devices cpu,cpu || fail "2 x 2 replicas failed"
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/four")" || fail "2 processes x 2 replicas differ from 1"
# the split modes across processes: each member's block summed with the same member's of the other process
for mode in towers hybrid; do
    "$MPIRUN" -np 2 --oversubscribe "$TRAIN" $common --run "$WORK/$mode" --devices cpu,cpu --parallel $mode ||
        fail "2 processes x 2 replicas in $mode failed"
    "$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/$mode")" || fail "2 processes x $mode on 2 differ from 1"
done
status=0
"$MPIRUN" -np 3 --oversubscribe "$TRAIN" $common --run "$WORK/three" --devices cpu > "$WORK/three.err" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "3 processes were taken under --reproducible"
grep -q "must be 1, 2, 4 or 8, not 3" "$WORK/three.err" || fail "no message for 3 processes"
echo PASS
