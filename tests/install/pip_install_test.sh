#!/usr/bin/env bash
# `pip install .` from the repository, the documented way to install the Python package: into a
# fresh virtual environment, then `import gpbo` from elsewhere runs a study and an Optuna one.
# The CPU build (-Ccmake.define.GPBO_CUDA=OFF) keeps it short; the CUDA backend is the same
# code either way.
#
#   pip_install_test.sh PYTHON SOURCE_DIR
set -euo pipefail
python=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" scikit-build-core nanobind numpy "optuna>=4.8"
start=$(date +%s)
"${pip[@]}" --no-build-isolation -Ccmake.define.GPBO_CUDA=OFF \
  -Cbuild-dir="$work/build" "$source" > "$work/pip.log" 2>&1 ||
  { tail -40 "$work/pip.log"; echo "FAIL: pip install . failed"; exit 1; }
echo "pip install . took $(($(date +%s) - start)) s"
cd "$work"
"$work/venv/bin/python" - << 'PY'
import math
import optuna
import gpbo
from gpbo.optuna import GpboSampler

print("gpbo", gpbo.__version__, "from", gpbo.__file__)
study = gpbo.Study({"params": [{"name": "x", "type": "float", "low": -1, "high": 1}]}, seed=0)
for _ in range(8):
    t = study.ask()
    study.tell(t, (t.params["x"] - 0.3) ** 2)
assert abs(study.best().params["x"] - 0.3) < 0.2, study.best()
optuna.logging.set_verbosity(optuna.logging.WARNING)
o = optuna.create_study(sampler=GpboSampler(seed=0, device="cpu"))
o.optimize(lambda tr: (tr.suggest_float("x", -1, 1) - 0.3) ** 2, n_trials=8)
print("ok: the installed package runs a study and an Optuna study; best", o.best_value)
PY
