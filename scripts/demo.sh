#!/usr/bin/env bash
# Sets up, builds and runs the demo: a whole Bayesian-optimization study on Hartmann6.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGPBO_BUILD_TESTS=OFF -DGPBO_BUILD_BENCH=OFF \
  ${GPBO_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)" --target gpbo_cli
"$build/gpbo" optimize --function hartmann6 --budget 60 --seed 0 "$@"
