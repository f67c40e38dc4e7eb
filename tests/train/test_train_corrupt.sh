#!/bin/sh
# A flipped byte in a training shard stops alexnet-train (exit 1) with the
# shard and the image named, before any step uses it.
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 32 1 8 4
shard="$WORK/data/train-00000-of-00001.h5"
size=$(stat -c %s "$shard")
# The images are the bulk of the file: the middle byte belongs to one of them.
offset=$((size / 2))
byte=$(od -An -tu1 -j $offset -N1 "$shard" | tr -d ' ')
printf "$(printf '\\%03o' $(( (byte + 1) % 256 )))" | dd of="$shard" bs=1 seek=$offset conv=notrunc 2>/dev/null
set +e
"$TRAIN" --data "$WORK/data" --run "$WORK/run" --width 0.05 --batch 8 --epochs 1 --quiet 2>"$WORK/err"
status=$?
set -e
cat "$WORK/err"
[ $status -eq 1 ] || fail "exit status $status with a corrupt shard, expected 1"
grep -q "train-00000-of-00001.h5" "$WORK/err" || fail "the message does not name the shard"
grep -q "image [0-9]* (id [0-9]*" "$WORK/err" || fail "the message does not name the image"
[ ! -f "$WORK/run/checkpoints/latest" ] || fail "a checkpoint was written from corrupt data"
echo PASS
