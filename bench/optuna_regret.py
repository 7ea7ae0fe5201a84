#!/usr/bin/env python3
"""The regret protocol of shared/benchmarks.md driven through Optuna: GpboSampler against
Optuna's GPSampler and TPESampler (and RandomSampler), same functions, budgets and seeds.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/optuna_regret.py \\
        --samplers gpbo,gp,tpe --seeds 10 --jsonl out.jsonl

One JSON object per run: function, dim, budget, sampler, seed, final_regret, reported_regret
(log10 for Rosenbrock), best_value, seconds_total, seconds_per_trial (median of the last 10).
Needs optuna (and torch for GPSampler); gpbo from the package (pip install .) or PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np
import optuna


def branin(x):
    a, b = x
    return ((b - 5.1 / (4 * math.pi**2) * a**2 + 5 / math.pi * a - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(a) + 10)


_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x):
    x = np.asarray(x)
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def ackley(x):
    x = np.asarray(x)
    d = len(x)
    return float(-20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d))
                 - np.exp(np.sum(np.cos(2 * np.pi * x)) / d) + 20 + np.e)


def levy(x):
    w = 1 + (np.asarray(x) - 1) / 4
    return float(np.sin(np.pi * w[0]) ** 2
                 + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
                 + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2))


def rosenbrock(x):
    x = np.asarray(x)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


# name: (function, bounds per dimension, dimension, optimum, budget, log10 regret)
PROBLEMS = {
    "branin": (branin, [(-5, 10), (0, 15)], 2, 0.397887, 30, False),
    "hartmann6": (hartmann6, [(0, 1)] * 6, 6, -3.32237, 60, False),
    "ackley": (ackley, [(-5, 10)] * 10, 10, 0.0, 100, False),
    "levy": (levy, [(-10, 10)] * 10, 10, 0.0, 100, False),
    "rosenbrock": (rosenbrock, [(-5, 10)] * 6, 6, 0.0, 80, True),
}


def make_sampler(name: str, seed: int):
    if name == "gpbo":
        from gpbo.optuna import GpboSampler
        return GpboSampler(seed=seed, device="cpu")
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(name)


def run(problem: str, sampler_name: str, seed: int) -> dict:
    f, bounds, dim, optimum, budget, log10 = PROBLEMS[problem]
    study = optuna.create_study(sampler=make_sampler(sampler_name, seed))
    times = []

    def objective(trial):
        # The sampler runs inside the first suggest call (relative sampling) and each of them.
        start = time.perf_counter()
        x = [trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
        times.append(time.perf_counter() - start)
        return f(x)

    start = time.perf_counter()
    study.optimize(objective, n_trials=budget)
    total = time.perf_counter() - start
    regret = max(study.best_value - optimum, 0.0)
    return {"function": problem, "dim": dim, "budget": budget, "sampler": sampler_name,
            "seed": seed, "final_regret": regret,
            "reported_regret": math.log10(max(regret, 1e-300)) if log10 else regret,
            "log10": log10, "best_value": study.best_value, "seconds_total": total,
            # The sampler's time: the suggest calls of a trial.
            "seconds_per_trial": statistics.median(times[-10:])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", default=",".join(PROBLEMS))
    parser.add_argument("--samplers", default="gpbo,gp,tpe")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--jsonl", default=None)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = open(args.jsonl, "a") if args.jsonl else None
    for problem in args.functions.split(","):
        for sampler in args.samplers.split(","):
            regrets = []
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                r = run(problem, sampler, seed)
                regrets.append(r["reported_regret"])
                if out:
                    out.write(json.dumps(r) + "\n")
                    out.flush()
            q1, med, q3 = np.percentile(regrets, [25, 50, 75])
            print(f"{problem:<11} {sampler:<6} {med:.3g} [{q1:.3g}, {q3:.3g}]", flush=True)


if __name__ == "__main__":
    main()
