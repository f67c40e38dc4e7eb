#!/bin/sh
# Several devices in one process (--devices, docs/train.md): two CPU replicas
# against one, the same global batch of 16 split 8 + 8, after 5 steps within
# float32 rounding of differently grouped sums (|a - b| <= 1e-6 + 1e-3 |b|);
# kill -9 and --resume with two replicas give bitwise the straight two-replica
# run; a failure in one replica's step stops the run with a message naming
# it; a malformed list is a usage error.
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 96 3 24 4
common="--data $WORK/data --width 0.05 --batch 16 --epochs 3 --seed 3 --threads 2 --checkpoint-minutes 0 --quiet"

# 1. two replicas against one
"$TRAIN" $common --run "$WORK/one" --max-steps 5 --devices cpu
"$TRAIN" $common --run "$WORK/two" --max-steps 5 --devices cpu,cpu || fail "--devices cpu,cpu failed"
grep -q '"devices": 2' "$WORK/two/config.json" || fail "config.json does not record 2 devices"
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/two")" 1e-3 1e-6 || fail "2 replicas differ from 1 beyond tolerance"

# 2. exact resume with two replicas: 9 steps straight against 4 + kill -9 + resume
"$TRAIN" $common --run "$WORK/straight" --max-steps 9 --devices cpu,cpu
"$TRAIN" $common --run "$WORK/killed" --max-steps 9 --checkpoint-steps 4 --devices cpu,cpu &
pid=$!
wait_for_step "$WORK/killed" 120 4 || fail "no checkpoint at step 4 appeared"
kill -9 $pid
wait $pid 2>/dev/null && fail "the training process finished before it could be killed"
grep -q 000000009 "$WORK/killed/checkpoints/latest" && fail "the run reached step 9 before the kill"
"$TRAIN" $common --run "$WORK/killed" --max-steps 9 --resume --devices cpu,cpu
"$COMPARE" "$(latest "$WORK/straight")" "$(latest "$WORK/killed")" || fail "the resumed two-replica run differs"

# 3. a failure in replica 1's step 2 stops the run, naming the replica
if ALEXNET_TEST_FAIL_REPLICA=1:2 "$TRAIN" $common --run "$WORK/failed" --max-steps 5 --devices cpu,cpu \
        2> "$WORK/failed.err"; then
    fail "a replica's failure did not stop the run"
fi
grep -q "replica 1: failure injected at step 2" "$WORK/failed.err" || { cat "$WORK/failed.err"; fail "no message naming replica 1"; }
[ -e "$WORK/failed/checkpoints/latest" ] && fail "a checkpoint was written by the failed run"

# 4. a malformed list is a usage error (exit 2)
status=0
"$TRAIN" $common --run "$WORK/bad" --devices cpu,,cpu 2> "$WORK/bad.err" || status=$?
[ "$status" -eq 2 ] || fail "--devices cpu,,cpu exited $status, expected 2"
grep -q -- "--devices" "$WORK/bad.err" || fail "the usage error does not name --devices"
echo PASS
