#!/bin/sh
# The device check's plumbing, on a machine without a GPU: the prepare half
# (scripts/device-check.sh: install, bundle, dataset) and then the run half
# from the prefix it made (device-check-run.sh), with LD_LIBRARY_PATH unset,
# so that the bundled libraries must be found through RUNPATH. It must exit
# 0 with its table: the libraries resolve inside the prefix, ctest runs every
# installed test from there (each skipped, exit 77, but test_cuda_host, which
# runs everywhere), and every program and benchmark row says "skipped: no
# GPU". Then once more with two libraries removed from the prefix: the
# library check must fail and the run exit 1.
# Usage: test_device_check.sh SOURCE_DIR BUILD_DIR (a CUDA build, built). Skipped (77) on a GPU machine,
# where the device check itself is the test (docs/cuda.md).
set -eu
src=$1 build=$2
if nvidia-smi -L 2> /dev/null | grep -q '^GPU'; then
    echo "a GPU is here: run the device check itself (docs/cuda.md), skipped"
    exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/alexnet-device-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$src/scripts/device-check.sh" --build "$build" --out "$work/bundle" --images 200,100 --no-archive \
    --ctest "$(command -v ctest)" > "$work/prepare.log" 2>&1 || { cat "$work/prepare.log"; fail "the prepare half failed"; }
prefix="$work/bundle/alexnet-device"
env -u LD_LIBRARY_PATH "$prefix/libexec/alexnet/device-check-run.sh" --work "$work/run" --out "$work/out" \
    > "$work/run.log" 2>&1 || { cat "$work/run.log"; fail "the run half exited non-zero without a GPU"; }
table="$work/out/device-check-table.txt"
[ -f "$table" ] && [ -f "$work/out/device-check-logs.tar.gz" ] || fail "no table or logs in --out"
cat "$table"
grep -q '^libraries resolve  *pass ' "$table" || fail "the libraries do not resolve inside the prefix"
grep -q ' 0 failed, ' "$table" || fail "a check failed"
# Every installed test ran from the prefix: skipped, but the one that runs everywhere.
installed=$(grep -c '^add_test(' "$prefix/libexec/alexnet/CTestTestfile.cmake")
[ "$installed" -ge 8 ] || fail "only $installed tests installed"
[ "$(grep -c '^test .* skipped .*no GPU: exit 77' "$table")" = $((installed - 1)) ] || fail "not every GPU test skipped"
grep -q '^test test_cuda_host  *pass ' "$table" || fail "test_cuda_host did not pass from the prefix"
for row in 'alexnet-train --devices cuda' 'alexnet-eval --device cuda' 'bench_train_gpu (device-resident)' \
           'alexnet-train end to end' 'bench_torch.py'; do
    grep -F "$row" "$table" | grep -q ' skipped .*no GPU' || fail "no 'skipped: no GPU' row for $row"
done
grep -q '^ours  *computes  *images/s  *peer ' "$table" || fail "no benchmark table"

# The negative controls: a bundle missing libraries must fail the library
# check; a failing test must fail and run once more with CUDA_LAUNCH_BLOCKING=1
# under compute-sanitizer (here a stand-in on PATH that says it ran).
rm "$prefix"/lib/libhdf5*.so* "$prefix"/lib/libjpeg.so*
cat >> "$prefix/libexec/alexnet/CTestTestfile.cmake" << 'EOF2'
add_test(test_fails_on_purpose sh run-test.sh sh -c "echo blocking=$CUDA_LAUNCH_BLOCKING; exit 3")
set_tests_properties(test_fails_on_purpose PROPERTIES LABELS "gpu")
EOF2
mkdir "$work/path"
printf '#!/bin/sh\necho "sanitizer wraps: $*"\nshift 4\nexec "$@"\n' > "$work/path/compute-sanitizer"
chmod +x "$work/path/compute-sanitizer"
if env -u LD_LIBRARY_PATH PATH="$work/path:$PATH" "$prefix/libexec/alexnet/device-check-run.sh" --work "$work/run2" \
    --out "$work/out2" > "$work/run2.log" 2>&1; then
    fail "the run half passed with libraries missing from the bundle and a failing test"
fi
table2="$work/out2/device-check-table.txt"
grep -q '^libraries resolve  *FAIL ' "$table2" || fail "the library check did not fail"
grep -q 'FAIL: libraries resolve .*libjpeg\.so' "$work/run2.log" || fail "the library check did not name libjpeg"
grep -q '^test test_fails_on_purpose  *FAIL ' "$table2" || fail "the failing test did not fail"
grep -q '^rerun: blocking, sanitizer  *FAIL .*test_fails_on_purpose Failed' "$table2" || fail "no rerun row"
grep -q 'sanitizer wraps: --error-exitcode 9 --print-limit 10 sh -c' "$work/run2/logs/ctest-rerun.log" &&
    grep -q '^blocking=1$' "$work/run2/logs/ctest-rerun.log" || fail "the rerun was not blocking and under the sanitizer"
echo PASS
