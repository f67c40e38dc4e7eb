#!/bin/sh
# A step whose loss is not finite is never applied: with a learning rate far
# too high the loss becomes NaN within a few steps; alexnet-train stops with
# exit 1 naming the step and the last good checkpoint, writes nothing after
# it, and that checkpoint's weights and momentum are finite (NaN differs from
# itself, so a checkpoint compared with itself finds no difference only when
# every value is a number). The update is queued before the loss is read back
# and skipped on the backend when a gradient is not finite (docs/train.md).
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 96 3 24 4
set +e
"$TRAIN" --data "$WORK/data" --run "$WORK/run" --width 0.05 --batch 16 --epochs 3 --seed 7 --threads 1 \
    --init fan_in --lr 100 --checkpoint-minutes 0 --checkpoint-steps 2 --max-steps 30 --quiet 2>"$WORK/err"
status=$?
set -e
cat "$WORK/err"
[ $status -eq 1 ] || fail "exit status $status when the loss diverges, expected 1"
step=$(sed -n 's/.*the loss is [^ ]* at step \([0-9][0-9]*\) .*training stopped before applying it.*/\1/p' "$WORK/err")
[ -n "$step" ] || fail "the message does not say the loss is not finite at a step, nor that it was not applied"
good=$(latest "$WORK/run")
grep -q "the last good checkpoint is $good" "$WORK/err" || fail "the message does not name the last checkpoint $good"
last=$(sed -n 's/^ckpt-[0-9]*-0*\([0-9][0-9]*\)\.h5$/\1/p' "$WORK/run/checkpoints/latest")
[ "$last" -lt "$step" ] || fail "checkpoint at step $last is not before the failed step $step"
"$COMPARE" "$good" "$good" || fail "the last good checkpoint holds values that are not finite"
echo PASS
