#!/bin/sh
# The command line and the checks before training: usage errors exit 2
# (--precision other than fp32 on the CPU among them, and a resume under
# another --precision than the run's, refused before any device opens);
# a directory that is not a dataset, an existing run without --resume, a
# resume that changes a trajectory setting, and --device cuda without a
# usable GPU exit 1 with a message saying what to do.
. "$(dirname "$0")/train_test_lib.sh" "$1"
expect() { # expect STATUS PATTERN -- command...
    want=$1 pattern=$2
    shift 3
    set +e
    "$@" >"$WORK/out" 2>&1
    got=$?
    set -e
    [ $got -eq "$want" ] || { cat "$WORK/out"; fail "exit $got, expected $want: $*"; }
    [ -z "$pattern" ] || grep -q -- "$pattern" "$WORK/out" || { cat "$WORK/out"; fail "no '$pattern' in the output of: $*"; }
}
"$MAKE_DATASET" "$WORK/data" 16 1 8 4
expect 0 "Usage: alexnet-train" -- "$TRAIN" --help
expect 2 "unknown option" -- "$TRAIN" --bogus
expect 2 "--data DIR is required" -- "$TRAIN" --run "$WORK/run"
expect 2 "--keep" -- "$TRAIN" --data "$WORK/data" --run "$WORK/run" --keep 1
expect 2 "exclude each other" -- "$TRAIN" --data "$WORK/data" --run "$WORK/run" --lr-steps 3 --patience 2
expect 2 "computes in fp32 only" -- "$TRAIN" --data "$WORK/data" --run "$WORK/run" --device cpu --precision bf16
expect 2 "use fp32, tf32 or bf16" -- "$TRAIN" --data "$WORK/data" --run "$WORK/run" --precision fp16
expect 1 "is $WORK a dataset made by alexnet-prep" -- "$TRAIN" --data "$WORK" --run "$WORK/run"
expect 1 "has no checkpoint yet" -- "$TRAIN" --data "$WORK/data" --run "$WORK/run" --resume
common="--data $WORK/data --run $WORK/run --width 0.05 --batch 8 --epochs 1 --threads 1 --quiet"
expect 0 "" -- "$TRAIN" $common
expect 1 "add --resume" -- "$TRAIN" $common
expect 1 "--batch differs" -- "$TRAIN" $common --resume --batch 4
expect 0 "" -- "$TRAIN" $common --resume --epochs 2
# the run is fp32: --precision tf32 is refused before --device cuda is opened
# (which would fail with exit 1 on a machine without a GPU)
expect 2 "the run trains with --precision fp32" -- "$TRAIN" $common --resume --device cuda --precision tf32
grep -q '"dataset_id": "0123456789abcdef"' "$WORK/run/config.json" || fail "config.json lacks the dataset id"
grep -q '"resumed": true' "$WORK/run/config.json" || fail "config.json does not say it was resumed"
grep -q '"precision": "fp32"' "$WORK/run/config.json" || fail "config.json does not record the precision"
if [ -e /dev/nvidia0 ]; then
    echo "a GPU device node exists: --device cuda not checked"
else
    expect 1 "--device cuda: no" -- "$TRAIN" --data "$WORK/data" --run "$WORK/run2" --device cuda
fi
echo PASS
