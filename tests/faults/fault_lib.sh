# fault_lib.sh: helpers of the fault suite (tests/faults, docs/RELIABILITY.md).
# Usage: . fault_lib.sh BUILD_DIR
set -eu
BUILD=$1
TRAIN=$BUILD/train/alexnet-train
EVAL=$BUILD/eval/alexnet-eval
PREP=$BUILD/prep/alexnet-prep
MAKE_DATASET=$BUILD/tests/train/make_test_dataset
COMPARE=$BUILD/tests/train/compare_checkpoints
WORK=$(mktemp -d "${TMPDIR:-/tmp}/alexnet-faults.XXXXXX")
cleanup() { status=$?; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"; exit $status; }
trap cleanup EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
unset ALEXNET_KILL_AT ALEXNET_FAULT_LOG

fail() { echo "FAIL: $*" >&2; exit 1; }

# count_points LOG COMMAND...: runs COMMAND with every fault point logged; prints how many
# points the busiest of its processes passed (each process counts its own).
count_points() {
    log=$1; shift
    rm -f "$log"
    ALEXNET_FAULT_LOG=$log "$@" >/dev/null || fail "the uninterrupted run failed: $*"
    awk '{ n[$1]++ } END { m = 0; for (p in n) if (n[p] > m) m = n[p]; print m }' "$log"
}

# kill_points TOTAL WANT: WANT points spread evenly over 1..TOTAL (all of them when TOTAL <= WANT).
kill_points() {
    awk -v n="$1" -v k="$2" 'BEGIN { if (n <= k) { for (i = 1; i <= n; i++) print i }
                                     else for (i = 0; i < k; i++) print 1 + int(i * (n - 1) / (k - 1)) }'
}

# same_report A B: two eval report.json files are equal apart from the timing fields.
same_report() {
    python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    for k in ("seconds", "images_per_second"): r.pop(k, None)
sys.exit(0 if a == b else 1)
PY
}

# killed_at K COMMAND...: runs COMMAND with SIGKILL at its K-th fault point; fails unless it was killed.
killed_at() {
    k=$1; shift
    if ALEXNET_KILL_AT=$k "$@" >/dev/null 2>&1; then
        fail "the run finished although it should have been killed at point $k: $*"
    fi
}
