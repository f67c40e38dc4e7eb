#!/bin/sh
# --reproducible (docs/train.md, "Reproducible training"): the weights and
# momentum are bitwise the same on one CPU, with 2 and 4 CPU replicas
# (--parallel data), the towers on 2 and hybrid on 2 and 4, and after a
# kill -9 and --resume (on another replica count or mode, and without the
# flag, which the checkpoint carries).
# 90 training images in batches of 16: the
# runs cross an epoch's end, with its short last batch of 10 (chunks of 1
# and 2 images) and a validation. Turning the flag on at a resume, and
# batches or replica counts that do not fall on the tree's 8 chunks, are
# refused with a message (exit 2 for the command line's).
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 90 3 24 4
common="--data $WORK/data --width 0.05 --batch 16 --epochs 3 --seed 5 --threads 2 --checkpoint-minutes 0 --quiet"
repro="$common --reproducible"

# 1. 1, 2 and 4 replicas in data mode, the towers on 2, hybrid on 2 and 4: bitwise one CPU
"$TRAIN" $repro --run "$WORK/one" --max-steps 8 --devices cpu
grep -q '"reproducible": true' "$WORK/one/config.json" || fail "config.json does not record --reproducible"
grep -q '^val,' "$WORK/one/metrics.csv" || fail "the run did not cross an epoch's end"
cut -d, -f1-7 "$WORK/one/metrics.csv" > "$WORK/one.rows"
for how in "cpu,cpu" "cpu,cpu,cpu,cpu" "cpu,cpu --parallel towers" "cpu,cpu --parallel hybrid" \
           "cpu,cpu,cpu,cpu --parallel hybrid"; do
    name=$(echo "$how" | tr -d ' -')
    "$TRAIN" $repro --run "$WORK/$name" --max-steps 8 --devices $how || fail "--devices $how failed"
    "$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/$name")" ||
        fail "--reproducible with --devices $how differs from one CPU"
    # the scores are summed in chunk order too: the same metrics rows, but for the speed and time columns
    cut -d, -f1-7 "$WORK/$name/metrics.csv" > "$WORK/$name.rows"
    cmp -s "$WORK/one.rows" "$WORK/$name.rows" || fail "metrics.csv's losses differ with --devices $how"
done

# 2. kill -9 on two replicas, --resume on one replica and without the flag: bitwise the straight run
"$TRAIN" $repro --run "$WORK/killed" --max-steps 8 --checkpoint-steps 3 --devices cpu,cpu &
kill_after_checkpoint "$WORK/killed" 3 $! 8
"$TRAIN" $common --run "$WORK/killed" --max-steps 8 --resume --devices cpu
grep -q '"reproducible": true' "$WORK/killed/config.json" || fail "the resumed run's config.json lost --reproducible"
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/killed")" || fail "the resumed reproducible run differs"

# 2b. kill -9 in towers, --resume in hybrid on 4: bitwise the straight run
"$TRAIN" $repro --run "$WORK/killed-towers" --max-steps 8 --checkpoint-steps 3 --devices cpu,cpu --parallel towers &
kill_after_checkpoint "$WORK/killed-towers" 3 $! 8
"$TRAIN" $common --run "$WORK/killed-towers" --max-steps 8 --resume --devices cpu,cpu,cpu,cpu --parallel hybrid
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/killed-towers")" ||
    fail "the reproducible towers run killed and resumed in hybrid differs"

# 3. a run without the flag cannot take it at a resume
"$TRAIN" $common --run "$WORK/plain" --max-steps 2 --devices cpu
status=0
"$TRAIN" $repro --run "$WORK/plain" --max-steps 4 --resume --devices cpu 2> "$WORK/plain.err" || status=$?
[ "$status" -ne 0 ] || fail "--reproducible was taken at the resume of a run without it"
grep -q "not started with --reproducible" "$WORK/plain.err" || { cat "$WORK/plain.err"; fail "no message"; }

# 3b. a reproducible run resumed under a split mode stays on the tree: hybrid on 2 replicas, the straight run's bits
"$TRAIN" $repro --run "$WORK/to-hybrid" --max-steps 4 --devices cpu
"$TRAIN" $common --run "$WORK/to-hybrid" --max-steps 8 --resume --devices cpu,cpu --parallel hybrid
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/to-hybrid")" || fail "4 steps on one CPU then 4 in hybrid differ"

# 4. what does not fall on the tree: exit 2, naming the rule
for bad in "--batch 12 --devices cpu" "--devices cpu,cpu,cpu" "--devices cpu,cpu,cpu --parallel hybrid"; do
    status=0
    "$TRAIN" $repro $bad --run "$WORK/bad" 2> "$WORK/bad.err" || status=$?
    [ "$status" -eq 2 ] || fail "--reproducible $bad exited $status, expected 2"
    grep -q -- "--reproducible splits every batch into 8" "$WORK/bad.err" || fail "no message for $bad"
done
[ -e "$WORK/bad" ] && fail "a refused run left a run directory"
echo PASS
