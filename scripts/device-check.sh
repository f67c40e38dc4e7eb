#!/usr/bin/env bash
# device-check.sh: check the CUDA backend and the real programs on a lent GPU
# machine (one H200, 16 cores, CUDA 13; cuDNN, cuBLAS and NCCL only in
# Python's `nvidia` packages; no HDF5, OpenBLAS or MPI libraries, no
# compiler for our dependencies, no network) in ONE command of at most 8
# minutes, ending in one table.
#
# Two steps, because that machine cannot build the project:
#
#   here (the build machine), after a CUDA build:
#       cmake -S . -B build-dc -DALEXNET_CUDA=ON -DALEXNET_WERROR=ON && cmake --build build-dc -j2
#       scripts/device-check.sh pack [BUILD_DIR [PACK_DIR]]     -> PACK_DIR (default build-device/)
#     packs, into PACK_DIR/pack.tar.xz (xz) and PACK_DIR/PACKED (what and from where):
#     - the GPU tests (tests/gpu/*, and tests/net's test_backend_check, run
#       with --cuda), bench_train_gpu and bench/gpu/bench_torch.py;
#     - the real programs alexnet-train and alexnet-eval and
#       tests/train/compare_checkpoints. When the build's alexnet-eval links
#       libvips (the --figures), the target alexnet-eval-nofigures is built
#       and packed instead: the same main.c and scorer without --figures,
#       because libvips's hundred libraries (72 MB) would not fit the carry;
#     - every shared library `ldd` shows for those binaries except glibc's,
#       libstdc++, libgcc_s (on every machine) and cuDNN, cuBLAS(Lt), NCCL and
#       the driver (hundreds of MB, found there): OpenBLAS, libgomp,
#       libgfortran, HDF5 and its dependencies (curl, ssl, krb5, ...), zlib,
#       libjpeg-turbo, Open MPI (alexnet-train links libmpi but starts MPI
#       only under mpirun, which is not used here: the libraries just load),
#       cmocka, the CUDA 13 runtime;
#     - the demo's data made here by the real alexnet-prep: Fashion-MNIST
#       (Debian's dataset-fashion-mnist) through --source idx as
#       Makefile.pipeline does, 3000 training and 1000 validation images,
#       stored as JPEG at quality 75: 20 MB (raw shards compress to about
#       15 KB an image under xz: 76 MB measured for 5000 images).
#     and this script, and prints the pack's size (about 26 MiB; it must
#     stay well under the 64 MiB that a device call carries, working tree
#     included).
#       scripts/device-check.sh run --cpu-only [PACK_DIR]
#     the dry run here (also ALEXNET_DEVICE_CHECK_CPU_ONLY=1): everything
#     `run` does, from the unpacked pack, with only the pack's libraries
#     (env -i, and a chroot holding nothing but glibc, libstdc++, libgcc_s,
#     the pack and the CUDA library folders where `unshare -r -m` works): the
#     CPU halves must pass, each GPU half must fail with the programs' own
#     "no usable GPU" (or a test's exit 77), and the table says so.
#
#   there: the device tool sends the checkout the session was started in
#   (a helper in another worktree packs into that checkout: PACK_DIR =
#   <checkout>/build-device, which git ignores through /build*/). `pack`
#   copies this script into PACK_DIR, so the call does not depend on the
#   version of scripts/device-check.sh in that checkout:
#       run(command: "set -o pipefail; timeout -k 5 470 bash build-device/device-check.sh run 2>&1 | tee $OUT/device-check.log",
#           carry: ["build-device"], timeout_s: 480)
#     `run` checks the pack's checksum, unpacks it into build-device/run/,
#     finds cuDNN/cuBLAS/NCCL (find_cuda_libs) and then, each step with a
#     time limit inside a budget of 440 s (ALEXNET_DEVICE_CHECK_BUDGET), and
#     a failure in one step never stopping the others:
#     0. the libraries: every library of every packed binary resolves to the
#        pack, the machine's CUDA libraries or glibc/libstdc++/libgcc_s;
#        every program starts (--version) with only those;
#     a. every GPU test (exit 77, "no device seen", is a failure there); a
#        failed one runs once more with CUDA_LAUNCH_BLOCKING=1, under
#        compute-sanitizer where the machine has it (rerun_blocking);
#     b. alexnet-train at the demo's settings (Makefile.pipeline: width
#        0.0625, batch 64, lr 0.01, paper init, 8 epochs, rate / 10 after 6,
#        500 validation images): 5 steps --devices cuda against 5 steps
#        --devices cpu on all cores (losses in metrics.csv and weights and
#        momentum through compare_checkpoints, tolerances below); 5 steps
#        --devices cuda:0, bitwise the same as cuda; the whole demo (376
#        steps) on cuda; the NCCL row says whether NCCL was reached (it needs
#        two replicas, so two GPUs: not on a one-GPU machine);
#     c. alexnet-eval --device cuda and --device cpu on the demo's checkpoint
#        (ten-crop and centre-crop top-1/top-5 counts in report.json);
#     d. bench_train_gpu (ours: paper width, batch 128, fp32/tf32/bf16)
#        beside bench_torch.py (PyTorch eager, bf16 with autocast and
#        channels_last, and torch.compile of the bf16 step), and alexnet-train
#        end to end (paper width, batch 128, from the JPEG shards on disk)
#        against bench_train_gpu's synthetic fp32 images/s;
#     e. one table: each check, pass / FAIL / skipped (with the reason), its
#        time, and the benchmark ratios. Logs, metrics.csv, config.json and
#        report.json come back as $OUT/device-check-logs.tar.gz.
#
# Exit status of `run`: 0 when every check passed (with --cpu-only: every
# CPU check passed and every GPU check failed for want of a GPU), 1
# otherwise, 2 on a usage error or an unusable pack.
set -u -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pack_default="$here/build-device"
# Each test as <folder under tests/>/<binary>; test_args gives its arguments.
gpu_tests="gpu/test_cuda_host gpu/test_stream_cuda gpu/test_ops_cuda gpu/test_crop_cuda gpu/test_net_cuda
           net/test_backend_check gpu/test_nccl_cuda"
bench_batches=128

# The dataset that travels (made by `pack` with the build's alexnet-prep).
fmnist_input="${ALEXNET_DEVICE_CHECK_FMNIST:-/usr/share/datasets/fashion-mnist}"
data_train=3000
data_val=1000
data_quality=75
# The demo's training settings, as Makefile.pipeline gives them for
# DATASET=fashion-mnist (WIDTH BATCH LR INIT SEED EPOCHS LR_STEPS TRAIN_VAL_LIMIT).
demo_args="--width 0.0625 --batch 64 --lr 0.01 --init paper --seed 1 --epochs 8 --lr-steps 6 --val-limit 500"
demo_steps=376 # 8 epochs of ceil(3000 / 64) = 47 steps

test_args() {
    case "$1" in
        test_backend_check) echo --cuda ;; # the whole network through the checking backend, on the GPU
    esac
}

die() { echo "device-check: $*" >&2; exit 2; }
say() { echo "device-check: $*"; }
jobs="${ALEXNET_DEVICE_CHECK_JOBS:-2}"

# Libraries never packed: glibc's and the C++ runtime (on every machine)...
is_base_lib() {
    case "$1" in
        libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libresolv.so*|libutil.so*|ld-linux*|linux-vdso*) return 0 ;;
        libstdc++.so*|libgcc_s.so*) return 0 ;;
    esac
    return 1
}
# ... and the ones the GPU machine has (Python's nvidia packages, the driver).
is_machine_lib() {
    case "$1" in
        libcublas.so*|libcublasLt.so*|libcudnn*|libnccl.so*|libcuda.so*) return 0 ;;
    esac
    return 1
}

# ---------------------------------------------------------------- pack (build machine)
pack() {
    local build="${1:-$here/build}" out="${2:-$pack_default}"
    build="$(cd "$build" 2>/dev/null && pwd)" || die "no build directory ${1:-$here/build}"
    [ -x "$build/tests/gpu/test_ops_cuda" ] ||
        die "no GPU tests in $build (configure with -DALEXNET_CUDA=ON and build first)"
    local p
    for p in train/alexnet-train eval/alexnet-eval prep/alexnet-prep tests/train/compare_checkpoints \
             bench/gpu/bench_train_gpu; do
        [ -x "$build/$p" ] || die "no $build/$p: build everything first (cmake --build $build -j2)"
    done
    [ -f "$fmnist_input/train-images-idx3-ubyte.gz" ] ||
        die "no Fashion-MNIST in $fmnist_input (apt-get install dataset-fashion-mnist, or set ALEXNET_DEVICE_CHECK_FMNIST)"

    local eval_bin="$build/eval/alexnet-eval"
    if ldd "$eval_bin" | grep -q 'libvips'; then
        say "alexnet-eval links libvips (its --figures); building alexnet-eval-nofigures, the same program without them"
        { cmake "$build" > /dev/null && cmake --build "$build" --target alexnet-eval-nofigures -j"$jobs" > /dev/null; } ||
            die "could not build alexnet-eval-nofigures in $build"
        eval_bin="$build/eval/alexnet-eval-nofigures"
    fi

    mkdir -p "$out" || die "cannot create $out"
    out="$(cd "$out" && pwd)"
    local stage="$out.stage"
    rm -rf "$stage" "$out/pack.tar.xz" "$out/PACKED" "$out/run" "$out/device-check.sh"
    local others
    others="$(find "$out" -mindepth 1 -maxdepth 1 -printf '%f ')"
    [ -z "$others" ] || say "warning: $out holds other files, which travel too: $others"
    mkdir -p "$stage/bin" "$stage/lib" "$stage/data"

    say "programs and tests from $build"
    local bins=() t
    for t in $gpu_tests; do
        if [ -x "$build/tests/$t" ]; then bins+=("$build/tests/$t"); else say "no $t in $build, not packed"; fi
    done
    bins+=("$build/bench/gpu/bench_train_gpu" "$build/train/alexnet-train" "$eval_bin"
           "$build/tests/train/compare_checkpoints")
    cp "${bins[@]}" "$stage/bin/" || die "cannot copy the binaries"
    strip --strip-debug "$stage"/bin/* 2> /dev/null || true
    cp "$here/bench/gpu/bench_torch.py" "$stage/bin/"

    say "libraries (ldd of the packed binaries, less glibc/libstdc++/libgcc_s and cuDNN/cuBLAS/NCCL/driver)"
    local line name path missing=""
    while read -r line; do
        name="${line%% *}"
        path="$(awk '{print $3}' <<< "$line")"
        is_base_lib "$name" && continue
        is_machine_lib "$name" && continue
        if [ "$path" = "not" ]; then missing="$missing $name"; continue; fi
        cp -L "$path" "$stage/lib/$name" || die "cannot copy $path"
    done < <(ldd "${bins[@]}" 2> /dev/null | awk '/=>/ {print $1, $2, $3}' | sort -u)
    [ -z "$missing" ] || die "ldd finds no$missing here: cannot pack them"

    say "dataset: alexnet-prep --source idx, $data_train training and $data_val validation images, JPEG quality $data_quality"
    "$build/prep/alexnet-prep" --source idx --input "$fmnist_input" --train-limit "$data_train" \
        --val-limit "$data_val" --resize crop --shard-size 1024 --seed 1 --store jpeg --jpeg-quality "$data_quality" \
        --output "$stage/data/fmnist" --jobs "$jobs" --quiet || die "alexnet-prep failed"
    "$build/prep/alexnet-prep" verify "$stage/data/fmnist" > "$stage/data/verify.log" 2>&1 ||
        die "alexnet-prep verify failed: $(tail -3 "$stage/data/verify.log")"

    say "compressing (xz -6, $jobs threads)"
    tar -C "$stage" -cf - bin lib data | xz -T"$jobs" -6 > "$out/pack.tar.xz" || die "compression failed"
    {
        echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git -C "$here" rev-parse --short HEAD 2> /dev/null)$(
            git -C "$here" diff --quiet HEAD 2> /dev/null || echo ' (with uncommitted changes)') of $build"
        echo "binaries need glibc >= $(objdump -T "${bins[@]}" 2> /dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1 |
            sed 's/GLIBC_//')"
        echo "bin: $(find "$stage/bin" -mindepth 1 -printf '%f ')"
        echo "lib: $(find "$stage/lib" -mindepth 1 -printf '%f ')"
        echo "data: fmnist: alexnet-prep --source idx --input $fmnist_input --train-limit $data_train" \
             "--val-limit $data_val --resize crop --shard-size 1024 --seed 1 --store jpeg --jpeg-quality $data_quality"
        echo "unpacked: $(du -sh "$stage" | cut -f1) (bin $(du -sh "$stage/bin" | cut -f1), lib $(du -sh "$stage/lib" |
            cut -f1), data $(du -sh "$stage/data" | cut -f1))"
        echo "sha256 $(sha256sum "$out/pack.tar.xz" | cut -d' ' -f1)"
    } > "$out/PACKED"
    rm -rf "$stage"
    # This script travels too: the checkout the device tool sends may hold an older one.
    cp "${BASH_SOURCE[0]}" "$out/device-check.sh"
    cat "$out/PACKED"
    local bytes
    bytes="$(du -sb "$out" | cut -f1)"
    say "pack: $out, $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }')), carried as one path"
    [ "$bytes" -lt $((48 * 1048576)) ] || say "warning: over 48 MiB; a device call carries 64 MiB in all, working tree included"
}

# ---------------------------------------------------------------- run (GPU machine)

# Prints the directory holding $1 (a soname), searched in: Python's `nvidia`
# packages (nvidia/cudnn/lib, nvidia/cublas/lib, nvidia/cu13/lib, ...), the
# CUDA toolkit, the driver's folder, then the loader cache. Nothing when not found.
find_lib_dir() {
    local soname="$1" d
    for d in $nvidia_dirs /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib \
             /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu; do
        if [ -e "$d/$soname" ]; then echo "$d"; return; fi
    done
    ldconfig -p 2> /dev/null | awk -v s="$soname" '$1 == s {print $NF; exit}' | xargs -r dirname
}

# Sets lib_path: the pack's lib/, then the folders of cuDNN, cuBLAS, the CUDA
# runtime and NCCL. On the GPU machine the inherited LD_LIBRARY_PATH follows
# (the driver may be found through it); the dry run leaves it out, so that
# nothing of this machine's but glibc and the CUDA folders is used.
find_cuda_libs() {
    nvidia_dirs=""
    local py
    for py in python3 python; do
        command -v "$py" > /dev/null || continue
        # `nvidia` is a namespace package: every wheel (cudnn, cublas, cu13, nccl) adds a lib/ under it.
        nvidia_dirs="$("$py" - << 'PY' 2> /dev/null
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except ImportError:
    roots = []
for r in roots:
    for d in sorted(glob.glob(os.path.join(r, "*", "lib")) + glob.glob(os.path.join(r, "*", "lib64"))):
        print(d)
PY
)"
        [ -n "$nvidia_dirs" ] && break
    done
    lib_path="$work/lib"
    cuda_dirs=""
    local soname dir
    for soname in libcudnn.so.9 libcublas.so.13 libcublasLt.so.13 libcudart.so.13 libnccl.so.2 libcuda.so.1; do
        dir="$(find_lib_dir "$soname")"
        printf '   %-20s %s\n' "$soname" "${dir:-NOT FOUND}"
        [ -n "$dir" ] || continue
        # The driver's folder only on the GPU machine: here it would be /usr/lib/x86_64-linux-gnu, everything.
        [ "$soname" = libcuda.so.1 ] && [ "$cpu_only" = 1 ] && continue
        case ":$lib_path:" in *":$dir:"*) ;; *) lib_path="$lib_path:$dir" cuda_dirs="$cuda_dirs $dir" ;; esac
    done
    # cuDNN 9 loads its engine libraries (libcudnn_cnn, _ops, ...) from its own folder, hence folders, not files.
    if [ "$cpu_only" != 1 ] && [ -n "${LD_LIBRARY_PATH:-}" ]; then lib_path="$lib_path:$LD_LIBRARY_PATH"; fi
}

now() { echo "${EPOCHREALTIME:-$SECONDS}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
left() { echo $((deadline - SECONDS)); }

# One row of the final table: record NAME RESULT SECONDS DETAIL [gpu].
# RESULT is pass, FAIL or skipped; `gpu` marks a check that needs a GPU,
# which --cpu-only expects to fail with the programs' "no usable GPU".
rows=()
record() {
    local name="$1" result="$2" secs="$3" detail="${4//|//}" gpu="${5:-}"
    if [ "$cpu_only" = 1 ] && [ -n "$gpu" ] && [ "$result" = FAIL ] && [ "$detail" != "${detail#no GPU:}" ]; then
        result="FAIL*" # needs a GPU; failed with the expected refusal
    fi
    rows+=("$name|$result|$secs|$detail")
    printf '   -> %s: %s%s\n' "$result" "$name" "${detail:+ ($detail)}"
}

# timed LOG LIMIT CMD...: runs CMD with the smaller of LIMIT and the time
# left in the budget, output to LOG; sets rc (124: out of time, 125: not
# started, the budget being spent) and dt (seconds).
timed() {
    local log="$1" limit="$2" l
    shift 2
    l="$(left)"
    [ "$l" -lt "$limit" ] && limit="$l"
    if [ "$limit" -lt 5 ]; then
        echo "not started: no time left (the ${budget} s budget, or the section's share of it)" > "$log"
        echo "   not started: no time left (the ${budget} s budget, or the section's share of it)"
        rc=125 dt=0
        return
    fi
    local shown="$*"
    shown="${shown#"${launch[*]} "}"
    echo "   \$ $shown (limit ${limit}s, log $log)" | sed "s|$work/|W/|g"
    local t0
    t0="$(now)"
    timeout -k 5 "$limit" "$@" > "$log" 2>&1
    rc=$?
    dt="$(since "$t0")"
}

# Why a failed command failed, in a few words, for the table. A GPU
# program's refusal to run without a GPU becomes "no GPU: ...".
why() {
    local log="$1" code="$2" msg
    case "$code" in
        124) echo "timed out"; return ;;
        125) echo "not run: no time left"; return ;;
        127) grep -m1 'error while loading shared libraries' "$log" | sed 's/.*loading shared libraries: /missing library: /' && return ;;
    esac
    msg="$(grep -m1 -E 'no usable GPU|no usable CUDA device|no CUDA device|torch sees no CUDA device|no torch here' "$log")"
    if [ -n "$msg" ] || [ "$code" = 77 ]; then
        echo "no GPU: exit $code, ${msg:-skipped (77): no device seen}" | cut -c1-150
        return
    fi
    echo "exit $code: $(grep -v '^ *$' "$log" | tail -1 | cut -c1-120)"
}

# The detail of a check that could not run because an earlier one failed:
# "no GPU: ..." when that one failed for want of a GPU.
depends() {
    case "$1" in
        no\ GPU:*) echo "no GPU: $2 failed" ;;
        *) echo "$2 failed (${1:-see its log})" ;;
    esac
}

latest() { [ -f "$1/checkpoints/latest" ] && echo "$1/checkpoints/$(cat "$1/checkpoints/latest")"; }

# Prints "split epoch step lr loss" of the train rows of metrics.csv $1 with step <= $2.
train_rows() { awk -F, -v n="$2" '$1 == "train" && $3 <= n {print $1, $2, $3, $4, $5}' "$1/metrics.csv" 2> /dev/null; }

run() {
    cpu_only="${ALEXNET_DEVICE_CHECK_CPU_ONLY:-0}"
    budget="${ALEXNET_DEVICE_CHECK_BUDGET:-440}"
    work=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --cpu-only|--dry-run) cpu_only=1 ;;
            --work) [ $# -ge 2 ] || die "--work needs a folder"; work="$2"; shift ;;
            --budget) [ $# -ge 2 ] || die "--budget needs seconds"; budget="$2"; shift ;;
            -*) die "run: unknown option '$1' (--cpu-only, --work DIR, --budget SECONDS)" ;;
            *) break ;;
        esac
        shift
    done
    [ "$cpu_only" = 1 ] || cpu_only=0
    case "$budget" in ''|*[!0-9]*) die "--budget: seconds expected, not '$budget'" ;; esac
    pack="$(cd "${1:-$pack_default}" 2> /dev/null && pwd)" || die "no pack folder ${1:-$pack_default}"
    [ -f "$pack/pack.tar.xz" ] ||
        die "no $pack/pack.tar.xz: run 'scripts/device-check.sh pack' on the build machine and carry build-device"
    if [ -z "$work" ]; then
        if [ "$cpu_only" = 1 ]; then work="$(mktemp -d "${TMPDIR:-/tmp}/device-check.XXXXXX")"; else work="$pack/run"; fi
    fi
    mkdir -p "$work" || die "cannot create $work"
    work="$(cd "$work" && pwd)"
    local start=$SECONDS
    deadline=$((SECONDS + budget))
    ncpu="$(nproc 2> /dev/null || echo 4)"
    local mode="on the GPU machine"
    [ "$cpu_only" = 1 ] && mode="CPU-only dry run: the GPU halves are expected to fail with 'no usable GPU'"
    echo "== device-check run ($mode); budget ${budget}s; work folder $work"

    echo "== 0. unpack"
    cat "$pack/PACKED" 2> /dev/null
    local sum
    sum="$(sed -n 's/^sha256 //p' "$pack/PACKED" 2> /dev/null)"
    if [ -n "$sum" ] && command -v sha256sum > /dev/null; then
        [ "$(sha256sum "$pack/pack.tar.xz" | cut -d' ' -f1)" = "$sum" ] || die "$pack/pack.tar.xz does not match PACKED's sha256"
        echo "   sha256 matches PACKED"
    fi
    rm -rf "${work:?}/bin" "${work:?}/lib" "${work:?}/data" "${work:?}/runs" "${work:?}/logs" "${work:?}/tmp"
    mkdir -p "$work/runs" "$work/logs" "$work/tmp"
    local t0
    t0="$(now)"
    if command -v xz > /dev/null; then
        xz -dc -T0 "$pack/pack.tar.xz" | tar -C "$work" -xf - || die "cannot unpack $pack/pack.tar.xz"
    else # Python's lzma: xz-utils may be missing there
        python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' \
            "$pack/pack.tar.xz" | tar -C "$work" -xf - || die "cannot unpack $pack/pack.tar.xz"
    fi
    echo "   unpacked in $(since "$t0") s: $(du -sh "$work" | cut -f1)"
    data="$work/data/fmnist"
    eval_prog="$work/bin/alexnet-eval"
    [ -x "$eval_prog" ] || eval_prog="$work/bin/alexnet-eval-nofigures"

    echo "== device"
    gpus=0
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -4
        gpus="$(nvidia-smi -L 2> /dev/null | grep -c '^GPU')"
    else
        echo "   no nvidia-smi"
    fi
    echo "   $gpus GPU(s), $ncpu CPU cores"

    echo "== libraries"
    find_cuda_libs
    echo "   LD_LIBRARY_PATH for our programs: $lib_path" | sed "s|$work/|W/|g"
    # Our programs run in a minimal environment: env -i, the library path
    # above, nothing else of the caller's but CUDA_VISIBLE_DEVICES.
    launch=(env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="$work" LC_ALL=C TMPDIR="$work/tmp" LD_LIBRARY_PATH="$lib_path")
    [ -n "${CUDA_VISIBLE_DEVICES+x}" ] && launch+=(CUDA_VISIBLE_DEVICES="$CUDA_VISIBLE_DEVICES")
    local isolated=""
    check_libraries
    [ "$cpu_only" = 1 ] && isolate
    check_start "$isolated"

    echo "== a. GPU tests"
    gpu_tests_step
    echo "== b. alexnet-train"
    train_step
    echo "== c. alexnet-eval"
    eval_step
    echo "== d. benchmarks"
    bench_step

    echo "== e. summary"
    summary "$((SECONDS - start))" | tee "$work/logs/table.txt"
    local status=$?
    [ -n "$isolated" ] && rm -rf "$iso_root"
    save_logs
    return "$status"
}

# 0. Every library of every packed binary, resolved the way the loader will
# with our LD_LIBRARY_PATH, must come from the pack, from the machine's
# CUDA libraries or from glibc/libstdc++/libgcc_s. A library found elsewhere
# on this machine means the pack is incomplete for a bare one (a failure in
# the dry run, a note on the GPU machine, where it was found after all).
check_libraries() {
    local t0 b line name path packed=0 machine="" base=0 other="" missing="" log="$work/logs/ldd.log"
    t0="$(now)"
    base_paths=""
    : > "$log"
    for b in "$work"/bin/*; do
        if [ ! -x "$b" ] || [ "${b%.py}" != "$b" ]; then continue; fi
        echo "## $b" >> "$log"
        "${launch[@]}" ldd "$b" >> "$log" 2>&1
    done
    while read -r name path; do
        if [ "$path" = "not" ]; then missing="$missing $name"
        elif [ "${path#"$work/lib/"}" != "$path" ]; then packed=$((packed + 1))
        elif is_machine_lib "$name"; then machine="$machine ${name%%.so*}"
        elif is_base_lib "$name"; then base=$((base + 1)) base_paths="$base_paths $path"
        else other="$other $name($path)"
        fi
    done < <(awk '/=>/ {print $1, $3}' "$log" | sort -u)
    local detail="$packed from the pack, CUDA from the machine:${machine:- none}, $base glibc/libstdc++/libgcc_s"
    if [ -n "$missing" ]; then
        record "libraries resolve" FAIL "$(since "$t0")" "not found:$missing"
    elif [ -n "$other" ] && [ "$cpu_only" = 1 ]; then
        record "libraries resolve" FAIL "$(since "$t0")" "found outside the pack, missing on a bare machine:$other"
    else
        record "libraries resolve" pass "$(since "$t0")" "$detail${other:+; also from this machine:$other}"
    fi
}

# The dry run's stronger proof, where user namespaces allow it: our programs
# run in a chroot that holds only the loader, glibc, libstdc++, libgcc_s,
# the work folder (pack, data, runs) and the CUDA library folders, each at
# its own path; /proc, /sys and /dev are bound in. Nothing else of this
# machine can be loaded.
isolate() {
    [ "${ALEXNET_DEVICE_CHECK_ISOLATE:-1}" = 1 ] || { echo "   isolation off (ALEXNET_DEVICE_CHECK_ISOLATE=0)"; return; }
    if ! command -v unshare > /dev/null || ! unshare -r -m true 2> /dev/null; then
        echo "   no chroot isolation here (unshare -r -m refused): env -i only"
        return
    fi
    iso_root="$(mktemp -d "${TMPDIR:-/tmp}/device-check-root.XXXXXX")"
    mkdir -p "$iso_root/lib/x86_64-linux-gnu" "$iso_root/lib64" "$iso_root/tmp"
    local p
    for p in $base_paths; do cp -L "$p" "$iso_root/lib/x86_64-linux-gnu/"; done
    cp -L /lib64/ld-linux-x86-64.so.2 "$iso_root/lib64/" || { echo "   no /lib64/ld-linux-x86-64.so.2: env -i only"; return; }
    cat > "$work/tmp/isolate.sh" << 'EOF'
# isolate.sh ROOT DIR... -- PROGRAM ARGS: PROGRAM in a chroot at ROOT with each DIR bound at its own path.
root="$1"; shift
while [ "$1" != -- ]; do mkdir -p "$root$1" && mount --bind "$1" "$root$1" || exit 97; shift; done; shift
for d in /proc /sys /dev; do mkdir -p "$root$d" && mount --rbind "$d" "$root$d" || exit 97; done
export LD_LIBRARY_PATH="$ISOLATED_LIBRARY_PATH"
exec chroot "$root" "$@"
EOF
    local binds=("$work") d
    for d in $cuda_dirs; do binds+=("$d"); done
    launch=(env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="$work" LC_ALL=C TMPDIR="$work/tmp"
            ISOLATED_LIBRARY_PATH="$lib_path" unshare -r -m bash "$work/tmp/isolate.sh" "$iso_root" "${binds[@]}" --)
    isolated="chroot: loader, glibc, libstdc++, libgcc_s, the pack, CUDA folders"
    echo "   our programs run in $isolated"
}

# Every packed program starts (the loader finds every library) with only
# those libraries: --version, --help, or the usage message.
check_start() {
    local t0 p out bad="" ok=""
    t0="$(now)"
    for p in alexnet-train "$(basename "$eval_prog")" bench_train_gpu compare_checkpoints; do
        case "$p" in
            bench_train_gpu) out="$("${launch[@]}" "$work/bin/$p" --help 2>&1)" ;;
            compare_checkpoints) out="$("${launch[@]}" "$work/bin/$p" 2>&1)" ;;
            *) out="$("${launch[@]}" "$work/bin/$p" --version 2>&1)" ;;
        esac
        rc=$?
        echo "   $p: $(head -1 <<< "$out")"
        if [ $rc = 127 ] || [ $rc = 97 ] || grep -q 'error while loading' <<< "$out"; then bad="$bad $p"; else ok="$ok $p"; fi
    done
    if [ -n "$bad" ]; then
        record "programs start" FAIL "$(since "$t0")" "did not start:$bad"
    else
        record "programs start" pass "$(since "$t0")" "${1:-env -i}:$ok"
    fi
}

# a. The GPU tests, each at most 120 s, the section at most 200 s.
gpu_tests_step() {
    local path t log section=$SECONDS limit
    for path in $gpu_tests; do
        t="$(basename "$path")"
        log="$work/logs/$t.log"
        echo "-- $t: $(case $t in
            test_cuda_host) echo 'host side: messages, precision names, the backend refused or opened' ;;
            test_backend_check) echo 'whole training steps on the GPU through the checking backend' ;;
            *) echo 'ops and steps on the GPU against their CPU twins' ;; esac)"
        if [ ! -x "$work/bin/$t" ]; then record "test $t" FAIL 0 "not packed" gpu; continue; fi
        limit=$((200 - (SECONDS - section)))
        [ "$limit" -gt 120 ] && limit=120
        # shellcheck disable=SC2046
        timed "$log" "$limit" "${launch[@]}" "$work/bin/$t" $(test_args "$t")
        if [ $rc = 0 ]; then
            record "test $t" pass "$dt" "$(grep -E -m1 '\[  PASSED  \]' "$log")" gpu
        else
            local first=$rc first_dt=$dt again=""
            [ $rc = 77 ] || [ $rc = 125 ] || tail -15 "$log" | sed 's/^/   | /'
            [ "$cpu_only" = 1 ] || [ $rc = 77 ] || [ $rc = 125 ] || again="$(rerun_blocking "$t")"
            rc=$first
            record "test $t" FAIL "$first_dt" "$(why "$log" $first)${again:+; $again}" gpu
        fi
    done
}

# A kernel that faults shows at the next synchronize, not where it faulted
# (issue §2.8): a failed GPU test runs once more with CUDA_LAUNCH_BLOCKING=1,
# under compute-sanitizer where the machine has it, and its log says where.
# Prints a few words for the table.
rerun_blocking() {
    local t="$1" log="$work/logs/$1.blocking.log" sanitizer="" limit
    sanitizer="$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2> /dev/null | head -1)"
    limit=$(( $(left) / 3 ))
    [ "$limit" -gt 180 ] && limit=180
    # shellcheck disable=SC2046
    # launch is `env -i VAR=...` on a GPU machine (only --cpu-only isolates, and it never reruns): one more VAR
    timed "$log" "$limit" "${launch[@]}" CUDA_LAUNCH_BLOCKING=1 ${sanitizer:+"$sanitizer" --error-exitcode 9} \
        "$work/bin/$t" $(test_args "$t")
    tail -15 "$log" | sed 's/^/   B| /'
    local where
    where="$(grep -m1 -E '^========= (Invalid|Out of bounds|Program hit|Error)' "$log" | cut -c1-80)"
    echo "rerun with CUDA_LAUNCH_BLOCKING=1${sanitizer:+ under compute-sanitizer}: exit $rc${where:+, $where}"
}

# b. alexnet-train at the demo's settings.
#
# CPU against GPU over the first 5 steps. The loader hands both the same
# augmented batches and dropout draws the same masks (docs/train.md), so the
# runs differ only by float32 sums taken in other orders (cuDNN, cuBLAS);
# but at the demo's rate such differences grow from step to step. Measured
# here (AMD EPYC, 2 threads), the CPU against itself with OpenBLAS's Haswell
# kernels instead of the auto-detected ones, nothing changed but rounding:
#   max |w_a - w_b| after steps 1..5: 1.35e-6 1.5e-5 3.3e-5 1.3e-4 2.6e-4
#   (x200 from step 1 to 5; momentum alike, 1.4e-4 at step 5), and the
#   losses' relative difference: 0 3.6e-6 2.1e-5 3.4e-5 1.1e-4.
# The GPU's sums may be further off: gradients within about 4e-4 of their
# scale (16 layer passes of 2.5e-5, tests/gpu/gpu_test_util.c), so step 1's
# update (lr x gradient) may differ by 0.01 x 4e-4 x max|gradient|, 4e-6 for
# gradients up to 1 (steps 2..5 moved no weight by more than 0.031, about
# ten momentum-weighted gradients of rate 0.01: |gradient| of about 0.3);
# 3x the CPU's step-1 spread, so about 8e-4 after step 5 and losses about
# 3 x 1.1e-4 if it grows as measured. Hence (compare_checkpoints RTOL ATOL):
# - weights and momentum after step 1: |gpu - cpu| <= 1e-5 + 1e-3 |cpu|,
#   tight: a wiring error of the step or the update shows here;
# - after step 5: |gpu - cpu| <= 2e-3 + 1e-3 |cpu|, 2.5x the growth above;
# - losses of steps 1..5 (metrics.csv): |gpu - cpu| <= 1e-3 |cpu| + 1e-6
#   (tests/train/test_train_cuda.sh's bound; 6 decimals printed).
# Each run keeps a checkpoint per step (--checkpoint-steps 1).
# cuda:0 against cuda: the same GPU in deterministic cuDNN mode, so bitwise.
# The demo's first 5 steps against the 5-step cuda run: bitwise too (the
# losses printed with 6 decimals are compared as text).
train_step() {
    # Loader threads do not change the batches (docs/train.md), only how fast they come.
    local common="--data $data $demo_args --log-every 1 --checkpoint-minutes 0 --threads $ncpu
                  --loader-threads $((ncpu >= 16 ? 8 : 4))"
    local runs="$work/runs" detail five="--max-steps 5 --checkpoint-steps 1 --keep 10"
    # shellcheck disable=SC2086
    {
        echo "-- 5 steps --devices cuda"
        timed "$work/logs/train-cuda5.log" 60 "${launch[@]}" "$work/bin/alexnet-train" $common --devices cuda \
            --run "$runs/cuda5" $five
        local cuda5_rc=$rc cuda5_why=""
        [ $rc = 0 ] || cuda5_why="$(why "$work/logs/train-cuda5.log" $rc)"
        if [ $rc = 0 ]; then record "train cuda, 5 steps" pass "$dt" "$(replicas_of "$runs/cuda5")" gpu
        else record "train cuda, 5 steps" FAIL "$dt" "$(why "$work/logs/train-cuda5.log" $rc)" gpu; fi

        echo "-- 5 steps --devices cpu ($ncpu threads)"
        timed "$work/logs/train-cpu5.log" 90 "${launch[@]}" "$work/bin/alexnet-train" $common --devices cpu \
            --run "$runs/cpu5" $five
        local cpu5_rc=$rc
        if [ $rc = 0 ]; then
            record "train cpu, 5 steps" pass "$dt" "losses $(train_rows "$runs/cpu5" 5 | awk '{printf "%s ", $5}')"
        else
            record "train cpu, 5 steps" FAIL "$dt" "$(why "$work/logs/train-cpu5.log" $rc)"
        fi

        echo "-- cuda against cpu: losses of steps 1..5 (1e-3 relative), weights and momentum after step 1 (1e-3 1e-5) and 5 (1e-3 2e-3)"
        if [ $cuda5_rc != 0 ] || [ $cpu5_rc != 0 ]; then
            if [ $cuda5_rc != 0 ]; then record "train cuda = cpu (5 steps)" FAIL 0 "$(depends "$cuda5_why" "the cuda run")" gpu
            else record "train cuda = cpu (5 steps)" FAIL 0 "the cpu run failed" gpu; fi
        else
            compare_losses "$runs/cuda5" "$runs/cpu5" 5 1e-3 > "$work/logs/compare-cuda5-cpu5.log" 2>&1
            local loss_rc=$?
            local c1="$runs/cuda5/checkpoints/ckpt-0000-000000001.h5" p1="$runs/cpu5/checkpoints/ckpt-0000-000000001.h5"
            timed "$work/logs/compare-cuda5-cpu5-step1.log" 30 "${launch[@]}" "$work/bin/compare_checkpoints" \
                "$c1" "$p1" 1e-3 1e-5
            local step1_rc=$rc
            timed "$work/logs/compare-cuda5-cpu5-step5.log" 30 "${launch[@]}" "$work/bin/compare_checkpoints" \
                "$(latest "$runs/cuda5")" "$(latest "$runs/cpu5")" 1e-3 2e-3
            detail="$(head -1 "$work/logs/compare-cuda5-cpu5.log"); after step 1: $(tail -1 \
                "$work/logs/compare-cuda5-cpu5-step1.log" | sed 's/^steps [0-9 /]*; //'); after step 5: $(tail -1 \
                "$work/logs/compare-cuda5-cpu5-step5.log" | sed 's/^steps [0-9 /]*; //')"
            if [ $loss_rc = 0 ] && [ $step1_rc = 0 ] && [ $rc = 0 ]; then record "train cuda = cpu (5 steps)" pass "$dt" "$detail" gpu
            else record "train cuda = cpu (5 steps)" FAIL "$dt" "$detail" gpu; fi
        fi

        echo "-- 5 steps --devices cuda:0, bitwise against --devices cuda"
        timed "$work/logs/train-cuda0-5.log" 60 "${launch[@]}" "$work/bin/alexnet-train" $common --devices cuda:0 \
            --run "$runs/cuda0-5" --max-steps 5
        if [ $rc != 0 ]; then
            record "train cuda:0 = cuda (5 steps)" FAIL "$dt" "$(why "$work/logs/train-cuda0-5.log" $rc)" gpu
        elif [ $cuda5_rc != 0 ]; then
            record "train cuda:0 = cuda (5 steps)" FAIL "$dt" "ran, but $(depends "$cuda5_why" "the cuda run")" gpu
        else
            local t1=$dt
            compare_losses "$runs/cuda0-5" "$runs/cuda5" 5 0 > "$work/logs/compare-cuda0-cuda.log" 2>&1
            local loss_rc=$?
            timed "$work/logs/compare-cuda0-cuda-weights.log" 30 "${launch[@]}" "$work/bin/compare_checkpoints" \
                "$(latest "$runs/cuda0-5")" "$(latest "$runs/cuda5")"
            detail="$(head -1 "$work/logs/compare-cuda0-cuda.log"); $(tail -1 "$work/logs/compare-cuda0-cuda-weights.log")"
            if [ $loss_rc = 0 ] && [ $rc = 0 ]; then record "train cuda:0 = cuda (5 steps)" pass "$t1" "$detail" gpu
            else record "train cuda:0 = cuda (5 steps)" FAIL "$t1" "$detail" gpu; fi
        fi

        # NCCL sums the replicas' gradients only when one process has two or more GPU replicas.
        local replicas
        replicas="$(sed -n 's/^ *"devices": \([0-9]*\).*/\1/p' "$runs/cuda5/config.json" 2> /dev/null)"
        if [ "${replicas:-0}" -ge 2 ]; then
            record "NCCL (replicas summed)" pass 0 "reached: --devices cuda ran $replicas replicas, compared with cpu above" gpu
        elif [ "$gpus" -ge 2 ]; then
            record "NCCL (replicas summed)" FAIL 0 "$gpus GPUs but --devices cuda ran ${replicas:-no} replica(s)" gpu
        else
            record "NCCL (replicas summed)" skipped 0 "not reached: $gpus GPU, so one replica; NCCL needs >= 2 replicas (GPUs) in a process"
        fi

        echo "-- the demo: $demo_steps steps (8 epochs) --devices cuda"
        timed "$work/logs/train-demo.log" 150 "${launch[@]}" "$work/bin/alexnet-train" $common --devices cuda \
            --run "$runs/demo"
    }
    if [ $rc != 0 ]; then
        record "train cuda, demo ($demo_steps steps)" FAIL "$dt" "$(why "$work/logs/train-demo.log" $rc)" gpu
    else
        local val steps same="" ips
        val="$(awk -F, '$1 == "val" {e = $6; n = $2} END {if (n) printf "%s after epoch %s", e, n}' "$runs/demo/metrics.csv")"
        steps="$(awk -F, '$1 == "train" {s = $3} END {print s + 0}' "$runs/demo/metrics.csv")"
        ips="$(sed -n 's/.*done: .* s, \([0-9.]*\) images\/s, \([0-9.]*\)% of the time waiting.*/\1 images\/s, \2% waiting for data/p' \
            "$work/logs/train-demo.log")"
        # The first 5 steps repeat the 5-step cuda run (deterministic mode); the
        # validation error shows it learned: chance is 0.9; two CPU runs here
        # (other OpenBLAS kernels and thread counts, so other rounding) ended
        # these 8 epochs at 0.250 and 0.270: rounding moves a 376-step
        # trajectory, not how well it learns. 0.5 is a loose bound for "it learned".
        if [ -f "$runs/cuda5/metrics.csv" ] && [ "$(train_rows "$runs/demo" 5)" = "$(train_rows "$runs/cuda5" 5)" ]; then
            same="first 5 steps = the 5-step run"
        else
            same="first 5 steps DIFFER from the 5-step run"
        fi
        detail="$steps steps, val top-1 error $val, $same, $ips"
        if [ "$steps" = "$demo_steps" ] && [ "${same#*DIFFER}" = "$same" ] &&
           awk -v v="${val%% *}" 'BEGIN { exit !(v != "" && v + 0 < 0.5) }'; then
            record "train cuda, demo ($demo_steps steps)" pass "$dt" "$detail" gpu
        else
            record "train cuda, demo ($demo_steps steps)" FAIL "$dt" "$detail" gpu
        fi
    fi
}

# How many replicas and which device a run's config.json names.
replicas_of() {
    sed -n -e 's/^ *"devices": \([0-9]*\).*/\1 replica(s)/p' -e 's/^ *"device_description": "\(.*\)".*/\1/p' \
        "$1/config.json" 2> /dev/null | tr '\n' ' '
}

# compare_losses A B N RTOL: the train rows 1..N of A's and B's metrics.csv
# name the same steps and their losses agree within RTOL |b| + 1e-6 (RTOL 0:
# the same text). Prints one line; exit 0 when they agree.
compare_losses() {
    local a="$1" b="$2" n="$3" rtol="$4"
    paste -d' ' <(train_rows "$a" "$n") <(train_rows "$b" "$n") | awk -v n="$n" -v r="$rtol" '
        { rows++
          if ($1 $2 $3 $4 != $6 $7 $8 $9) { bad = 1; why = why " step " $3 ": rows differ" }
          d = $5 - $10; if (d < 0) d = -d; m = $10 < 0 ? -$10 : $10
          if (r == 0 ? $5 != $10 : !(d <= r * m + 1e-6)) { bad = 1; why = why " step " $3 ": " $5 " vs " $10 }
          if (d > maxd) maxd = d }
        END { if (rows != n) { bad = 1; why = why " " rows " rows of " n }
              printf "losses of %d steps: max |diff| %g%s\n", rows, maxd, bad ? ";" why : (r == 0 ? " (identical)" : " (within " r " relative)")
              exit bad }'
}

# c. alexnet-eval on the demo's checkpoint, on the GPU and on the CPU.
#
# Criterion: the ten-crop and centre-crop top-1 and top-5 counts of
# --device cuda equal those of --device cpu, up to near-ties. The two
# forward passes differ by float32 rounding (logits within 1e-3 of their
# scale at worst, tests/eval/test_eval_cuda.c), so a count can move only for
# an image whose competing classes' averaged probabilities are that close.
# report.json has no per-image scores to count such images, so a difference
# of at most ceil(images / 500) (2 in 1000) is accepted and printed as
# near-ties; more is a failure. Equal counts are what is expected.
eval_step() {
    local ckpt note="" runs="$work/runs"
    ckpt="$runs/demo/checkpoints/best.h5"
    if [ ! -f "$ckpt" ]; then
        ckpt="$(latest "$runs/cpu5")"
        note="the demo's GPU checkpoint is missing: scoring the CPU 5-step checkpoint"
        [ -n "$ckpt" ] || { record "eval cuda" FAIL 0 "no checkpoint to score" gpu
                            record "eval cpu" FAIL 0 "no checkpoint to score"
                            record "eval cuda = cpu" FAIL 0 "no checkpoint to score" gpu; return; }
        echo "   ($note)"
    fi
    local common="--data $data --checkpoint $ckpt --batch 32 --threads $ncpu"
    local d rc_cuda=1 rc_cpu=1 why_cuda=""
    for d in cuda cpu; do
        echo "-- ten-crop scores of $data_val validation images, --device $d"
        # shellcheck disable=SC2086
        timed "$work/logs/eval-$d.log" 120 "${launch[@]}" "$eval_prog" $common --device "$d" --out "$runs/eval-$d"
        if [ $rc = 0 ]; then
            record "eval $d" pass "$dt" "$(report_counts "$runs/eval-$d/report.json")" ${d%cpu}
        else
            record "eval $d" FAIL "$dt" "$(why "$work/logs/eval-$d.log" $rc)" ${d%cpu}
        fi
        if [ "$d" = cuda ]; then
            rc_cuda=$rc
            [ $rc = 0 ] || why_cuda="$(why "$work/logs/eval-$d.log" $rc)"
        else
            rc_cpu=$rc
        fi
    done
    if [ $rc_cuda != 0 ] || [ $rc_cpu != 0 ]; then
        if [ $rc_cuda != 0 ]; then record "eval cuda = cpu" FAIL 0 "$(depends "$why_cuda" "the cuda scoring")" gpu
        else record "eval cuda = cpu" FAIL 0 "the cpu scoring failed" gpu; fi
        return
    fi
    local out same
    out="$(python3 - "$runs/eval-cuda/report.json" "$runs/eval-cpu/report.json" << 'PY'
import json, math, sys
g, c = (json.load(open(p)) for p in sys.argv[1:3])
n = c["images"]
allowed = math.ceil(n / 500)
bad, notes = [], []
if g["images"] != n or g["device"] != "cuda" or c["device"] != "cpu":
    bad.append(f"images {g['images']} vs {n}, devices {g['device']} / {c['device']}")
for s in ("ten_crop", "centre_crop"):
    for k in ("top1_correct", "top5_correct"):
        d = abs(g[s][k] - c[s][k])
        if d > allowed:
            bad.append(f"{s} {k} {g[s][k]} vs {c[s][k]}")
        elif d:
            notes.append(f"{s} {k} {g[s][k]} vs {c[s][k]} (near-ties, <= {allowed} allowed)")
t = g["ten_crop"]
print(f"{n} images: ten-crop top-1 {t['top1_correct']}, top-5 {t['top5_correct']} correct on both"
      if not bad and not notes else "; ".join(bad + notes))
sys.exit(1 if bad else 0)
PY
)"
    same=$?
    if [ $same = 0 ]; then record "eval cuda = cpu" pass 0 "$out${note:+; $note}" gpu
    else record "eval cuda = cpu" FAIL 0 "$out" gpu; fi
}

report_counts() {
    python3 - "$1" << 'PY' 2> /dev/null
import json, sys
r = json.load(open(sys.argv[1]))
t, c = r["ten_crop"], r["centre_crop"]
print(f"{r['images']} images: ten-crop top-1 {t['top1_correct']} / top-5 {t['top5_correct']} correct, "
      f"centre top-1 {c['top1_correct']}; {r['images_per_second']:.0f} images/s")
PY
}

# d. bench_train_gpu beside PyTorch, and alexnet-train end to end.
bench_step() {
    echo "-- bench_train_gpu: paper width, batch $bench_batches, fp32/tf32/bf16, synthetic batches uploaded every step"
    timed "$work/logs/bench_ours.log" 100 "${launch[@]}" "$work/bin/bench_train_gpu" --steps 20 --warmup 5 \
        --batches "$bench_batches"
    if [ $rc = 0 ]; then record "bench_train_gpu" pass "$dt" "$(grep -c '^ours ' "$work/logs/bench_ours.log") configurations" gpu
    else record "bench_train_gpu" FAIL "$dt" "$(why "$work/logs/bench_ours.log" $rc)" gpu; fi

    # End to end: the real program from the JPEG shards on disk (decoded,
    # cropped, lit and uploaded by the loader), paper width, batch 128, two
    # epochs of 24 steps; fp32, deterministic cuDNN, as bench_train_gpu's
    # fp32 row. Rate 0.001: only the speed matters, and it keeps the paper
    # network away from divergence on this small set. 10 classes instead of
    # 1000: fc8 is 0.04 M instead of 4.1 M of the 61 M weights.
    local lt=$((ncpu > 4 ? ncpu - 2 : 2))
    echo "-- alexnet-train end to end: paper width, batch 128, 2 epochs, $lt loader threads"
    timed "$work/logs/train-e2e.log" 100 "${launch[@]}" "$work/bin/alexnet-train" --data "$data" \
        --run "$work/runs/e2e" --devices cuda --width 1.0 --batch 128 --epochs 2 --lr 0.001 --val-limit 256 \
        --log-every 4 --checkpoint-minutes 0 --threads "$ncpu" --loader-threads "$lt"
    e2e_rate="$(awk -F, '$1 == "train" {n++; if (n > 1) r[++k] = $8} END {
        if (k) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
                 printf "%.1f", k % 2 ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2 } }' "$work/runs/e2e/metrics.csv" 2> /dev/null)"
    e2e_whole="$(sed -n 's/.*done: .* s, \([0-9.]*\) images\/s, \([0-9.]*\)% of the time waiting.*/\1 images\/s, \2% of the time waiting for data/p' \
        "$work/logs/train-e2e.log")"
    e2e_threads=$lt
    if [ $rc = 0 ] && [ -n "$e2e_rate" ]; then
        record "train end to end (width 1.0)" pass "$dt" "median window $e2e_rate images/s; whole run $e2e_whole" gpu
    else
        record "train end to end (width 1.0)" FAIL "$dt" "$(why "$work/logs/train-e2e.log" $rc)" gpu
    fi

    echo "-- bench_torch.py: PyTorch eager fp32/tf32/bf16 (autocast + channels_last), torch.compile of bf16"
    # PyTorch runs with the machine's own environment, not ours.
    timed "$work/logs/bench_torch.log" 200 env PYTHONUNBUFFERED=1 python3 "$work/bin/bench_torch.py" --steps 20 \
        --warmup 5 --batches "$bench_batches" --precisions fp32,tf32,bf16 --compile "bf16:$bench_batches"
    if [ $rc = 0 ] && ! grep -q 'error=' "$work/logs/bench_torch.log"; then
        record "bench_torch.py" pass "$dt" "$(sed -n 's/^torch version=\([^ ]*\).*/torch \1/p' "$work/logs/bench_torch.log")" gpu
    elif [ $rc = 0 ]; then
        record "bench_torch.py" FAIL "$dt" "$(grep -m1 'error=' "$work/logs/bench_torch.log")" gpu
    else
        record "bench_torch.py" FAIL "$dt" "$(why "$work/logs/bench_torch.log" $rc)" gpu
    fi
}

# key=value from a bench line.
kv() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" <<< " $2" | head -1; }

summary() {
    local total="$1" row name result secs detail n_pass=0 n_fail=0 n_expected=0 n_skip=0
    printf '%-34s %-8s %7s  %s\n' check result time detail
    for row in "${rows[@]}"; do
        IFS='|' read -r name result secs detail <<< "$row"
        printf '%-34s %-8s %6ss  %s\n' "$name" "$result" "$secs" "$detail" | sed "s|$work/|W/|g"
        case "$result" in
            pass) n_pass=$((n_pass + 1)) ;;
            FAIL\*) n_expected=$((n_expected + 1)) ;;
            FAIL) n_fail=$((n_fail + 1)) ;;
            skipped) n_skip=$((n_skip + 1)) ;;
        esac
    done
    echo
    echo "benchmark: images/s at batch $bench_batches, paper width (ours: bench_train_gpu, deterministic cuDNN,"
    echo "host batches uploaded every step; torch: bench_torch.py, bf16 = autocast + channels_last; our bf16 is"
    echo "bf16 only inside the FC GEMMs, docs/cuda.md)"
    printf '%-5s %-26s %11s %11s %10s %13s %12s %9s %9s %9s\n' prec ours_computes ours torch_eager ours/eager torch_compile \
        ours/compile frac_peak ours_MiB torch_MiB
    local line prec computes ours frac mib eager compile tmib ratio_e ratio_c fp32_ours="" any=""
    while read -r line; do
        any=1
        prec="$(kv precision "$line")"
        computes="$(kv computes "$line")"
        ours="$(kv images_per_s "$line")"
        frac="$(kv fraction_of_peak "$line")"
        mib="$(kv peak_mib "$line")"
        [ "$prec" = fp32 ] && fp32_ours="$ours"
        line="$(grep "mode=eager precision=$prec batch=$bench_batches " "$work/logs/bench_torch.log" 2> /dev/null)"
        eager="$(kv images_per_s "$line")"
        tmib="$(kv peak_mib "$line")"
        compile="$(kv images_per_s "$(grep "mode=compile precision=$prec batch=$bench_batches " "$work/logs/bench_torch.log" 2> /dev/null)")"
        ratio_e="$(awk -v a="$ours" -v b="${eager:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
        ratio_c="$(awk -v a="$ours" -v b="${compile:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
        printf '%-5s %-26s %11s %11s %10s %13s %12s %9s %9s %9s\n' "$prec" "${computes:--}" "$ours" "${eager:--}" "$ratio_e" "${compile:--}" \
            "$ratio_c" "${frac:--}" "${mib:--}" "${tmib:--}"
    done < <(grep "^ours .*batch=$bench_batches " "$work/logs/bench_ours.log" 2> /dev/null)
    [ -n "$any" ] || echo "(no bench_train_gpu rows)"
    if [ -n "${e2e_rate:-}" ] && [ -n "$fp32_ours" ]; then
        echo "end to end: alexnet-train --devices cuda, paper width, batch 128, JPEG shards on disk, $e2e_threads loader"
        echo "  threads: $e2e_rate images/s (median of the metrics.csv windows after the first) = $(awk -v a="$e2e_rate" \
            -v b="$fp32_ours" 'BEGIN { printf "%.2f", a / b }') x bench_train_gpu fp32 ($fp32_ours images/s, synthetic)"
        echo "  whole run (validation and checkpoints included): $e2e_whole"
    else
        echo "end to end: not measured (alexnet-train e2e ${e2e_rate:+ran}${e2e_rate:-failed}, bench_train_gpu fp32 ${fp32_ours:-missing})"
    fi
    echo
    echo "$n_pass passed, $n_fail failed, $n_skip skipped$([ "$cpu_only" = 1 ] &&
        echo ", $n_expected GPU checks failed for want of a GPU as expected here (FAIL*)"); $total s"
    if [ "$cpu_only" = 1 ]; then
        echo "CPU-only dry run: nothing on a GPU was run or verified."
        [ $n_fail = 0 ]
    else
        [ $n_fail = 0 ]
    fi
}

# Logs, metrics, configs and reports (no checkpoints, no data) into $OUT when the device tool set it.
save_logs() {
    local dest="${OUT:-}"
    if [ -z "$dest" ] || [ ! -d "$dest" ]; then
        echo "logs: $work/logs, runs: $work/runs"
        return
    fi
    (cd "$work" && find logs runs -name '*.log' -o -name '*.txt' -o -name metrics.csv -o -name config.json \
        -o -name report.json -o -name log | tar -czf "$dest/device-check-logs.tar.gz" -T -) &&
        echo "logs: \$OUT/device-check-logs.tar.gz"
    cp "$work/logs/table.txt" "$dest/device-check-table.txt" 2> /dev/null
}

case "${1:-run}" in
    pack) shift; pack "$@" ;;
    run) shift || true; run "$@" ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
    *) die "unknown command '$1' (pack or run)" ;;
esac
