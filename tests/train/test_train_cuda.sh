#!/bin/sh
# The GPU training path (label gpu): alexnet-train --device cuda runs the same
# network (net/) on the CUDA backend. On a tiny dataset, 5 steps of
# --device cuda (crossing an epoch end, so validation runs on the GPU too)
# against --device cpu from the same seed. The loader hands both the same
# augmented batches and dropout draws the same masks, so the runs differ only
# by float32 sums taken in other orders (cuDNN, cuBLAS) than the CPU's.
#
# Tolerances (derived from tests/gpu, not yet measured on a device):
# - losses: a step's loss is its forward pass's. tests/gpu/gpu_test_util.c
#   puts one layer's fp32 error at about 2.5e-5 of its tensor's scale, so the
#   logits carry about 8 x 2.5e-5 = 2e-4 of theirs, which moves a mean loss by
#   at most 2 x 2e-4 x max|logit| (tests/gpu/test_net_cuda.c, loss_tolerance):
#   within 1e-3 of the loss while max|logit| <= 2.5 x loss. Here the loss
#   stays near ln 5 = 1.6 and fan_in's N(0, 0.01) fc8 on fc7 features of rms
#   about 8 (inputs of rms about 60 byte units kept by He's gains) gives
#   logits of rms about 1, max about 3 over 8 x 5, under 2.5 x 1.6 = 4.
#   metrics.csv prints 6 decimals, which adds 1e-6.
# - weights and momentum: |a - b| <= 1e-5 + 1e-3 |b|. An update differs by lr
#   times the momentum-weighted sum of the gradients' differences (weights
#   1 + 1.9 + 2.71 + 3.44 + 4.10 = 13.1 over 5 steps); gradients differ by
#   about 16 x 2.5e-5 = 4e-4 of their scale (eight layers forward and back),
#   so weights by 0.001 x 13.1 x 4e-4 x max|g| = 5.2e-6 max|g|: within 1e-5
#   for gradients up to about 2, and the 1e-3 |b| term covers larger ones on
#   weights of their own size. test_net_cuda compares the updates themselves,
#   view by view, with a negative control.
# The GPU uses deterministic algorithms, so 3 steps + --resume + 2 steps
# equals 5 steps straight, bitwise. Skipped (77) without a CUDA device, after
# checking that --device cuda is then refused with "--device cuda: no usable
# GPU" rather than run on the CPU.
. "$(dirname "$0")/train_test_lib.sh" "$1"
"$MAKE_DATASET" "$WORK/data" 24 2 8 5
common="--data $WORK/data --width 0.05 --batch 8 --epochs 2 --init fan_in --lr 0.001 --seed 5 --threads 1
        --checkpoint-minutes 0 --log-every 1 --quiet"

# shellcheck disable=SC2086
if ! "$TRAIN" $common --device cuda --run "$WORK/gpu" --max-steps 5 2> "$WORK/err"; then
    if grep -q -- '--device cuda: no usable GPU' "$WORK/err"; then
        echo "no CUDA device, skipped: $(cat "$WORK/err")"
        exit 77
    fi
    cat "$WORK/err"
    fail "alexnet-train --device cuda failed"
fi
grep -q '"device": "cuda"' "$WORK/gpu/config.json" || fail "config.json does not say cuda"
# shellcheck disable=SC2086
"$TRAIN" $common --device cpu --run "$WORK/cpu" --max-steps 5 || fail "alexnet-train --device cpu failed"
grep -q '"device": "cpu"' "$WORK/cpu/config.json" || fail "config.json does not say cpu"

"$COMPARE" "$(latest "$WORK/gpu")" "$(latest "$WORK/cpu")" 1e-3 1e-5 || fail "GPU and CPU weights differ beyond tolerance"
# Same metrics rows (steps 1..5 and the validation after step 3); losses within 1e-3 relative.
cut -d, -f1-4 "$WORK/gpu/metrics.csv" > "$WORK/gpu.keys"
cut -d, -f1-4 "$WORK/cpu/metrics.csv" > "$WORK/cpu.keys"
cmp -s "$WORK/gpu.keys" "$WORK/cpu.keys" || fail "the runs wrote different metrics rows"
grep -q '^val,1,3,' "$WORK/gpu/metrics.csv" || fail "no validation after the first epoch on the GPU"
# columns: split, epoch, step, lr, loss ($5; the CPU's is $14 after paste), top1, top5, images/s, seconds
paste -d, "$WORK/gpu/metrics.csv" "$WORK/cpu/metrics.csv" | awk -F, 'NR > 1 {
        d = $5 - $14; if (d < 0) d = -d; m = $14 < 0 ? -$14 : $14
        if (!(d <= 1e-3 * m + 1e-6)) { print "loss differs at " $1 " step " $3 ": " $5 " vs " $14; bad = 1 } }
    END { exit bad }' || fail "GPU and CPU losses differ beyond 1e-3 relative"

# Exact resume on the GPU: 3 steps, then --resume to 5, equals the 5 steps above bitwise.
# shellcheck disable=SC2086
"$TRAIN" $common --device cuda --run "$WORK/resumed" --max-steps 3 || fail "the first 3 GPU steps failed"
# shellcheck disable=SC2086
"$TRAIN" $common --device cuda --run "$WORK/resumed" --max-steps 5 --resume || fail "the GPU resume failed"
"$COMPARE" "$(latest "$WORK/resumed")" "$(latest "$WORK/gpu")" || fail "GPU resume differs from the straight GPU run"
echo PASS
