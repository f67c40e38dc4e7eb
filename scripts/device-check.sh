#!/usr/bin/env bash
# device-check.sh: prepares here the device check of a GPU machine that cannot
# build the project (docs/cuda.md, "The device check"):
#   scripts/device-check.sh [--build DIR] [--out DIR] [--images TRAIN,VAL] [--ctest FILE] [--no-archive]
# 1. builds build-device-check/ (CUDA on; no libvips in alexnet-eval, no MPI),
#    unless --build names a built CUDA build;
# 2. installs it into OUT/alexnet-device (default OUT: build-device/): the
#    programs, then the component device-check (the tests labelled gpu with
#    their CTestTestfile.cmake, bench/gpu, device-check-run.sh);
# 3. adds a ctest (--ctest FILE, else PyPI's cmake wheel's: glibc 2.17, no
#    library of its own) and bundles into lib/ every library the installed
#    binaries load (ldd), with RUNPATH $ORIGIN, but glibc's, libstdc++,
#    libgcc_s, the driver, cuDNN, cuBLAS and NCCL, which the machine brings;
# 4. makes the dataset share/alexnet/device-check/fmnist with alexnet-prep
#    (Fashion-MNIST, TRAIN and VAL images, default 3000,1000, as JPEG);
# 5. packs OUT/alexnet-device.tar.xz and OUT/BUNDLE, unless --no-archive.
# There: unpack, then alexnet-device/libexec/alexnet/device-check-run.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "device-check: $*" >&2; exit 2; }
say() { echo "device-check: $*"; }

build="" out="$here/build-device" images="3000,1000" archive=1 ctest_bin=""
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build="$2"; shift ;;
        --out) out="$2"; shift ;;
        --images) images="$2"; shift ;;
        --ctest) ctest_bin="$2"; shift ;;
        --no-archive) archive=0 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (--build DIR, --out DIR, --images TRAIN,VAL, --no-archive)" ;;
    esac
    shift
done
fmnist="${ALEXNET_FMNIST:-/usr/share/datasets/fashion-mnist}"
[ -f "$fmnist/train-images-idx3-ubyte.gz" ] ||
    die "no Fashion-MNIST in $fmnist (apt-get install dataset-fashion-mnist, or set ALEXNET_FMNIST)"
command -v patchelf > /dev/null || die "patchelf is needed (scripts/install-deps.sh installs it)"
jobs="$(nproc 2> /dev/null || echo 2)"

if [ -z "$build" ]; then
    build="$here/build-device-check"
    say "building $build (CUDA on, alexnet-eval without libvips)"
    cmake -S "$here" -B "$build" -DALEXNET_CUDA=ON -DALEXNET_EVAL_FIGURES=OFF -DALEXNET_EVAL_CLASSIFY=OFF \
        -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON > /dev/null
    cmake --build "$build" -j"$jobs" > "$build/build.log" 2>&1 || die "build failed: see $build/build.log"
fi
build="$(cd "$build" && pwd)" || die "no build directory $build"
[ -x "$build/bench/gpu/bench_train_gpu" ] || die "$build is not a built CUDA build (-DALEXNET_CUDA=ON, then build it)"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
prefix="$out/alexnet-device"
rm -rf "$prefix" "$out/alexnet-device.tar.xz" "$out/BUNDLE"
say "installing $build into $prefix"
cmake --install "$build" --prefix "$prefix" > /dev/null
cmake --install "$build" --prefix "$prefix" --component device-check > /dev/null
rm -f "$prefix/bin/alexnet-prep" # the dataset is made here; libvips's closure would not travel
if [ -z "$ctest_bin" ]; then
    ctest_bin="$build/portable-ctest/ctest"
    [ -x "$ctest_bin" ] || { mkdir -p "$build/portable-ctest" &&
        python3 -m pip download cmake --no-deps --only-binary=:all: -d "$build/portable-ctest" -q &&
        python3 -c 'import glob, shutil, sys, zipfile
z = zipfile.ZipFile(glob.glob(sys.argv[1] + "/cmake-*.whl")[0])
shutil.copyfileobj(z.open("cmake/data/bin/ctest"), open(sys.argv[1] + "/ctest", "wb"))' "$build/portable-ctest" &&
        chmod +x "$ctest_bin"; } || ctest_bin="$(command -v ctest)"
fi
say "ctest: $ctest_bin"
cp "$ctest_bin" "$prefix/libexec/alexnet/ctest"
patchelf --set-rpath '$ORIGIN/../../lib' "$prefix/libexec/alexnet/ctest"

# Libraries every machine has, and those the GPU machine brings (its driver,
# Python's nvidia packages or its CUDA toolkit): never bundled.
not_bundled='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libresolv|libutil|libstdc\+\+|libgcc_s|libcuda|libcudnn[a-z_]*|libcublas|libcublasLt|libnccl)\.so'
say "bundling libraries (ldd of every installed binary)"
mkdir -p "$prefix/lib"
mapfile -t elves < <(find "$prefix/bin" "$prefix/libexec" -type f -perm -u+x -exec sh -c \
    'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
declare -A bundled=()
queue=("${elves[@]}")
while [ ${#queue[@]} -gt 0 ]; do # the closure: a bundled library's own libraries too
    next=()
    while read -r name arrow path _; do
        [ "$arrow" = "=>" ] || continue
        [[ "$name" =~ $not_bundled ]] && continue
        [ -n "${bundled[$name]:-}" ] && continue
        [ "$path" != not ] || die "ldd finds no $name here"
        cp -L "$path" "$prefix/lib/$name"
        chmod u+w "$prefix/lib/$name"
        patchelf --set-rpath '$ORIGIN' "$prefix/lib/$name"
        bundled[$name]=1
        next+=("$prefix/lib/$name")
    done < <(ldd "${queue[@]}" 2> /dev/null | sort -u)
    queue=("${next[@]+"${next[@]}"}")
done
say "${#bundled[@]} libraries bundled: $(cd "$prefix/lib" && ls | tr '\n' ' ')"

data="$prefix/share/alexnet/device-check/fmnist"
say "dataset: alexnet-prep --source idx, ${images%,*} training and ${images#*,} validation images, JPEG"
[ -x "$build/prep/alexnet-prep" ] || die "no $build/prep/alexnet-prep (it needs libvips)"
"$build/prep/alexnet-prep" --source idx --input "$fmnist" --train-limit "${images%,*}" --val-limit "${images#*,}" \
    --resize crop --shard-size 1024 --seed 1 --store jpeg --jpeg-quality 75 --output "$data" --jobs "$jobs" --quiet ||
    die "alexnet-prep failed"
"$build/prep/alexnet-prep" verify "$data" > /dev/null || die "alexnet-prep verify $data failed"

{
    echo "alexnet-device: $(git -C "$here" rev-parse --short HEAD 2> /dev/null)$(git -C "$here" diff --quiet HEAD \
        2> /dev/null || echo ' with uncommitted changes') built in $build, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "needs glibc >= $(objdump -T "${elves[@]}" "$prefix"/lib/* 2> /dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV |
        tail -1 | sed 's/GLIBC_//'), a driver for CUDA $(sed -n 's/^set(CMAKE_CUDA_COMPILER_VERSION "\([0-9]*\.[0-9]*\).*/\1/p' \
        "$build"/CMakeFiles/*/CMakeCUDACompiler.cmake 2> /dev/null | head -1), and from the machine: $(ldd "${elves[@]}" 2> /dev/null |
        awk '{print $1}' | grep -E '^lib(cudnn|cublas|nccl)' | sort -u | tr '\n' ' ')"
    echo "unpacked: $(du -sh "$prefix" | cut -f1) (lib $(du -sh "$prefix/lib" | cut -f1), data $(du -sh "$data" | cut -f1))"
} > "$out/BUNDLE"
cp "$out/BUNDLE" "$prefix/BUNDLE"
if [ "$archive" = 1 ]; then
    say "packing (xz, $jobs threads)"
    tar -C "$out" -cf - alexnet-device | xz -T"$jobs" -6 > "$out/alexnet-device.tar.xz"
    echo "sha256 $(sha256sum "$out/alexnet-device.tar.xz" | cut -d' ' -f1)" >> "$out/BUNDLE"
    rm -rf "$prefix"
fi
cat "$out/BUNDLE"
say "ready: $out ($(du -sh "$out" | cut -f1))"
