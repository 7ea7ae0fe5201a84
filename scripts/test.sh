#!/usr/bin/env bash
# Sets up, builds (CUDA backend too when nvcc is found) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGPBO_BUILD_TESTS=ON -DGPBO_BUILD_BENCH=ON \
  ${GPBO_CMAKE_ARGS:-}
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
