#!/bin/sh
# Hostile bytes inside HDF5 (docs/RELIABILITY.md): nothing we write keeps a
# string in HDF5's global heap; files of format version 1, whose strings are
# there, still read (verify, info, train, --resume, eval); and the crash
# found with them, a variable-length string in a damaged global heap (made
# here from a real shard and a real checkpoint), is refused with "this file
# is damaged or hostile: HDF5 crashed reading it" and the file's name. The
# programs before format version 2 died of SIGSEGV on the same files.
. "$(dirname "$0")/fault_lib.sh" "$1"
. "$(dirname "$0")/h5_corpus.sh"
LEGACY=$BUILD/tests/faults/h5_legacy
[ -x "$PREP" ] && [ -x "$LEGACY" ] || { echo "SKIP: alexnet-prep is not built (no libvips)"; exit 77; }
command -v h5dump >/dev/null || { echo "SKIP: h5dump (hdf5-tools) is not installed"; exit 77; }
make_corpus "$WORK"
train_opts="--width 0.05 --batch 2 --epochs 1 --threads 1 --checkpoint-steps 1 --seed 1 --quiet"

# 1. Nothing we write holds a variable-length string: shards, dataset.h5, prep-plan.h5, checkpoints.
for f in "$WORK"/raw/*.h5 "$WORK"/jpeg/*.h5 "$WORK/checkpoint.h5"; do
    h5dump -H "$f" >"$WORK/header" 2>&1 || fail "h5dump cannot read $f"
    grep -q "H5T_STRING" "$WORK/header" || fail "$f holds no string at all (h5dump -H)"
    if grep -q "H5T_VARIABLE" "$WORK/header"; then fail "$f holds variable-length strings (global heap)"; fi
done
# ... and the format-1 copies made by h5_legacy do (they are what the rest of this test reads).
h5dump -H "$WORK/jpeg-v1/val-00000-of-00001.h5" | grep -q "H5T_VARIABLE" || fail "h5_legacy wrote no variable-length strings"

# 2. Format version 1 still reads.
for d in raw-v1 jpeg-v1; do
    "$PREP" verify "$WORK/$d" >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "verify refused the format-1 dataset $d"; }
    "$PREP" info "$WORK/$d" >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "info refused the format-1 dataset $d"; }
done
# shellcheck disable=SC2086
"$TRAIN" --data "$WORK/jpeg-v1" --run "$WORK/run-v1" $train_opts --max-steps 1 >"$WORK/out" 2>&1 ||
    { cat "$WORK/out"; fail "train refused the format-1 dataset"; }
latest="$WORK/run-v1/checkpoints/$(cat "$WORK/run-v1/checkpoints/latest")"
"$LEGACY" "$latest" "$WORK/ckpt-v1.h5" || fail "h5_legacy failed on $latest"
h5dump -H -d trainer_state "$WORK/ckpt-v1.h5" | grep -q "H5T_VARIABLE" || fail "the format-1 checkpoint has no vlen state"
cp "$WORK/ckpt-v1.h5" "$latest"
# shellcheck disable=SC2086
"$TRAIN" --data "$WORK/jpeg-v1" --run "$WORK/run-v1" $train_opts --max-steps 2 --resume >"$WORK/out" 2>&1 ||
    { cat "$WORK/out"; fail "train --resume refused a format-1 checkpoint"; }
"$EVAL" --data "$WORK/jpeg-v1" --checkpoint "$WORK/ckpt-v1.h5" --threads 1 --out "$WORK/eval-v1" --quiet \
    >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "eval refused a format-1 checkpoint and dataset"; }

# 3. A damaged global heap: heap object 1 (the first string written) claims 14.5 MB.
damage_heap() {
    python3 - "$1" <<'PY' || fail "no global heap in $1"
import sys
path = sys.argv[1]
b = bytearray(open(path, "rb").read())
g = b.find(b"GCOL")  # collection: signature, version, 3 reserved, size; objects: index, refs, 4 reserved, size
if g < 0:
    sys.exit(1)
b[g + 16 + 8 + 2] = 0xdd
open(path, "wb").write(b)
PY
}
# expect_refused WHAT FILE COMMAND...: COMMAND refuses (no signal) naming FILE and the crash.
expect_refused() {
    what=$1 file=$2
    shift 2
    rc=0
    "$@" >"$WORK/out" 2>&1 || rc=$?
    [ $rc -ne 0 ] || fail "$what accepted a damaged global heap"
    [ $rc -lt 128 ] || { cat "$WORK/out"; fail "$what died of signal $((rc - 128)) on a damaged global heap"; }
    grep -q "damaged or hostile: HDF5 crashed reading it" "$WORK/out" || { cat "$WORK/out"; fail "$what: no clear message"; }
    grep -q "$file" "$WORK/out" || { cat "$WORK/out"; fail "$what: the message does not name $file"; }
}
cp -r "$WORK/jpeg-v1" "$WORK/damaged"
shard="$WORK/damaged/val-00000-of-00001.h5"
damage_heap "$shard"
expect_refused "verify" "$shard" "$PREP" verify "$WORK/damaged"
expect_refused "eval" "$shard" "$EVAL" --data "$WORK/damaged" --checkpoint "$WORK/ckpt-v1.h5" --threads 1 \
    --out "$WORK/eval-damaged" --quiet
# shellcheck disable=SC2086
expect_refused "train" "$shard" "$TRAIN" --data "$WORK/damaged" --run "$WORK/run-damaged" $train_opts --max-steps 1
latest="$WORK/run-v1/checkpoints/$(cat "$WORK/run-v1/checkpoints/latest")"
"$LEGACY" "$latest" "$WORK/ckpt-v1-damaged.h5" || fail "h5_legacy failed on $latest"
damage_heap "$WORK/ckpt-v1-damaged.h5"
cp "$WORK/ckpt-v1-damaged.h5" "$latest"
# shellcheck disable=SC2086
expect_refused "train --resume" "$latest" "$TRAIN" --data "$WORK/jpeg-v1" --run "$WORK/run-v1" $train_opts \
    --max-steps 3 --resume
echo PASS
