#!/usr/bin/env bash
# h5-mutation-campaign.sh: the long campaign of byte-level mutation of real
# HDF5 files (docs/RELIABILITY.md, "Hostile bytes inside HDF5"): the CTest
# regression test_h5_mutants with more mutants per kind and another seed, at
# the lowest CPU priority. Prints one line per kind (mutants, refused,
# crashed, hung, refused without naming the file); exit status 1 on any crash,
# hang or unnamed refusal, whose mutants are kept in BUILD/h5-mutants-failed.
# Usage: scripts/h5-mutation-campaign.sh [BUILD_DIR [COUNT [SEED [COUNT_V1]]]]
#   defaults: build, 20000 mutants per kind, seed 2, 2000 per kind of format version 1
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
count=${2:-20000}
seed=${3:-2}
count_v1=${4:-2000}
[ -x "$build/tests/faults/h5_mutants" ] || { echo "build $build first (cmake --build $build)" >&2; exit 2; }
exec nice -n 19 sh tests/faults/test_h5_mutants.sh "$(cd "$build" && pwd)" "$count" "$seed" "$count_v1"
