#!/bin/sh
# SIGTERM (or SIGINT) finishes the step, writes a checkpoint and exits 0 with
# a message; the run resumes from it. A second signal aborts at once. A
# diverging run (non-finite loss) stops with exit 1, naming the step and the
# last good checkpoint.
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 64 2 8 4
common="--data $WORK/data --width 0.05 --epochs 100 --seed 11 --threads 1 --checkpoint-minutes 0"

# One SIGTERM: clean stop.
"$TRAIN" $common --batch 8 --run "$WORK/term" --checkpoint-steps 3 2>"$WORK/term.err" &
pid=$!
wait_for_step "$WORK/term" 120 3 || fail "no checkpoint at step 3"
kill -TERM $pid
wait $pid || fail "exit status $? after one SIGTERM, expected 0"
grep -q "stopped by a signal" "$WORK/term.err" || fail "no stop message"
latest_step=$(sed -n 's/^ckpt-[0-9]*-0*\([0-9][0-9]*\)\.h5$/\1/p' "$WORK/term/checkpoints/latest")
grep -q "global step $latest_step," "$WORK/term.err" || fail "the final checkpoint is not at the last step"
"$TRAIN" $common --batch 8 --run "$WORK/term" --resume --max-steps $((latest_step + 1)) --quiet || fail "cannot resume"

# Two SIGINTs: abort. Large steps (batch 64) leave time for the second
# signal after the first was seen.
"$TRAIN" $common --batch 64 --run "$WORK/int" --checkpoint-steps 1 --quiet 2>"$WORK/int.err" &
pid=$!
wait_for_step "$WORK/int" 120 1 || fail "no checkpoint at step 1"
kill -INT $pid
i=0
while ! grep -q "stop requested" "$WORK/int.err" && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
kill -INT $pid 2>/dev/null || fail "the process had already exited after the first SIGINT"
set +e
wait $pid
status=$?
set -e
[ $status -eq 130 ] || fail "exit status $status after two SIGINTs, expected 130 (killed by SIGINT)"

# Divergence: an absurd learning rate.
set +e
"$TRAIN" $common --batch 8 --run "$WORK/nan" --lr 100 --checkpoint-steps 2 --quiet 2>"$WORK/nan.err"
status=$?
set -e
cat "$WORK/nan.err"
[ $status -eq 1 ] || fail "exit status $status for a diverging run, expected 1"
grep -q "at step [0-9]" "$WORK/nan.err" || fail "the message does not name the step"
grep -q "last good checkpoint is .*ckpt-" "$WORK/nan.err" || fail "the message does not name the last checkpoint"
# The step was not applied (the update is queued before the loss is read back
# and skipped on the backend when a gradient is not finite), the checkpoint
# named is the latest, from before that step, and its values are finite (NaN
# differs from itself, so a checkpoint equals itself only when every value is
# a number).
step=$(sed -n 's/.*the loss is [^ ]* at step \([0-9][0-9]*\) .*training stopped before applying it.*/\1/p' "$WORK/nan.err")
[ -n "$step" ] || fail "the message does not say the loss is not finite at a step, nor that it was not applied"
good=$(latest "$WORK/nan")
grep -q "the last good checkpoint is $good" "$WORK/nan.err" || fail "the message does not name the latest checkpoint $good"
last=$(sed -n 's/^ckpt-[0-9]*-0*\([0-9][0-9]*\)\.h5$/\1/p' "$WORK/nan/checkpoints/latest")
[ "$last" -lt "$step" ] || fail "the checkpoint at step $last is not before the failed step $step"
"$COMPARE" "$good" "$good" || fail "the last good checkpoint holds values that are not finite"
echo PASS
