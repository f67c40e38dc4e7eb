#!/bin/sh
# A checkpoint write interrupted by kill -9 leaves `latest` naming a complete,
# loadable checkpoint, and the run resumes from it. The trainer checkpoints
# after every step here, so the kills (at several delays) land inside writes.
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 64 2 8 4
common="--data $WORK/data --width 0.05 --batch 8 --epochs 50 --seed 5 --threads 1 --checkpoint-minutes 0 --quiet"
run="$WORK/run"
first=1
for delay in 0.05 0.13 0.21 0.29 0.37; do
    if [ $first -eq 1 ]; then
        "$TRAIN" $common --run "$run" --checkpoint-steps 1 &
        pid=$!
        wait_for_step "$run" 120 1 || fail "no first checkpoint"
        first=0
    else
        "$TRAIN" $common --run "$run" --checkpoint-steps 1 --resume &
        pid=$!
    fi
    sleep $delay
    kill -9 $pid
    wait $pid 2>/dev/null && fail "training finished before the kill"
    ckpt=$(latest "$run")
    [ -f "$ckpt" ] || fail "latest names $ckpt, which does not exist"
    "$COMPARE" "$ckpt" "$ckpt" >/dev/null || fail "latest checkpoint $ckpt does not load"
    echo "killed after ${delay}s: latest is $(basename "$ckpt"), loadable"
done
# The survivor resumes and finishes a step.
step=$(sed -n 's/^ckpt-[0-9]*-0*\([0-9][0-9]*\)\.h5$/\1/p' "$run/checkpoints/latest")
"$TRAIN" $common --run "$run" --resume --max-steps $((step + 1)) || fail "cannot resume after the kills"
# Only the last K=3 checkpoints are kept (plus best.h5 once an epoch ended).
count=$(ls "$run/checkpoints" | grep -c '^ckpt-.*\.h5$')
[ "$count" -le 3 ] || fail "$count checkpoints kept, expected at most 3"
echo PASS
