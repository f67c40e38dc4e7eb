#!/bin/sh
# kill -9 during alexnet-eval at 20 or more points chosen by count (every
# scored batch, every stage of the report.json, tables.html and report.html
# writes): whatever is left under a final name is complete JSON, and the rerun
# writes the uninterrupted run's report (equal apart from the timings).
. "$(dirname "$0")/fault_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 32 1 40 4
"$TRAIN" --data "$WORK/data" --run "$WORK/run" --width 0.05 --batch 8 --max-steps 2 --threads 1 --quiet
opts="--data $WORK/data --run $WORK/run --batch 1 --threads 1 --quiet"
# shellcheck disable=SC2086
total=$(count_points "$WORK/points" "$EVAL" $opts --out "$WORK/straight")
echo "an uninterrupted eval passes $total fault points"
survived=0
for k in $(kill_points "$total" 24); do
    out="$WORK/eval-$k"
    # shellcheck disable=SC2086
    killed_at "$k" "$EVAL" $opts --out "$out"
    if [ -f "$out/report.json" ]; then
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/report.json" ||
            fail "point $k: report.json is there but incomplete"
    fi
    # shellcheck disable=SC2086
    "$EVAL" $opts --out "$out" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; fail "point $k: the rerun failed"; }
    same_report "$WORK/straight/report.json" "$out/report.json" || fail "point $k: the rerun's report differs"
    survived=$((survived + 1))
    rm -rf "$out"
done
echo "killed at $survived points of $total; every rerun wrote the uninterrupted report"
[ "$survived" -ge 20 ] || fail "only $survived kill points"
echo PASS
