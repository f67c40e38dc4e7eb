# train_test_lib.sh: shared helpers of the shell-driven training tests.
# Usage: . train_test_lib.sh BUILD_DIR   (sets TRAIN, MAKE_DATASET, COMPARE, WORK)
set -eu
BUILD=$1
TRAIN=$BUILD/train/alexnet-train
MAKE_DATASET=$BUILD/tests/train/make_test_dataset
COMPARE=$BUILD/tests/train/compare_checkpoints
WORK=$(mktemp -d "${TMPDIR:-/tmp}/alexnet-train-test.XXXXXX")
cleanup() { status=$?; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"; exit $status; }
trap cleanup EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

fail() { echo "FAIL: $*" >&2; exit 1; }

# The path `latest` names in RUN.
latest() { echo "$1/checkpoints/$(cat "$1/checkpoints/latest")"; }

# Waits (up to $2 seconds) until RUN's latest names a checkpoint at a global step >= $3.
wait_for_step() {
    run=$1 limit=$2 step=$3
    deadline=$(( $(date +%s) + limit ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        if [ -f "$run/checkpoints/latest" ]; then
            s=$(sed -n 's/^ckpt-[0-9]*-0*\([0-9][0-9]*\)\.h5$/\1/p' "$run/checkpoints/latest")
            [ -n "$s" ] && [ "$s" -ge "$step" ] && return 0
        fi
        sleep 0.02
    done
    return 1
}

# kill -9 of the training process PID (writing RUN) once RUN's latest names a
# checkpoint at a global step >= STEP, and a failure unless the run was
# still short of step LAST: kill_after_checkpoint RUN STEP PID LAST.
kill_after_checkpoint() {
    wait_for_step "$1" 120 "$2" || fail "no checkpoint at step $2 appeared"
    kill -9 "$3"
    wait "$3" 2>/dev/null && fail "the training process finished before it could be killed"
    last=$(printf '%09d' "$4")
    grep -q "$last" "$1/checkpoints/latest" && fail "the run reached step $4 before the kill"
    return 0
}

# Sets MPIRUN (the command line's $1, or mpirun) for Open MPI as root on
# few cores; exits 77 (skipped) without it.
use_mpirun() {
    MPIRUN=${1:-mpirun}
    command -v "$MPIRUN" >/dev/null 2>&1 || { echo "SKIP: no mpirun"; exit 77; }
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
}
