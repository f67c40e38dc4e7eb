#!/bin/sh
# kill -9 during training at 24 points chosen by count (ALEXNET_KILL_AT:
# training steps and every stage of every checkpoint, config.json and
# `latest` write; common/fault_point.h), then --resume: every interrupted run
# ends with bitwise the weights and momentum of the uninterrupted run, and
# `latest` always names a loadable checkpoint. With ARGS "mpi MPIEXEC" the
# same with two processes (`mpirun -np 2 alexnet-train`); with ARGS "devices"
# with two replicas in one process (`--devices cpu,cpu`, train/device_group.c).
. "$(dirname "$0")/fault_lib.sh" "$1"
mode=${2:-one}
launcher=""
replicas=""
[ "$mode" = devices ] && replicas="--devices cpu,cpu"
if [ "$mode" = mpi ]; then
    launcher="$3 -np 2 --oversubscribe --allow-run-as-root"
    $launcher true >/dev/null 2>&1 || { echo "SKIP: mpirun cannot start 2 processes here"; exit 77; }
fi
"$MAKE_DATASET" "$WORK/data" 48 2 8 4
common="--data $WORK/data --width 0.05 --batch 8 --epochs 2 --seed 3 --threads 1 --checkpoint-minutes 0
        --checkpoint-steps 2 --max-steps 9 --quiet $replicas"
# shellcheck disable=SC2086
total=$(count_points "$WORK/points" $launcher "$TRAIN" $common --run "$WORK/straight")
echo "an uninterrupted run passes $total fault points ($(cut -d' ' -f2- "$WORK/points" | sort | uniq -c | tr -s ' ' | tr '\n' ';'))"
survived=0
for k in $(kill_points "$total" 24); do
    run="$WORK/run-$k"
    # shellcheck disable=SC2086
    killed_at "$k" $launcher "$TRAIN" $common --run "$run"
    if [ -f "$run/checkpoints/latest" ]; then
        ckpt="$run/checkpoints/$(cat "$run/checkpoints/latest")"
        "$COMPARE" "$ckpt" "$ckpt" >/dev/null 2>&1 || fail "point $k: latest names $ckpt, which does not load"
        resume="--resume"
    else
        resume="" # killed before the first checkpoint: start again
    fi
    # shellcheck disable=SC2086
    $launcher "$TRAIN" $common --run "$run" $resume >/dev/null 2>"$WORK/err" || {
        cat "$WORK/err"; fail "point $k: the rerun failed"; }
    "$COMPARE" "$WORK/straight/checkpoints/$(cat "$WORK/straight/checkpoints/latest")" \
        "$run/checkpoints/$(cat "$run/checkpoints/latest")" >/dev/null || fail "point $k: the final weights differ"
    survived=$((survived + 1))
    rm -rf "$run"
done
echo "killed at $survived points of $total; every rerun ended with the uninterrupted run's weights and momentum"
[ "$survived" -ge 20 ] || fail "only $survived kill points"
echo PASS
