#!/usr/bin/env bash
# run-tests.sh: the whole test suite, as CI runs it.
#
# Builds three configurations side by side and tests each:
#   build/cpu   CPU-only, warnings as errors: every test.
#   build/cuda  the CUDA backend compiled and linked (when nvcc and cuDNN are
#               found): every test; the `gpu` tests exit 77 without a device
#               and CTest reports them skipped.
#   build/asan  CPU-only under AddressSanitizer + UndefinedBehaviorSanitizer:
#               the unit tests once more.
# Options: --quick (only build/cpu), --jobs N. Exit status: 0 when all passed.
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --jobs) shift; jobs="$1" ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run-tests.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

failed=0
summary=()

# configure_build_test NAME CTEST_ARGS... -- CMAKE_ARGS...
run_config() {
  local name="$1"; shift
  local ctest_args=() cmake_args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do ctest_args+=("$1"); shift; done
  shift
  cmake_args=("$@")
  local dir="build/$name"
  echo "=== [$name] configure and build ==="
  if ! cmake -S . -B "$dir" -DALEXNET_WERROR=ON "${cmake_args[@]}" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"; summary+=("$name: configure FAILED"); failed=1; return
  fi
  if ! cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1; then
    grep -E -B2 -A8 'error|Error' "$dir.build.log" | head -n 200; summary+=("$name: build FAILED"); failed=1; return
  fi
  echo "=== [$name] test ==="
  local out
  out=$(ctest --test-dir "$dir" --output-on-failure -j "$jobs" "${ctest_args[@]}" 2>&1)
  local rc=$?
  echo "$out"
  summary+=("$name: $(echo "$out" | grep -E 'tests passed' | tail -n 1)")
  [ $rc -eq 0 ] || failed=1
}

mkdir -p build
run_config cpu -- -DALEXNET_CUDA=OFF
if [ $quick -eq 0 ]; then
  run_config cuda -- -DALEXNET_CUDA=AUTO
  run_config asan -L unit -- -DALEXNET_CUDA=OFF -DALEXNET_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi

echo "=== summary ==="
printf '%s\n' "${summary[@]}"
exit $failed
