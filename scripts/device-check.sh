#!/usr/bin/env bash
# device-check.sh: verify the CUDA backend on a lent GPU machine (H100/H200,
# CUDA 13, cuDNN possibly only in Python's `nvidia` packages, no apt, no
# network, no HDF5/libvips/cmocka headers) in one command, in under 8 minutes.
#
# Two steps, because that machine cannot build the project:
#   here (the build machine), after building with -DALEXNET_CUDA=ON:
#       scripts/device-check.sh pack [BUILD_DIR]      -> build-device/
#     copies the GPU test binaries (tests/gpu, and tests/net's
#     test_backend_check, run with --cuda), bench_train_gpu and the shared
#     libraries they need that a bare GPU machine lacks (cmocka, OpenBLAS,
#     libgomp, libgfortran, libquadmath, the CUDA runtime; HDF5 and its
#     dependencies for test_backend_check, which writes a checkpoint). cuDNN
#     and cuBLAS are NOT packed (hundreds of MB): they are found on the GPU
#     machine. The programs alexnet-train and alexnet-eval are not packed
#     (test_train_cuda.sh and test_eval_cuda run from a full build).
#   there, in a copy of the repository with build-device/ carried along:
#       scripts/device-check.sh run [PACK_DIR]
#     finds cuDNN and cuBLAS (see find_cuda_libs), runs every packed test
#     (exit 77 = skipped counts as a failure there: a device is expected),
#     bench_train_gpu and bench/gpu/bench_torch.py at batch 128, and prints
#     a short table.
# Exit status of `run`: 0 when every test passed, 1 otherwise.
set -u -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pack_default="$here/build-device"
# Each test as <folder under tests/>/<binary>; test_args gives its arguments.
gpu_tests="gpu/test_cuda_host gpu/test_stream_cuda gpu/test_ops_cuda gpu/test_crop_cuda gpu/test_net_cuda
           net/test_backend_check gpu/test_nccl_cuda"
bench_batches=128

test_args() {
    case "$1" in
        test_backend_check) echo --cuda ;; # the whole network through the checking backend, on the GPU
    esac
}

die() { echo "device-check: $*" >&2; exit 2; }

# ---------------------------------------------------------------- pack (build machine)
pack() {
    local build="${1:-$here/build}" out="$pack_default"
    [ -x "$build/tests/gpu/test_ops_cuda" ] ||
        die "no GPU tests in $build (configure with -DALEXNET_CUDA=ON and build first)"
    rm -rf "$out"
    mkdir -p "$out/bin" "$out/lib"
    local bins=() t
    for t in $gpu_tests; do
        if [ -x "$build/tests/$t" ]; then bins+=("$build/tests/$t"); else echo "device-check: no $t in $build, not packed" >&2; fi
    done
    [ -x "$build/bench/gpu/bench_train_gpu" ] && bins+=("$build/bench/gpu/bench_train_gpu")
    cp "${bins[@]}" "$out/bin/"
    strip --strip-debug "$out"/bin/* 2>/dev/null || true
    # Libraries a bare GPU machine may lack; glibc, libstdc++ and libgcc_s are
    # everywhere, cuDNN/cuBLAS/NCCL are found there (too large to carry).
    local lib name
    for lib in $(ldd "${bins[@]}" 2>/dev/null | awk '/=>/ {print $3}' | sort -u); do
        name="$(basename "$lib")"
        case "$name" in
            libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libresolv.so*|libutil.so*|ld-linux*|libstdc++*|libgcc_s*) ;;
            libcublas*|libcudnn*|libnccl*|libcuda.so*) ;;
            *) cp -L "$lib" "$out/lib/$name" ;;
        esac
    done
    cp "$here/bench/gpu/bench_torch.py" "$out/bin/"
    # Compressed (OpenBLAS alone is 36 MB): the pack stays well under what a
    # device run carries; `run` unpacks it.
    tar -C "$out" -czf "$out/lib.tar.gz" lib && rm -rf "$out/lib"
    {
        echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git -C "$here" rev-parse --short HEAD 2>/dev/null)"
        echo "binaries need glibc >= $(objdump -T "${bins[@]}" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
    } > "$out/PACKED"
    du -sh "$out"
    ls "$out/bin"
    tar -tzf "$out/lib.tar.gz" | sed -n 's|^lib/\(.\)|\1|p' | tr '\n' ' '
    echo
}

# ---------------------------------------------------------------- run (GPU machine)

# Prints the directory holding $1 (a soname), searched in: Python's `nvidia`
# packages (nvidia/cudnn/lib, nvidia/cublas/lib, nvidia/cu13/lib, ...), the
# CUDA toolkit, then the loader cache. Nothing when not found.
find_lib_dir() {
    local soname="$1" d
    for d in $nvidia_dirs /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib \
             /usr/lib/x86_64-linux-gnu; do
        if [ -e "$d/$soname" ]; then echo "$d"; return; fi
    done
    ldconfig -p 2>/dev/null | awk -v s="$soname" '$1 == s {print $NF; exit}' | xargs -r dirname
}

find_cuda_libs() {
    nvidia_dirs=""
    local py
    for py in python3 python; do
        command -v "$py" >/dev/null || continue
        # `nvidia` is a namespace package: every wheel (cudnn, cublas, cu13, nccl) adds a lib/ under it.
        nvidia_dirs="$("$py" - <<'PY' 2>/dev/null
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
    lib_path="$pack/lib"
    local soname dir
    for soname in libcudnn.so.9 libcublas.so.13 libcublasLt.so.13 libcudart.so.13 libnccl.so.2; do
        dir="$(find_lib_dir "$soname")"
        printf '  %-20s %s\n' "$soname" "${dir:-NOT FOUND}"
        [ -n "$dir" ] && case ":$lib_path:" in *":$dir:"*) ;; *) lib_path="$lib_path:$dir" ;; esac
    done
    # cuDNN 9 loads its engine libraries (libcudnn_cnn, _ops, ...) from its own directory.
    export LD_LIBRARY_PATH="$lib_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

run() {
    pack="${1:-$pack_default}"
    [ -d "$pack/bin" ] || die "no $pack/bin: run 'scripts/device-check.sh pack' on the build machine and carry build-device/"
    if [ ! -d "$pack/lib" ]; then
        [ -f "$pack/lib.tar.gz" ] || die "no $pack/lib.tar.gz: pack again"
        tar -C "$pack" -xzf "$pack/lib.tar.gz" || die "cannot unpack $pack/lib.tar.gz"
    fi
    local start=$SECONDS
    echo "== device"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -4
    cat "$pack/PACKED" 2>/dev/null
    echo "== libraries"
    find_cuda_libs

    echo "== gpu tests"
    local results=() failed=0 path t rc t0
    for path in $gpu_tests; do
        t="$(basename "$path")"
        if [ ! -x "$pack/bin/$t" ]; then results+=("$t|not packed|-"); failed=1; continue; fi
        t0=$SECONDS
        # shellcheck disable=SC2046
        timeout 240 "$pack/bin/$t" $(test_args "$t") > "$pack/$t.log" 2>&1
        rc=$?
        case $rc in
            0) results+=("$t|passed|$((SECONDS - t0))s") ;;
            77) results+=("$t|SKIPPED (no device seen)|$((SECONDS - t0))s"); failed=1 ;;
            124) results+=("$t|TIMEOUT|$((SECONDS - t0))s"); failed=1 ;;
            *) results+=("$t|FAILED rc=$rc|$((SECONDS - t0))s"); failed=1 ;;
        esac
        [ $rc -ne 0 ] && tail -25 "$pack/$t.log"
    done

    echo "== bench (ours)"
    timeout 150 "$pack/bin/bench_train_gpu" --steps 20 --warmup 5 --batches "$bench_batches" 2>&1 |
        tee "$pack/bench_ours.log"
    echo "== bench (PyTorch)"
    # PyTorch gets the machine's own library path, not ours.
    env LD_LIBRARY_PATH= timeout 240 python3 "$pack/bin/bench_torch.py" --steps 20 --warmup 5 \
        --batches "$bench_batches" 2>&1 |
        grep -v Warning | tee "$pack/bench_torch.log"

    echo "== summary"
    printf '%-22s %-26s %s\n' test result time
    for t in "${results[@]}"; do IFS='|' read -r a b c <<< "$t"; printf '%-22s %-26s %s\n' "$a" "$b" "$c"; done
    echo
    printf '%-6s %-6s %12s %12s %12s %10s %10s\n' prec batch ours_img/s torch_eager ratio frac_peak peak_MiB
    local line prec batch ours frac mib torch ratio
    while read -r line; do
        prec="$(sed -n 's/.*precision=\([^ ]*\).*/\1/p' <<< "$line")"
        batch="$(sed -n 's/.*batch=\([^ ]*\).*/\1/p' <<< "$line")"
        ours="$(sed -n 's/.*images_per_s=\([^ ]*\).*/\1/p' <<< "$line")"
        frac="$(sed -n 's/.*fraction_of_peak=\([^ ]*\).*/\1/p' <<< "$line")"
        mib="$(sed -n 's/.*peak_mib=\([^ ]*\).*/\1/p' <<< "$line")"
        torch="$(grep "mode=eager precision=$prec batch=$batch " "$pack/bench_torch.log" 2>/dev/null |
                 sed -n 's/.*images_per_s=\([^ ]*\).*/\1/p')"
        ratio="$(awk -v a="$ours" -v b="${torch:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
        printf '%-6s %-6s %12s %12s %12s %10s %10s\n' "$prec" "$batch" "$ours" "${torch:--}" "$ratio" "$frac" "$mib"
    done < <(grep '^ours ' "$pack/bench_ours.log" 2>/dev/null)
    grep 'mode=compile' "$pack/bench_torch.log" 2>/dev/null
    echo "device-check: $((SECONDS - start)) s"
    return $failed
}

case "${1:-run}" in
    pack) shift; pack "$@" ;;
    run) shift || true; run "$@" ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (pack or run)" ;;
esac
