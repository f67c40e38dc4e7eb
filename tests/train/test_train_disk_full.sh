#!/bin/sh
# A checkpoint write that hits a full disk fails loudly (exit 1, the message
# names the untouched last checkpoint), leaves `latest` naming the previous,
# loadable checkpoint, and the run resumes once there is room; a fresh run
# that fails so after its first checkpoint says to run again with --resume
# (the same command alone is refused). Needs a small
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

# A fresh command that wrote one checkpoint, then hit the full disk: it says to
# run it again with --resume (the same command alone is refused: the run has a
# checkpoint), and that command continues the run once there is room.
rm -rf "$run"
avail=$(df --output=avail -B1 "$small" | tail -1)
fill=$(( (avail - size * 3 / 2) / 4096 ))
dd if=/dev/zero of="$small/filler" bs=4096 count=$fill 2>/dev/null || true
fresh="$common --run $small/fresh --max-steps 3 --checkpoint-steps 1"
# shellcheck disable=SC2086
if "$TRAIN" $fresh 2>"$WORK/err"; then fail "the fresh run succeeded on a full disk"; fi
cat "$WORK/err"
grep -q 000000001 "$small/fresh/checkpoints/latest" || fail "the fresh run did not keep its first checkpoint"
grep -q "run the same command again with --resume" "$WORK/err" || fail "the message does not say to add --resume"
rm -f "$small/filler"
# shellcheck disable=SC2086
"$TRAIN" $fresh 2>"$WORK/err" && fail "the same command without --resume was accepted"
grep -q "add --resume" "$WORK/err" || fail "unclear refusal: $(cat "$WORK/err")"
# shellcheck disable=SC2086
"$TRAIN" $fresh --resume || fail "the same command with --resume failed"
grep -q 000000003 "$small/fresh/checkpoints/latest" || fail "the resumed run did not reach step 3"
echo PASS
