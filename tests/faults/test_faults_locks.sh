#!/bin/sh
# HDF5 file locks that fail for real (docs/RELIABILITY.md, "Shared and
# read-only datasets, locks"). HDF5 takes a lock on every file it opens.
#  - A file system without lock support (flock answers ENOSYS, as Lustre
#    mounted without flock does): prep, train and eval work as if nothing
#    happened (HDF5 ignores it), with the same bytes as a run with locks.
#  - A file system that refuses locks (ENOLCK, as NFS without a lock manager
#    does): every program stops at the first file with a message naming it and
#    HDF5_USE_FILE_LOCKING=FALSE; with that set, the same bytes again.
#  - A shard locked by another process (an HDF5 program holding it open
#    read-write; here this script, through flock(1)): train and eval stop naming the shard and what
#    to do, leave no checkpoint or report behind, and work once it is released.
# The failing locks come from the kernel (tests/faults/without_locks.c: a
# seccomp filter), so the real HDF5 library meets the real errors.
. "$(dirname "$0")/fault_lib.sh" "$1"
WITHOUT_LOCKS=$BUILD/tests/faults/without_locks
unset HDF5_USE_FILE_LOCKING
"$WITHOUT_LOCKS" ENOSYS true || { echo "SKIP: seccomp is not available here"; exit 77; }
common="--width 0.05 --batch 8 --max-steps 3 --threads 1 --seed 5 --quiet"
latest() { echo "$1/checkpoints/$(cat "$1/checkpoints/latest")"; }

# Reference: with working locks.
"$MAKE_DATASET" "$WORK/data" 32 2 16 4 >/dev/null
"$TRAIN" --data "$WORK/data" --run "$WORK/alone" $common
"$EVAL" --data "$WORK/data" --run "$WORK/alone" --out "$WORK/alone-eval" --threads 1 --quiet >/dev/null

# ENOSYS: the same dataset, training and scoring, byte for byte.
"$WITHOUT_LOCKS" ENOSYS "$MAKE_DATASET" "$WORK/data-nosys" 32 2 16 4 >/dev/null || fail "writing shards without lock support failed"
for f in "$WORK/data"/*; do
    cmp -s "$f" "$WORK/data-nosys/$(basename "$f")" || fail "$(basename "$f") differs when written without lock support"
done
"$WITHOUT_LOCKS" ENOSYS "$TRAIN" --data "$WORK/data" --run "$WORK/nosys" $common || fail "training without lock support failed"
"$COMPARE" "$(latest "$WORK/alone")" "$(latest "$WORK/nosys")" >/dev/null || fail "training without lock support differs"
"$WITHOUT_LOCKS" ENOSYS "$EVAL" --data "$WORK/data" --run "$WORK/alone" --out "$WORK/nosys-eval" --threads 1 --quiet \
    >/dev/null || fail "eval without lock support failed"
same_report "$WORK/alone-eval/report.json" "$WORK/nosys-eval/report.json" || fail "eval without lock support differs"
if [ -x "$PREP" ]; then
    "$WITHOUT_LOCKS" ENOSYS "$PREP" verify "$WORK/data" >/dev/null || fail "verify without lock support failed"
fi
echo "ENOSYS (no lock support): shards, training and eval equal the run with locks"

# ENOLCK: a clear stop, then HDF5_USE_FILE_LOCKING=FALSE works.
for program in "$TRAIN --data $WORK/data --run $WORK/nolck $common" \
               "$EVAL --data $WORK/data --run $WORK/alone --out $WORK/nolck-eval --threads 1 --quiet"; do
    # shellcheck disable=SC2086
    "$WITHOUT_LOCKS" ENOLCK $program >/dev/null 2>"$WORK/err" && fail "ran with locks refused: $program"
    [ $? -eq 1 ] || fail "exit status not 1: $program"
    grep -q "$WORK/data/dataset.h5" "$WORK/err" || { cat "$WORK/err"; fail "the message names no file: $program"; }
    grep -q "refuses file locks.*HDF5_USE_FILE_LOCKING=FALSE" "$WORK/err" || { cat "$WORK/err"; fail "no remedy: $program"; }
done
[ ! -e "$WORK/nolck/checkpoints/latest" ] || fail "a refused run left a checkpoint"
[ ! -e "$WORK/nolck-eval/report.json" ] || fail "a refused eval left a report"
HDF5_USE_FILE_LOCKING=FALSE "$WITHOUT_LOCKS" ENOLCK "$TRAIN" --data "$WORK/data" --run "$WORK/nolck" $common \
    || fail "training with HDF5_USE_FILE_LOCKING=FALSE on refused locks failed"
"$COMPARE" "$(latest "$WORK/alone")" "$(latest "$WORK/nolck")" >/dev/null || fail "training with locks off differs"
HDF5_USE_FILE_LOCKING=FALSE "$WITHOUT_LOCKS" ENOLCK "$EVAL" --data "$WORK/data" --run "$WORK/alone" \
    --out "$WORK/nolck-eval" --threads 1 --quiet >/dev/null || fail "eval with locks off failed"
same_report "$WORK/alone-eval/report.json" "$WORK/nolck-eval/report.json" || fail "eval with locks off differs"
echo "ENOLCK (locks refused): train and eval stop naming the file and HDF5_USE_FILE_LOCKING=FALSE; with it, equal results"

# A shard held by another process.
if command -v flock >/dev/null; then
    shard=$WORK/data/train-00001-of-00002.h5
    exec 9<"$shard" # this shell holds the lock on its own descriptor 9 until it closes it
    flock -x -n 9 || fail "flock could not take the lock"
    "$TRAIN" --data "$WORK/data" --run "$WORK/held" $common >/dev/null 2>"$WORK/err" && fail "trained on a locked shard"
    grep -q "$shard.*another process holds the file locked" "$WORK/err" || { cat "$WORK/err"; fail "train: no clear message"; }
    [ ! -e "$WORK/held/checkpoints/latest" ] || fail "a refused run left a checkpoint"
    "$EVAL" --data "$WORK/data" --run "$WORK/alone" --split train --out "$WORK/held-eval" --threads 1 --quiet \
        >/dev/null 2>"$WORK/err" && fail "scored a locked shard"
    grep -q "$shard.*another process holds the file locked" "$WORK/err" || { cat "$WORK/err"; fail "eval: no clear message"; }
    [ ! -e "$WORK/held-eval/report.json" ] || fail "a refused eval left a report"
    exec 9<&-
    "$TRAIN" --data "$WORK/data" --run "$WORK/held" $common || fail "training after the lock was released failed"
    "$COMPARE" "$(latest "$WORK/alone")" "$(latest "$WORK/held")" >/dev/null || fail "training after the release differs"
    echo "a shard locked by another process: train and eval stop naming it; after the release, equal results"
else
    echo "flock(1) not found: the held-lock case was not run"
fi
echo PASS
