#!/bin/sh
# The pipeline on a small run under Valgrind memcheck: alexnet-prep (20 + 10
# Fashion-MNIST images), alexnet-train (2 steps) and alexnet-eval on its
# output; each must finish with no memcheck error and no definite leak.
. "$(dirname "$0")/fault_lib.sh" "$1"
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
[ -x "$PREP" ] || { echo "SKIP: alexnet-prep is not built (no libvips)"; exit 77; }
idx=/usr/share/datasets/fashion-mnist
[ -d "$idx" ] || { echo "SKIP: Fashion-MNIST (dataset-fashion-mnist) is not installed"; exit 77; }
export ALEXNET_BLAS_AUTO=0 # no re-exec with another OpenBLAS kernel set: one process under memcheck
memcheck() { valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$@"; }
memcheck "$PREP" --source idx --input "$idx" --output "$WORK/data" --train-limit 20 --val-limit 10 \
    --shard-size 10 --jobs 1 --quiet || fail "alexnet-prep under memcheck (exit $?)"
memcheck "$TRAIN" --data "$WORK/data" --run "$WORK/run" --width 0.03 --batch 4 --max-steps 2 --threads 1 \
    --loader-threads 1 --quiet || fail "alexnet-train under memcheck (exit $?)"
memcheck "$EVAL" --data "$WORK/data" --run "$WORK/run" --out "$WORK/eval" --batch 2 --limit 4 --threads 1 \
    --quiet >/dev/null || fail "alexnet-eval under memcheck (exit $?)"
echo PASS
