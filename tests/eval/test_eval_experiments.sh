#!/bin/sh
# The paper's experiments end to end (docs/experiments.md), with the real
# alexnet-train and alexnet-eval on a tiny real dataset: a run trained with
# every experiment flag records them in config.json and its checkpoint, and
# alexnet-eval scores it WITHOUT repeating them (the network comes from the
# checkpoint); `alexnet-eval compare` on it and the paper's run writes the
# page and JSON with the scores, their differences and the settings that
# differ; runs scored on another dataset are refused.
. "$(dirname "$0")/../train/train_test_lib.sh" "$1"   # TRAIN, MAKE_DATASET, WORK, fail
EVAL=$BUILD/eval/alexnet-eval

"$MAKE_DATASET" "$WORK/data" 48 2 16 4
"$MAKE_DATASET" "$WORK/other" 48 2 16 4 00000000feedf00d   # the same sizes, another dataset
common="--width 0.05 --batch 16 --epochs 2 --seed 5 --threads 1 --checkpoint-minutes 0 --log-every 1 --quiet"
"$TRAIN" --data "$WORK/data" --run "$WORK/paper" $common
"$TRAIN" --data "$WORK/data" --run "$WORK/variant" $common \
    --lrn off --pool plain --towers 1 --activation tanh --augment centre --dropout 0
"$TRAIN" --data "$WORK/other" --run "$WORK/elsewhere" $common

# config.json records every setting
for kv in '"lrn": "off"' '"pooling": "plain"' '"towers": 1' '"activation": "tanh"' '"augment": "centre"'; do
    grep -q "$kv" "$WORK/variant/config.json" || fail "config.json lacks $kv"
done
for kv in '"lrn": "divided_by_n"' '"pooling": "overlap"' '"towers": 2' '"activation": "relu"' '"augment": "full"'; do
    grep -q "$kv" "$WORK/paper/config.json" || fail "the paper run's config.json lacks $kv"
done
# the variant's network really is another one: one tower has more parameters
p_paper=$(sed -n 's/.*"parameters": \([0-9]*\).*/\1/p' "$WORK/paper/config.json")
p_variant=$(sed -n 's/.*"parameters": \([0-9]*\).*/\1/p' "$WORK/variant/config.json")
[ "$p_variant" -gt "$p_paper" ] || fail "one tower has $p_variant parameters, two towers $p_paper"

# a resumed run keeps its experiment: another flag on --resume is refused, naming it
if "$TRAIN" --data "$WORK/data" --run "$WORK/variant" $common --epochs 3 --resume --augment full 2> "$WORK/resume.err"; then
    fail "--resume accepted another --augment"
fi
grep -q -- "--augment" "$WORK/resume.err" || fail "the refused resume does not name --augment: $(cat "$WORK/resume.err")"
if "$TRAIN" --data "$WORK/data" --run "$WORK/variant" $common --epochs 3 --resume --activation relu 2> "$WORK/resume.err"; then
    fail "--resume accepted another --activation"
fi
grep -q -- "--activation" "$WORK/resume.err" || fail "the refused resume does not name --activation: $(cat "$WORK/resume.err")"
# scored without repeating a flag
for run in paper variant elsewhere; do
    data=$WORK/data
    [ $run = elsewhere ] && data=$WORK/other
    "$EVAL" --data "$data" --run "$WORK/$run" --quiet > "$WORK/$run.out" || fail "alexnet-eval failed on $run"
    grep -q '"top1_error"' "$WORK/$run/eval/report.json" || fail "$run has no report.json"
done

# compare: the page and the JSON
"$EVAL" compare --out "$WORK/cmp" "$WORK/paper" "$WORK/variant" > "$WORK/compare.out" || fail "compare failed"
[ -s "$WORK/cmp/compare.html" ] && [ -s "$WORK/cmp/compare.json" ] || fail "compare wrote no page or JSON"
for setting in network.lrn network.pooling network.towers network.activation network.dropout training.augment; do
    grep -q "\"$setting\"" "$WORK/cmp/compare.json" || fail "compare.json does not list $setting as differing"
    grep -q "<td>$setting</td>" "$WORK/cmp/compare.html" || fail "compare.html does not list $setting"
done
grep -q '"training.seed"' "$WORK/cmp/compare.json" && fail "compare.json lists the seed, which is the same"
# runs are named by their directories' names, the paths said once
grep -q "<td title=\"$WORK/variant\">variant</td>" "$WORK/cmp/compare.html" || fail "compare.html does not name the runs"
grep -q '"label": "variant"' "$WORK/cmp/compare.json" || fail "compare.json has no label"
# the differences from the first run are the runs' own numbers subtracted
python3 - "$WORK" <<'PY' || fail "compare.json's numbers are not the reports'"
import json, sys
work = sys.argv[1]
c = json.load(open(f"{work}/cmp/compare.json"))
reports = [json.load(open(f"{work}/{r}/eval/report.json")) for r in ("paper", "variant")]
assert [r["run"] for r in c["runs"]] == [f"{work}/paper", f"{work}/variant"]
for run, rep in zip(c["runs"], reports):
    for scheme in ("ten_crop", "centre_crop"):
        for k in ("top1_error", "top5_error"):
            assert run[f"{scheme}_{k}"] == rep[scheme][k], (scheme, k)
            want = rep[scheme][k] - reports[0][scheme][k]
            assert abs(run["difference_from_first"][f"{scheme}_{k}"] - want) < 1e-12
    assert run["epochs"] == 2 and len(run["epoch"]) == 2
    assert run["train_seconds"] > 0
    for e in run["epoch"]:
        assert 0 <= e["train_top1_error"] <= 1 and 0 <= e["val_top1_error"] <= 1
assert c["runs"][1]["settings"]["network.activation"] == "tanh"
assert c["runs"][0]["settings"]["network.activation"] == "relu"
PY
# every chart of the compare page and of the run's report: distinct y tick
# labels; errors in percent, as the tables; the rate drawn once
python3 - "$WORK/cmp/compare.html" "$WORK/paper/report.html" <<'PY' || fail "a chart's ticks or units are wrong"
import re, sys
for path in sys.argv[1:]:
    charts = re.findall(r"<svg.*?</svg>", open(path).read(), re.S)
    assert charts, path
    for svg in charts:
        title = re.search(r'font-size="15"[^>]*>(.*?)</text>', svg).group(1)
        ticks = re.findall(r'text-anchor="end">([^<]*)</text>', svg)
        assert len(ticks) == 5 and len(set(ticks)) == 5, (path, title, ticks)
        if "error" in title:
            assert all(t.endswith(" %") for t in ticks), (path, title, ticks)
        assert "val lr" not in svg, (path, title)
PY
# a directory that is not a run: said so, by compare and by report, and nothing written
mkdir "$WORK/not-a-run"
for cmd in "compare --out $WORK/cmp2 $WORK/paper $WORK/not-a-run" "report $WORK/not-a-run"; do
    # shellcheck disable=SC2086
    "$EVAL" $cmd 2> "$WORK/err" && fail "$cmd succeeded"
    grep -q "$WORK/not-a-run is not a run directory (no config.json)" "$WORK/err" || fail "$cmd: $(cat "$WORK/err")"
done
[ -e "$WORK/not-a-run/report.html" ] && fail "report wrote into a directory that is not a run"

# runs scored on another dataset are refused, naming both
if "$EVAL" compare --out "$WORK/bad" "$WORK/paper" "$WORK/elsewhere" 2> "$WORK/refused.err"; then
    fail "compare accepted runs scored on different datasets"
fi
grep -q "different data" "$WORK/refused.err" || fail "the refusal does not say why: $(cat "$WORK/refused.err")"
[ -e "$WORK/bad/compare.html" ] && fail "a refused compare left a page"
# a run never scored is named
mkdir -p "$WORK/unscored" && cp "$WORK/paper/config.json" "$WORK/paper/metrics.csv" "$WORK/unscored/"
"$EVAL" compare --out "$WORK/bad" "$WORK/paper" "$WORK/unscored" 2> "$WORK/unscored.err" && fail "compare accepted an unscored run"
grep -q "has not been scored" "$WORK/unscored.err" || fail "unscored run: $(cat "$WORK/unscored.err")"
echo PASS
