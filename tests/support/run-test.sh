#!/bin/sh
# run-test.sh PROGRAM ARGS...: one test of an installed prefix (libexec/alexnet/,
# tests/CMakeLists.txt: alexnet_install_test), as its CTestTestfile.cmake runs
# it: from this folder, which stands for the build tree (ALEXNET_BINARY_DIR:
# train/alexnet-train, eval/alexnet-eval, tests/<area>/...), behind
# $ALEXNET_TEST_WRAPPER when set (the device check reruns a failed test under
# compute-sanitizer so). The exit status is the test's (77: skipped).
cd "$(dirname "$0")" || exit 1
ALEXNET_BINARY_DIR=$(pwd)
export ALEXNET_BINARY_DIR
# shellcheck disable=SC2086 # the wrapper is a command with its options
exec ${ALEXNET_TEST_WRAPPER:-} "$@"
