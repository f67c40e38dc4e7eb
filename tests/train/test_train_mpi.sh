#!/bin/sh
# Two MPI processes with a global batch of 16 (8 each) against one process
# with batch 16: after 5 steps the weights and momentum agree within float32
# rounding of differently ordered sums: |a - b| <= 1e-6 + 1e-3 |b|; so do two
# processes of two CPU replicas each in hybrid and in towers mode. A usage
# error exits 2 with the usage printed once, by rank 0.
. "$(dirname "$0")/train_test_lib.sh" "$1"
MPIRUN=${2:-mpirun}
command -v "$MPIRUN" >/dev/null 2>&1 || { echo "SKIP: no mpirun"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
"$MAKE_DATASET" "$WORK/data" 40 2 12 4
common="--data $WORK/data --width 0.05 --batch 16 --epochs 2 --seed 3 --threads 1 --checkpoint-minutes 0 --quiet --max-steps 5"

"$TRAIN" $common --run "$WORK/one"
"$MPIRUN" -np 2 --oversubscribe "$TRAIN" $common --run "$WORK/two" || fail "mpirun -np 2 failed"
"$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/two")" 1e-3 1e-6 || fail "2 processes differ from 1 beyond tolerance"
# The parallel modes across processes (docs/train.md, "Parallel modes"): two processes of two CPU
# replicas each, each process a hybrid split or a pair of towers, data-parallel with the other.
for mode in hybrid towers; do
    "$MPIRUN" -np 2 --oversubscribe "$TRAIN" $common --run "$WORK/$mode" --devices cpu,cpu --parallel $mode \
        || fail "mpirun -np 2 --parallel $mode failed"
    "$COMPARE" "$(latest "$WORK/one")" "$(latest "$WORK/$mode")" 1e-3 1e-6 \
        || fail "2 processes of --parallel $mode differ from 1 beyond tolerance"
done
# Both runs validated the same epochs and wrote the same rows.
[ "$(grep -c '^val,' "$WORK/one/metrics.csv")" -eq "$(grep -c '^val,' "$WORK/two/metrics.csv")" ] ||
    fail "different validation rows"
# A usage error under mpirun: exit 2, every rank's reason, the usage once (rank 0's)
status=0
"$MPIRUN" -np 2 --oversubscribe "$TRAIN" --data "$WORK/data" --run "$WORK/bad" --frobnicate > "$WORK/usage.out" 2>&1 ||
    status=$?
[ "$status" -eq 2 ] || fail "a usage error under mpirun exited $status, expected 2"
[ "$(grep -c 'unknown option or missing value: --frobnicate' "$WORK/usage.out")" -eq 2 ] || fail "not every rank's reason"
[ "$(grep -c '^Usage: alexnet-train' "$WORK/usage.out")" -eq 1 ] || fail "the usage printed other than once"
echo PASS
