#!/usr/bin/env bash
# device-check-run.sh: the device check's half that runs on the GPU machine,
# from the prefix scripts/device-check.sh made (this file is
# PREFIX/libexec/alexnet/device-check-run.sh; docs/cuda.md, "The device check"):
#   device-check-run.sh [--out DIR] [--work DIR]
# 0. every binary of the prefix resolves its libraries to the prefix's lib/
#    (RUNPATH), the machine's CUDA libraries, or glibc/libstdc++/libgcc_s;
# 1. ctest -L gpu from the prefix; the failed tests once more with
#    CUDA_LAUNCH_BLOCKING=1, under compute-sanitizer where there is one;
# 2. alexnet-train on the GPU at the demo's settings, alexnet-eval of its
#    checkpoint on the GPU and the CPU;
# 3. the benchmark: bench_train_gpu, alexnet-train end to end, PyTorch;
# 4. one table, also DIR/device-check-table.txt, with DIR/device-check-logs.tar.gz
#    (DIR: --out, else $OUT, else the work folder).
# Each phase has a time limit (below); one that runs out is a FAIL row and
# the rest still run. Without a GPU, what needs one is "skipped: no GPU";
# with one, a skip is a FAIL. Exit status 0 when no check failed.
set -u -o pipefail
LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"
prefix="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
libexec="$prefix/libexec/alexnet"
data="$prefix/share/alexnet/device-check/fmnist"
work="" out="${OUT:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift ;;
        --work) work="$2"; shift ;;
        *) echo "device-check-run: unknown option '$1' (--out DIR, --work DIR)" >&2; exit 2 ;;
    esac
    shift
done
work="${work:-$(mktemp -d "${TMPDIR:-/tmp}/device-check.XXXXXX")}"
mkdir -p "$work/logs" "$work/runs" && work="$(cd "$work" && pwd)"
out="${out:-$work}"
ncpu="$(nproc 2> /dev/null || echo 4)"
# Seconds per phase: 240 in all (eval and bench_train_gpu run twice), 35 more for a rerun.
limit_tests=60 limit_rerun=35 limit_train=25 limit_eval=15 limit_ours=25 limit_e2e=20 limit_torch=55
demo="--width 0.0625 --batch 64 --lr 0.01 --init paper --seed 1 --epochs 8 --lr-steps 6 --val-limit 500"
e2e_precision="${ALEXNET_E2E_PRECISION:-bf16}" # the fastest, so the loader's hardest test

rows=() failed=0
record() { # NAME RESULT SECONDS DETAIL
    rows+=("$(printf '%-36s %-8s %6ss  %s' "$1" "$2" "$3" "${4:0:150}")")
    [ "$2" = FAIL ] && failed=1
    echo "   -> $2: $1 ${4:+($4)}"
}
# timed LIMIT LOG CMD...: sets rc (124: out of time) and dt.
timed() {
    local limit="$1" log="$2" t0=$SECONDS
    shift 2
    echo "   \$ ${*#"$libexec/"} (limit ${limit}s)"
    timeout -k 5 "$limit" "$@" > "$log" 2>&1
    rc=$?
    dt=$((SECONDS - t0))
}
# judge NAME LOG [DETAIL]: one row for the command `timed` ran.
judge() {
    local msg
    msg="$(grep -m1 -E 'no usable (GPU|CUDA device)|torch sees no CUDA|no torch here' "$2")"
    if [ $rc = 0 ]; then record "$1" pass $dt "${3:-}"
    elif [ $rc = 124 ] || [ $rc = 137 ]; then record "$1" FAIL $dt "timed out (log $(basename "$2"))"
    elif [ -n "$msg" ] && [ $gpus = 0 ]; then record "$1" skipped $dt "no GPU: ${msg:0:100}"
    else record "$1" FAIL $dt "exit $rc: $(grep -v '^ *$' "$2" | tail -1 | cut -c1-120)"
    fi
}

echo "== device: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2> /dev/null | head -1)"
gpus="$(nvidia-smi -L 2> /dev/null | grep -c '^GPU')"
[ "$gpus" -gt 0 ] || gpus="$(ls /dev | grep -c '^nvidia[0-9][0-9]*$')" # no nvidia-smi: the device files
echo "   $gpus GPU(s), $ncpu cores, $(ldd --version 2> /dev/null | head -1); prefix $prefix; work $work"
[ -f "$prefix/BUNDLE" ] && cat "$prefix/BUNDLE"

echo "== 0. libraries"
# The machine's CUDA folders: Python's nvidia packages, the toolkit, the driver's. Never a
# default folder (/usr/lib/...): the loader searches those anyway, after RUNPATH.
candidate_dirs() {
    python3 - 2> /dev/null << 'PY'
import glob, os, nvidia
for r in nvidia.__path__:
    print("\n".join(sorted(glob.glob(os.path.join(r, "*", "lib")))))
PY
    printf '%s\n' /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/nvidia/lib64 \
        ${LD_LIBRARY_PATH//:/ }
}
cuda_path="$(candidate_dirs | while read -r d; do
    [ -n "$(ls "$d" 2> /dev/null | grep -E '^lib(cuda|cudnn|cublas|cudart|nccl)')" ] && echo "$d"; done |
    grep -vE "^$prefix|^/(usr/)?lib(64|/x86_64-linux-gnu)?/?$" | awk '!seen[$0]++' | paste -sd:)"
echo "   LD_LIBRARY_PATH for our programs: ${cuda_path:-(empty)}"
run_env=(env LD_LIBRARY_PATH="$cuda_path" OMP_NUM_THREADS="$ncpu")
t0=$SECONDS
if command -v ldd > /dev/null; then
    find "$prefix/bin" "$libexec" "$prefix/lib" -type f -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \; |
        xargs "${run_env[@]}" ldd > "$work/logs/ldd.log" 2>&1
else
    echo "ldd: not found (this machine has no ldd)" > "$work/logs/ldd.log"
fi
outside="$({ grep -o 'ldd: not found.*' "$work/logs/ldd.log"; grep -o "version .[A-Z_0-9.]*' not found (required by [^)]*)" "$work/logs/ldd.log" | sed "s|$prefix/||"
    awk '$2 == "=>" {print $1, $3}' "$work/logs/ldd.log" | sort -u | while read -r name path; do
        [ "$path" = not ] || path="$(realpath -m "$path")"; echo "$name $path"; done | awk -v p="$prefix/lib/" '
    $2 == "not" { print $1 " NOT FOUND"; next }
    index($2, p) == 1 { next }
    $1 ~ /^(ld-linux|libc|libm|libdl|libpthread|librt|libresolv|libutil|libstdc\+\+|libgcc_s)\.so/ { next }
    $1 ~ /^lib(cuda|cudnn|cublas|cublasLt|cudart|nccl)[a-z_]*\.so/ { next }
    { print $1 " (" $2 ")" }'; } | sort -u | paste -sd, | sed 's/,/, /g')"
if [ -z "$outside" ]; then
    record "libraries resolve" pass $((SECONDS - t0)) "$(ls "$prefix/lib" | wc -l) bundled; CUDA: $(awk '$2 == "=>" && \
        $1 ~ /^lib(cudnn|cublas|nccl)\.so/ {print $3}' "$work/logs/ldd.log" | sort -u | xargs -r -n1 dirname | sort -u | paste -sd' ')"
else
    record "libraries resolve" FAIL $((SECONDS - t0)) "outside the prefix or missing: $outside"
fi
[ "$gpus" -gt 0 ] || record "GPU" skipped 0 "no GPU: nvidia-smi lists none; every GPU check below is skipped"

echo "== 1. ctest -L gpu (from the prefix)"
ctest_cmd="$libexec/ctest" # a portable one (scripts/device-check.sh), else the machine's
"${run_env[@]}" "$ctest_cmd" --version > /dev/null 2>&1 || ctest_cmd="$(command -v ctest || echo "$ctest_cmd")"
echo "   ctest: $ctest_cmd"
ctest_run() { # LIMIT LOG ENV... -- ARGS...: the prefix's tests with the machine's CUDA folders only
    local limit="$1" log="$2" envs=()
    shift 2
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    timed "$limit" "$log" "${run_env[@]}" OMP_NUM_THREADS=$((ncpu / 4 > 1 ? ncpu / 4 : 1)) "${envs[@]}" \
        "$ctest_cmd" --test-dir "$libexec" -L gpu --output-on-failure \
        --stop-time "$(date -d "+$((limit - 5)) seconds" +%H:%M:%S)" "$@"
}
results() { # LOG: "name result seconds" per test of a ctest log
    sed -n 's/^ *[0-9]*\/[0-9]* Test *#[0-9]*: \([^ ]*\) \.*[* ]*\([A-Za-z]*\).* \([0-9.]*\) sec$/\1 \2 \3/p' "$1"
}
ctest_run "$limit_tests" "$work/logs/ctest.log" -- -j 4
ctest_rc=$rc
results "$work/logs/ctest.log" > "$work/logs/ctest.results"
while read -r name result secs; do
    case "$result" in
        Passed) record "test $name" pass "${secs%.*}" "" ;;
        Skipped) if [ "$gpus" = 0 ]; then record "test $name" skipped "${secs%.*}" "no GPU: exit 77"
                 else record "test $name" FAIL "${secs%.*}" "exit 77 (no device seen) on a GPU machine"; fi ;;
        *) record "test $name" FAIL "${secs%.*}" "$result (ctest.log)" ;;
    esac
done < "$work/logs/ctest.results"
[ -s "$work/logs/ctest.results" ] || record "ctest -L gpu" FAIL $dt "no test ran (exit $ctest_rc: $(tail -1 "$work/logs/ctest.log"))"
[ $ctest_rc = 124 ] && record "ctest -L gpu" FAIL $dt "timed out after ${limit_tests}s"
if grep -qv ' \(Passed\|Skipped\) ' "$work/logs/ctest.results"; then
    sanitizer="$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2> /dev/null | head -1)"
    echo "-- the failed tests once more: CUDA_LAUNCH_BLOCKING=1${sanitizer:+, under compute-sanitizer}"
    ctest_run "$limit_rerun" "$work/logs/ctest-rerun.log" CUDA_LAUNCH_BLOCKING=1 \
        ALEXNET_TEST_WRAPPER="${sanitizer:+$sanitizer --error-exitcode 9 --print-limit 10}" -- --rerun-failed
    where="$(grep -m1 -E '^========= (Invalid|Out of bounds|Program hit|Error)' "$work/logs/ctest-rerun.log" | cut -c11-90)"
    record "rerun: blocking${sanitizer:+, sanitizer}" "$([ $rc = 0 ] && echo pass || echo FAIL)" $dt \
        "$(results "$work/logs/ctest-rerun.log" | awk '{printf "%s %s; ", $1, $2}')${where}"
fi

echo "== 2. the real programs on the prefix's dataset"
runs="$work/runs"
# shellcheck disable=SC2086 # $demo: the options
timed $limit_train "$work/logs/train-demo.log" "${run_env[@]}" "$prefix/bin/alexnet-train" --data "$data" $demo \
    --run "$runs/demo" --devices cuda --threads "$ncpu" --loader-threads 8 --log-every 10 --checkpoint-minutes 0
val="$(awk -F, '$1 == "val" {e = $6} END {print e}' "$runs/demo/metrics.csv" 2> /dev/null)"
[ $rc = 0 ] && ! awk -v v="$val" 'BEGIN { exit !(v != "" && v + 0 < 0.5) }' && rc=1 &&
    echo "validation top-1 error '$val', not under 0.5: it did not learn" >> "$work/logs/train-demo.log"
judge "alexnet-train --devices cuda (demo)" "$work/logs/train-demo.log" "last validation top-1 error $val (< 0.5)"
ckpt="$runs/demo/checkpoints/best.h5"
for d in cuda cpu; do
    if [ ! -f "$ckpt" ]; then
        record "alexnet-eval --device $d" "$([ "$gpus" = 0 ] && echo skipped || echo FAIL)" 0 \
            "$([ "$gpus" = 0 ] && echo 'no GPU: ')no checkpoint from the GPU run"
        continue
    fi
    timed $limit_eval "$work/logs/eval-$d.log" "${run_env[@]}" "$prefix/bin/alexnet-eval" --data "$data" \
        --checkpoint "$ckpt" --batch 32 --threads "$ncpu" --device "$d" --out "$runs/eval-$d"
    judge "alexnet-eval --device $d" "$work/logs/eval-$d.log"
done
if [ -f "$runs/eval-cuda/report.json" ] && [ -f "$runs/eval-cpu/report.json" ]; then
    # Float sums in other orders move a count only for near-tied images: at most 1 in 500 (docs/cuda.md).
    detail="$(python3 - "$runs/eval-cuda/report.json" "$runs/eval-cpu/report.json" << 'PY'
import json, math, sys
g, c = (json.load(open(p)) for p in sys.argv[1:3])
n, bad = c["images"], []
for s in ("ten_crop", "centre_crop"):
    for k in ("top1_correct", "top5_correct"):
        if abs(g[s][k] - c[s][k]) > math.ceil(n / 500) or g["images"] != n:
            bad.append(f"{s} {k} {g[s][k]} vs {c[s][k]}")
print("; ".join(bad) or f"{n} images: ten-crop top-1 {g['ten_crop']['top1_correct']} correct (cpu "
      f"{c['ten_crop']['top1_correct']}), counts within {math.ceil(n / 500)}")
sys.exit(1 if bad else 0)
PY
)"
    same=$?
    record "alexnet-eval cuda = cpu" "$([ $same = 0 ] && echo pass || echo FAIL)" 0 "$detail"
fi

echo "== 3. the benchmark (batch 128, paper width)"
bench="$libexec/bench"
timed $limit_ours "$work/logs/bench-ours.log" "${run_env[@]}" "$bench/bench_train_gpu" --nondeterministic \
    --precisions fp32,tf32,bf16 --steps 20 --warmup 5
judge "bench_train_gpu (device-resident)" "$work/logs/bench-ours.log"
timed $limit_e2e "$work/logs/train-e2e.log" "${run_env[@]}" "$prefix/bin/alexnet-train" --data "$data" \
    --run "$runs/e2e" --devices cuda --precision "$e2e_precision" --width 1.0 --batch 128 --epochs 2 --lr 0.001 \
    --val-limit 256 --log-every 4 --checkpoint-minutes 0 --threads "$ncpu" --loader-threads "$ncpu"
judge "alexnet-train end to end ($e2e_precision)" "$work/logs/train-e2e.log" \
    "$(sed -n 's/.*done: .* s, \([0-9.]*\) images\/s, \([0-9.]*\)% of the time waiting.*/\1 images\/s, \2% waiting for data/p' \
    "$work/logs/train-e2e.log")"
classes="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["num_classes"])' "$data/dataset.json" \
    2> /dev/null || echo 10)"
timed $limit_ours "$work/logs/bench-ours-e2e.log" "${run_env[@]}" "$bench/bench_train_gpu" --precisions \
    "$e2e_precision" --classes "$classes" --steps 20 --warmup 5
judge "bench_train_gpu ($e2e_precision, deterministic)" "$work/logs/bench-ours-e2e.log"
# PyTorch with the machine's own environment, not ours.
timed $limit_torch "$work/logs/bench-torch.log" python3 "$bench/bench_torch.py" --precisions fp32,tf32,bf16 \
    --compile "same:$work/logs/bench-ours.log" --steps 20 --warmup 5
judge "bench_torch.py (eager, compile)" "$work/logs/bench-torch.log" "$(head -1 "$work/logs/bench-torch.log")"
python3 "$bench/bench_table.py" --ours "$work/logs/bench-ours.log" --torch "$work/logs/bench-torch.log" \
    --ours-e2e "$work/logs/bench-ours-e2e.log" --e2e-run "$runs/e2e" --e2e-threads "$ncpu" > "$work/logs/bench-table.txt" 2>&1 ||
    record "bench_table.py" FAIL 0 "$(tail -1 "$work/logs/bench-table.txt")"

echo "== 4. the table"
{
    printf '%-36s %-8s %7s  %s\n' check result time detail
    printf '%s\n' "${rows[@]}"
    echo
    cat "$work/logs/bench-table.txt"
    echo
    echo "$(printf '%s\n' "${rows[@]}" | grep -c ' pass ') passed, $(printf '%s\n' "${rows[@]}" | grep -c ' FAIL ') failed," \
        "$(printf '%s\n' "${rows[@]}" | grep -c ' skipped ') skipped; ${SECONDS} s; $gpus GPU(s)"
} | tee "$work/table.txt"
mkdir -p "$out" && cp "$work/table.txt" "$out/device-check-table.txt"
(cd "$work" && find logs runs \( -name '*.log' -o -name '*.txt' -o -name metrics.csv -o -name config.json \
    -o -name report.json -o -name '*.results' \) -print | tar -czf "$out/device-check-logs.tar.gz" -T -)
echo "table: $out/device-check-table.txt; logs: $out/device-check-logs.tar.gz"
exit $failed
