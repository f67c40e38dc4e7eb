#!/bin/sh
# Exact resume: 9 steps straight against (checkpoint at step 4, kill -9,
# --resume to step 9) give bitwise identical weights and momentum. The
# interruption falls mid-epoch (6 steps per epoch), so the resumed run must
# continue the epoch's order, random streams, momentum and schedule; it also
# uses a different number of loader threads, which must not matter.
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 96 3 24 4
common="--data $WORK/data --width 0.05 --batch 16 --epochs 3 --seed 7 --threads 1 --checkpoint-minutes 0 --quiet"

"$TRAIN" $common --run "$WORK/straight" --max-steps 9 --loader-threads 2

"$TRAIN" $common --run "$WORK/killed" --max-steps 9 --checkpoint-steps 4 --loader-threads 2 &
pid=$!
wait_for_step "$WORK/killed" 120 4 || fail "no checkpoint at step 4 appeared"
kill -9 $pid
wait $pid 2>/dev/null && fail "the training process finished before it could be killed"
grep -q 000000009 "$WORK/killed/checkpoints/latest" && fail "the run reached step 9 before the kill"
echo "killed at checkpoint $(cat "$WORK/killed/checkpoints/latest")"

"$TRAIN" $common --run "$WORK/killed" --max-steps 9 --resume --loader-threads 3
"$COMPARE" "$(latest "$WORK/straight")" "$(latest "$WORK/killed")" || fail "resumed run differs from the straight run"

# metrics.csv has each step's row once (rows after the checkpoint were rewritten).
rows=$(grep -c '^train,' "$WORK/killed/metrics.csv")
straight_rows=$(grep -c '^train,' "$WORK/straight/metrics.csv")
[ "$rows" -eq "$straight_rows" ] || fail "metrics.csv has $rows train rows, the straight run $straight_rows"
echo PASS
