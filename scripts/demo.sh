#!/usr/bin/env bash
# Sets up, builds and runs the demo: a persistent study in the default store (a SQLite file):
# create it, let a worker ask/evaluate/tell 30 Branin trials, then print the best trial.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGPBO_BUILD_TESTS=OFF -DGPBO_BUILD_BENCH=OFF \
  ${GPBO_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)" --target gpbo_cli
gpbo="$build/gpbo"
export GPBO_STORAGE="sqlite:///$PWD/$build/demo.db"
rm -f "$build/demo.db" "$build/demo.db-wal" "$build/demo.db-shm"
"$gpbo" create-study --study branin --space examples/spaces/branin.json --direction minimize
"$gpbo" worker --study branin --function branin --trials 30 --worker-id demo >/dev/null
echo "best trial of 30 (Branin's minimum is 0.397887):"
"$gpbo" best --study branin
"$gpbo" trials --study branin -f table | tail -n 5
"$gpbo" report --study branin -o "$build/demo-report.html" >/dev/null
echo "the study's report (one HTML page, open it in a browser): $build/demo-report.html"
