#!/bin/sh
# One writer per run directory (docs/train.md, "One writer per run
# directory"): a second alexnet-train on a run in use is refused with exit 1,
# naming the holder, and metrics.csv stays well-formed; a lock left by a
# process killed with -9 is taken over; a lock from another host is taken
# over only once its heartbeat is stale; a trainer whose lock was taken over
# stops before writing a checkpoint. alexnet-eval scores a run in training.
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 64 2 8 4
common="--data $WORK/data --width 0.05 --batch 8 --epochs 100 --seed 5 --threads 1 --checkpoint-minutes 0 --quiet"
host=$(hostname)

# Each line of metrics.csv has the header's 9 fields, and its split is train or val.
well_formed() {
    awk -F, 'NR == 1 { if ($0 !~ /^split,epoch,step,/) exit 1; next }
             NF != 9 || ($1 != "train" && $1 != "val") { print "bad row " NR ": " $0; exit 1 }' "$1/metrics.csv"
}

# 1. A second trainer on a run in use: refused, with and without --resume.
"$TRAIN" $common --run "$WORK/a" --max-steps 150 --checkpoint-steps 10 --log-every 1 &
pid=$!
wait_for_step "$WORK/a" 120 10 || fail "no checkpoint at step 10"
for extra in --resume ""; do
    set +e
    "$TRAIN" $common --run "$WORK/a" --max-steps 40 --log-every 1 $extra 2>"$WORK/second.err"
    status=$?
    set -e
    cat "$WORK/second.err"
    [ $status -eq 1 ] || fail "a second trainer on a run in use exited with $status, expected 1"
    grep -q "in use by another alexnet-train: PID $pid on host $host, started 20" "$WORK/second.err" ||
        fail "the refusal does not name the holder's PID, host and start time"
    grep -q "train into another --run" "$WORK/second.err" || fail "the refusal does not say what to do"
done
# alexnet-eval scores the run while it trains (best.h5, written after epoch 1): a complete report.
if [ -x "$BUILD/eval/alexnet-eval" ]; then
    "$BUILD/eval/alexnet-eval" --data "$WORK/data" --run "$WORK/a" --batch 4 --device cpu --limit 8 --quiet >/dev/null ||
        fail "alexnet-eval on a run in training failed"
    kill -0 $pid 2>/dev/null || fail "the trainer ended before the evaluation did: the test needs more steps"
    grep -q '"top1_error"' "$WORK/a/eval/report.json" || fail "no complete report.json"
    ! ls -a "$WORK/a/eval" "$WORK/a" | grep -q '\.tmp\.' || fail "a temporary file was left"
fi
wait $pid || fail "the first trainer failed"
well_formed "$WORK/a" || fail "metrics.csv is garbled"
rows=$(grep -c '^train,' "$WORK/a/metrics.csv")
[ "$rows" -eq 150 ] || fail "metrics.csv has $rows train rows for 150 steps"
[ ! -e "$WORK/a/lock" ] || fail "the lock is left behind after a clean end"

# 2. kill -9 the holder: the next trainer takes the lock over and resumes bit for bit.
"$TRAIN" $common --run "$WORK/straight" --max-steps 12
"$TRAIN" $common --run "$WORK/killed" --max-steps 12 --checkpoint-steps 4 &
pid=$!
wait_for_step "$WORK/killed" 120 4 || fail "no checkpoint at step 4"
kill -9 $pid
wait $pid 2>/dev/null && fail "the trainer finished before it was killed"
grep -q "^pid $pid\$" "$WORK/killed/lock" || fail "the killed trainer's lock is not there"
"$TRAIN" $common --run "$WORK/killed" --max-steps 12 --resume 2>"$WORK/takeover.err" ||
    { cat "$WORK/takeover.err"; fail "the stale lock of a killed trainer was not taken over"; }
grep -q "took over the lock .* of PID $pid on host $host.*no process $pid runs on this host" "$WORK/takeover.err" ||
    { cat "$WORK/takeover.err"; fail "the takeover is not reported"; }
"$COMPARE" "$(latest "$WORK/straight")" "$(latest "$WORK/killed")" || fail "the resumed run differs"
well_formed "$WORK/killed" || fail "metrics.csv is garbled after the takeover"

# 3. A lock from another host: refused while its heartbeat is fresh, taken over when stale.
printf 'pid 4242\nhost elsewhere.example\nstarted 2026-01-01T00:00:00Z\nboot x\npid_start 1\n' >"$WORK/killed/lock"
touch -d '-60 seconds' "$WORK/killed/lock"
set +e
"$TRAIN" $common --run "$WORK/killed" --max-steps 14 --resume 2>"$WORK/fresh.err"
status=$?
set -e
[ $status -eq 1 ] || fail "a lock with a fresh heartbeat from another host was not respected (exit $status)"
grep -q "PID 4242 on host elsewhere.example, started 2026-01-01T00:00:00Z" "$WORK/fresh.err" ||
    { cat "$WORK/fresh.err"; fail "the refusal does not name the other host's holder"; }
touch -d '-400 seconds' "$WORK/killed/lock"
"$TRAIN" $common --run "$WORK/killed" --max-steps 14 --resume 2>"$WORK/stale.err" ||
    { cat "$WORK/stale.err"; fail "a stale lock from another host was not taken over"; }
grep -q "heartbeat stopped" "$WORK/stale.err" || fail "the stale takeover is not reported"

# 4. An empty lock file, just made: refused, naming no holder.
: >"$WORK/killed/lock"
set +e
"$TRAIN" $common --run "$WORK/killed" --max-steps 16 --resume 2>"$WORK/empty.err"
status=$?
set -e
[ $status -eq 1 ] && grep -q "names no holder" "$WORK/empty.err" || fail "an empty fresh lock was not refused (exit $status)"
rm "$WORK/killed/lock"

# 5. A trainer whose lock is taken over stops before its next checkpoint, exit 1.
"$TRAIN" $common --run "$WORK/lost" --max-steps 400 --checkpoint-steps 2 2>"$WORK/lost.err" &
pid=$!
wait_for_step "$WORK/lost" 120 2 || fail "no checkpoint at step 2"
rm "$WORK/lost/lock"
printf 'pid 4243\nhost elsewhere.example\nstarted 2026-01-01T00:00:00Z\n' >"$WORK/lost/lock"
set +e
wait $pid
status=$?
set -e
[ $status -eq 1 ] || fail "a trainer that lost its lock exited with $status, expected 1"
grep -q "no longer holds the lock .*PID 4243 on host elsewhere.example" "$WORK/lost.err" ||
    { cat "$WORK/lost.err"; fail "the lost lock is not reported"; }
grep -q "^pid 4243\$" "$WORK/lost/lock" || fail "the trainer removed the new holder's lock"
echo PASS
