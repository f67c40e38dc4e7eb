#!/bin/sh
# Hostile bytes inside HDF5 (docs/RELIABILITY.md): a fixed-seed regression of
# COUNT (default 2,000) mutants per kind of real file (raw and JPEG shards,
# dataset.h5, prep-plan.h5, a checkpoint, its trainer state), each opened by
# every reader of its kind (verify, info, train's and eval's open and reads,
# prep's resume, train --resume, eval's and classify's load) in a forked
# child. Fails on any crash, hang, or refusal that does not name the file.
# The same kinds in format version 1 get COUNT_V1 (default 100) mutants each.
# Usage: test_h5_mutants.sh BUILD_DIR [COUNT [SEED [COUNT_V1]]]
. "$(dirname "$0")/fault_lib.sh" "$1"
. "$(dirname "$0")/h5_corpus.sh"
count=${2:-2000}
seed=${3:-1}
count_v1=${4:-100}
MUTANTS=$BUILD/tests/faults/h5_mutants
LEGACY=$BUILD/tests/faults/h5_legacy
[ -x "$PREP" ] && [ -x "$MUTANTS" ] || { echo "SKIP: alexnet-prep is not built (no libvips)"; exit 77; }
make_corpus "$WORK"
mkdir -p "$WORK/saved"
# the kinds side by side, one per core (at most 4)
lanes=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) # not nproc, which obeys OMP_NUM_THREADS
[ "$lanes" -le 4 ] || lanes=4
export MUTANTS WORK seed
kinds=$( (echo "$H5_KINDS" | sed "s/\$/ $count/"; echo "$H5_KINDS_V1" | sed "s/\$/ $count_v1/") | grep -v ' 0$')
if ! echo "$kinds" | xargs -P "$lanes" -L 1 sh -c '"$MUTANTS" --kind "$1" --clean "$2" --target "$3" --data "$4" \
        --count "$5" --seed "$seed" --save "$WORK/saved" --name "$0" || { echo "FAIL: $0"; exit 1; }'; then
    rm -rf "$BUILD/h5-mutants-failed" && mkdir -p "$BUILD/h5-mutants-failed" && cp "$WORK"/saved/* "$BUILD/h5-mutants-failed/" 2>/dev/null
    fail "a mutant crashed, hung or was refused without naming its file (kept in $BUILD/h5-mutants-failed)"
fi
echo PASS
