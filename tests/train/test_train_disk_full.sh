#!/bin/sh
# A checkpoint write that hits a full disk fails loudly (exit 1, the message
# names the untouched last checkpoint), leaves `latest` naming the previous,
# loadable checkpoint, and the run resumes once there is room. Needs a small
# tmpfs: skipped (77) where mounting is not permitted.
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 32 1 8 4
small="$WORK/small"
mkdir "$small"
mount -t tmpfs -o size=4m tmpfs "$small" 2>/dev/null || { echo "SKIP: cannot mount a tmpfs here"; exit 77; }
trap 'umount "$small" 2>/dev/null; rm -rf "$WORK"' EXIT
common="--data $WORK/data --width 0.05 --batch 8 --epochs 5 --seed 9 --threads 1 --checkpoint-minutes 0 --quiet"
run="$small/run"
"$TRAIN" $common --run "$run" --max-steps 2
before=$(cat "$run/checkpoints/latest")
size=$(stat -c %s "$run/checkpoints/$before")

# Fill the disk, leaving room for the small files but not for a checkpoint.
avail=$(df --output=avail -B1 "$small" | tail -1)
fill=$(( (avail - size / 3) / 4096 ))
dd if=/dev/zero of="$small/filler" bs=4096 count=$fill 2>/dev/null || true

if "$TRAIN" $common --run "$run" --resume --max-steps 4 2>"$WORK/err"; then
    fail "training succeeded on a full disk"
fi
cat "$WORK/err"
grep -q "$before" "$WORK/err" || fail "the error does not name the last complete checkpoint"
[ "$(cat "$run/checkpoints/latest")" = "$before" ] || fail "latest moved to $(cat "$run/checkpoints/latest")"
"$COMPARE" "$run/checkpoints/$before" "$run/checkpoints/$before" >/dev/null || fail "$before does not load"

rm -f "$small/filler"
"$TRAIN" $common --run "$run" --resume --max-steps 4 || fail "cannot resume once there is room"
grep -q 000000004 "$run/checkpoints/latest" || fail "latest did not advance after the resume"
echo PASS
