#!/usr/bin/env bash
# Sets up, builds (CUDA backend too when nvcc is found; the Python package too) and runs the
# whole test suite: C++ (ctest), the CLI and the server, Python (pytest, through ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
build=${BUILD_DIR:-build}
# The Python side's packages from PyPI, in a virtual environment in the build folder: nanobind
# (the bindings), numpy, optuna and pytest (the tests), ray[tune] (the Ray Tune example's test).
venv=$build/venv
mkdir -p "$build"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check nanobind scikit-build-core numpy \
  "optuna>=4.8" pytest "ray[tune]"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGPBO_BUILD_TESTS=ON -DGPBO_BUILD_BENCH=ON \
  -DGPBO_BUILD_PYTHON=ON -DPython_EXECUTABLE="$(cd "$venv/bin" && pwd)/python" \
  ${GPBO_CMAKE_ARGS:-}
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
