#!/bin/sh
# TensorBoard event files (docs/train.md), read by TensorBoard's own reader
# (EventAccumulator, tests/train/read_events.py) and compared with
# metrics.csv row for row: a straight run; a run killed by SIGKILL after the
# rows of two steps past its last checkpoint, then resumed (the rows are each
# there once); one killed before its first checkpoint and started again; the
# straight run's file cut at random bytes (read up to its last whole record);
# alexnet-eval's scores and figures; --no-events writes none. Needs a Python
# with the `tensorboard` package: ALEXNET_TB_PYTHON, else the environment
# scripts/install-deps.sh makes (/opt/alexnet-tensorboard), else
# /usr/bin/python3; without it the test is skipped (exit 77), never passed.
. "$(dirname "$0")/train_test_lib.sh" "$1"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=${ALEXNET_TB_PYTHON:-/opt/alexnet-tensorboard/bin/python}
[ -x "$PY" ] || PY=/usr/bin/python3
"$PY" -c 'import tensorboard.backend.event_processing.event_accumulator' 2>/dev/null || {
    echo "SKIP: $PY has no tensorboard package (scripts/install-deps.sh installs it; or set ALEXNET_TB_PYTHON)"
    exit 77
}
READ="$PY $SRC/tests/train/read_events.py"
unset ALEXNET_KILL_AT ALEXNET_FAULT_LOG

"$MAKE_DATASET" "$WORK/data" 96 3 24 4   # 12 steps per epoch at batch 8
common="--data $WORK/data --width 0.05 --batch 8 --seed 7 --threads 1 --checkpoint-minutes 0 --quiet"

# A straight run of two epochs: every training row, both validation rows, the rate, the config.
"$TRAIN" $common --run "$WORK/straight" --epochs 2 --log-every 2
$READ compare "$WORK/straight" || fail "the straight run's events differ from its metrics.csv"

# Killed at the 7th step's fault point (after the checkpoint of step 4 and the
# rows of steps 5 and 6, before the row of step 7), then resumed.
killed="$common --epochs 1 --max-steps 9 --checkpoint-steps 4 --log-every 1"
ALEXNET_FAULT_LOG="$WORK/points" "$TRAIN" $killed --run "$WORK/count" >/dev/null
k=$(awk '$2 == "train" && $3 == "step" && ++n == 7 { print NR; exit }' "$WORK/points")
[ -n "$k" ] || fail "no 7th training step among the fault points"
if ALEXNET_KILL_AT=$k "$TRAIN" $killed --run "$WORK/killed" 2>/dev/null; then
    fail "the run was not killed at fault point $k"
fi
grep -q 000000004 "$WORK/killed/checkpoints/latest" || fail "the kill did not leave the checkpoint of step 4"
[ "$($READ steps "$WORK/killed")" -eq 6 ] || fail "the killed run's events do not reach step 6"
"$TRAIN" $killed --run "$WORK/killed" --resume
[ "$(ls "$WORK/killed" | grep -c '^events\.out\.tfevents\.')" -eq 2 ] || fail "the resume did not start a new event file"
$READ compare "$WORK/killed" || fail "the resumed run's events differ from its metrics.csv"

# Killed before its first checkpoint, then started again with the same
# command: the attempt's rows are gone with it, as from metrics.csv.
ALEXNET_KILL_AT=$(awk '$2 == "train" && $3 == "step" && ++n == 3 { print NR; exit }' "$WORK/points") \
    "$TRAIN" $killed --run "$WORK/again" 2>/dev/null && fail "the run was not killed at its 3rd step"
[ -e "$WORK/again/checkpoints/latest" ] && fail "the killed run has a checkpoint"
"$TRAIN" $killed --run "$WORK/again"
$READ compare "$WORK/again" || fail "the run started again shows the killed attempt's rows"

# The straight run's file cut at random bytes (the seed is printed to rerun one).
seed=${ALEXNET_TEST_SEED:-$(date +%s)}
$READ cut "$WORK/straight" "$(ls "$WORK/straight"/events.out.tfevents.*)" "$seed" 12 \
    || fail "a cut file does not read as its whole records"

# alexnet-eval on the straight run: its ten-crop and centre-crop scores at the
# checkpoint's step, and its figures as images where this build draws them
EVAL=$BUILD/eval/alexnet-eval
"$EVAL" --data "$WORK/data" --run "$WORK/straight" --figures --quiet >/dev/null 2>&1 \
    || "$EVAL" --data "$WORK/data" --run "$WORK/straight" --quiet >/dev/null
$READ eval "$WORK/straight" || fail "alexnet-eval's events differ from its report.json"

# --no-events: no file
"$TRAIN" $common --run "$WORK/none" --epochs 1 --max-steps 2 --no-events
ls "$WORK/none" | grep -q tfevents && fail "--no-events wrote an event file"
echo PASS
