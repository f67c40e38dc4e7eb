#!/usr/bin/env bash
# run-tests.sh: the whole test suite, as CI runs it.
#
# Builds three configurations side by side and tests each:
#   build-tests/cpu   CPU-only, warnings as errors: every test.
#   build-tests/cuda  the CUDA backend compiled and linked (when nvcc and cuDNN are
#               found): every test but the two that run no backend code (the HDF5
#               mutation regression, the Slurm cluster); the `gpu` tests exit 77 without a device
#               and CTest reports them skipped.
#   build-tests/asan  CPU-only under AddressSanitizer + UndefinedBehaviorSanitizer:
#               the unit tests once more.
#   build-tests/fuzz  clang with libFuzzer, ASan and UBSan (when clang is installed):
#               each fuzz target of tests/fuzz over its seed corpus and a fixed
#               number of mutated inputs; skipped with a message without clang.
# Options: --quick (only build-tests/cpu), --jobs N. Exit status: 0 when all passed.
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
  local dir="build-tests/$name"
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

mkdir -p build-tests
run_config cpu -- -DALEXNET_CUDA=OFF
if [ $quick -eq 0 ]; then
  # The HDF5 mutation regression and the Slurm cluster run no backend code:
  # the cpu configuration runs them, the cuda one does not run them again.
  run_config cuda -E '^(test_h5_mutants|test_slurm)$' -- -DALEXNET_CUDA=AUTO
  run_config asan -L unit -- -DALEXNET_CUDA=OFF -DALEXNET_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  if command -v clang >/dev/null 2>&1; then
    echo "=== [fuzz] configure and build ==="
    if ! CC=clang cmake -S . -B build-tests/fuzz -DALEXNET_CUDA=OFF -DALEXNET_FUZZ=ON \
           -DCMAKE_BUILD_TYPE=RelWithDebInfo >build-tests/fuzz.configure.log 2>&1; then
      cat build-tests/fuzz.configure.log; summary+=("fuzz: configure FAILED"); failed=1
    elif ! cmake --build build-tests/fuzz -j "$jobs" --target fuzz_targets >build-tests/fuzz.build.log 2>&1; then
      grep -E -B2 -A8 'error' build-tests/fuzz.build.log | head -n 200; summary+=("fuzz: build FAILED"); failed=1
    else
      echo "=== [fuzz] test ==="
      out=$(ctest --test-dir build-tests/fuzz --output-on-failure -j "$jobs" -L fuzz 2>&1)
      rc=$?
      echo "$out"
      summary+=("fuzz: $(echo "$out" | grep -E 'tests passed' | tail -n 1)")
      [ $rc -eq 0 ] || failed=1
    fi
  else
    summary+=("fuzz: SKIPPED (clang not installed: scripts/install-deps.sh installs it)")
  fi
fi

echo "=== summary ==="
printf '%s\n' "${summary[@]}"
exit $failed
