#!/usr/bin/env python3
"""Regret with corrupted observations (issue 14): gpbo with outlier handling (robust auto, the
default) and without (robust off) against Optuna's GPSampler and TPESampler, on Hartmann6 / 60
and Levy-10 / 100 evaluations, with and without corruption, same seeds.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/robust_bench.py \\
        --methods gpbo,gpbo-off,gp,tpe --seeds 10 --jsonl out.jsonl
    python bench/robust_bench.py --summary out.jsonl    # the README's table

Corruption: for each seed, 10% of the evaluations (chosen by a random stream of its own,
seeded by the seed, so every method sees the same trial numbers corrupted) are told off by 100
times the function's range, half of them too good (value - 100 R) and half too bad (value +
100 R). R is max - min of the function over 100,000 uniform points (numpy seed 0) and the
known minimum. The regret counts the true values only: the best true value among the points
evaluated, minus the optimum, as a user who re-checks the best configurations would see it.

One JSON object per run: function, dim, budget, corrupted, method, seed, regret, best_value,
n_outliers_flagged (gpbo only, at the end), seconds_total.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_cli  # noqa: E402
from optuna_regret import hartmann6, levy  # noqa: E402

# name: (function, bounds, optimum, budget)
PROBLEMS = {
    "hartmann6": (hartmann6, [(0.0, 1.0)] * 6, -3.32237, 60),
    "levy10": (levy, [(-10.0, 10.0)] * 10, 0.0, 100),
}
CORRUPT_SHARE = 0.1
CORRUPT_SCALE = 100.0


@functools.lru_cache(maxsize=None)
def function_range(name):
    f, bounds, optimum, _ = PROBLEMS[name]
    rng = np.random.default_rng(0)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    values = [f(lo + (hi - lo) * rng.random(len(bounds))) for _ in range(100_000)]
    return max(values) - min(min(values), optimum)


def corruption(name, seed, budget, corrupted):
    """{trial number: offset} for this seed: half too good (negative), half too bad."""
    if not corrupted:
        return {}
    r = function_range(name)
    rng = np.random.default_rng([seed, 14])
    k = int(round(CORRUPT_SHARE * budget))
    picked = rng.choice(budget, size=k, replace=False)
    return {int(t): (-1.0 if j % 2 == 0 else 1.0) * CORRUPT_SCALE * r
            for j, t in enumerate(picked)}


def run(name, method, seed, corrupted):
    f, bounds, optimum, budget = PROBLEMS[name]
    offsets = corruption(name, seed, budget, corrupted)
    true_values = []
    flagged = None
    start = time.perf_counter()
    if method.startswith("gpbo"):
        import gpbo
        space = {"params": [{"name": f"x{i}", "type": "float", "low": lo, "high": hi}
                            for i, (lo, hi) in enumerate(bounds)]}
        study = gpbo.Study(space, seed=seed, device="cpu",
                           robust="off" if method == "gpbo-off" else "auto")
        for number in range(budget):
            trial = study.ask()
            v = f([trial.params[f"x{i}"] for i in range(len(bounds))])
            true_values.append(v)
            study.tell(trial, v + offsets.get(number, 0.0))
        flagged = len(study.outliers())
    else:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = (optuna.samplers.GPSampler(seed=seed) if method == "gp"
                   else optuna.samplers.TPESampler(seed=seed))
        study = optuna.create_study(sampler=sampler)
        for number in range(budget):
            trial = study.ask()
            v = f([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)])
            true_values.append(v)
            study.tell(trial, v + offsets.get(number, 0.0))
    best = min(true_values)
    return {"function": name, "dim": len(bounds), "budget": budget, "corrupted": corrupted,
            "method": method, "seed": seed, "regret": max(best - optimum, 0.0),
            "best_value": best, "n_outliers_flagged": flagged,
            "seconds_total": time.perf_counter() - start}


def summary(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    groups = {}
    for r in rows:
        groups.setdefault((r["function"], r["corrupted"], r["method"]), []).append(r)
    out = []
    for (fn, corrupted, method), rs in sorted(groups.items()):
        regrets = [r["regret"] for r in rs]
        flagged = [r["n_outliers_flagged"] for r in rs if r["n_outliers_flagged"] is not None]
        out.append({"function": fn, "corrupted": corrupted, "method": method, "seeds": len(rs),
                    "median_regret": statistics.median(regrets),
                    "mean_regret": statistics.fmean(regrets),
                    "median_flagged": statistics.median(flagged) if flagged else None,
                    "median_seconds": statistics.median(r["seconds_total"] for r in rs)})
    return out


def main():
    p = bench_cli.parser()
    p.add_argument("--functions", default="hartmann6,levy10")
    p.add_argument("--methods", default="gpbo,gpbo-off,gp,tpe")
    p.add_argument("--clean", choices=["both", "only", "no"], default="both",
                   help="also run without corruption (both), only clean, or only corrupted")
    a = p.parse_args()
    if bench_cli.print_summary(a, summary):
        return
    modes = {"both": [True, False], "only": [False], "no": [True]}[a.clean]
    rows = bench_cli.Rows(a)
    for fn in a.functions.split(","):
        for corrupted in modes:
            for method in a.methods.split(","):
                for seed in bench_cli.seeds(a):
                    rows.emit(run(fn, method, seed, corrupted))


if __name__ == "__main__":
    main()
