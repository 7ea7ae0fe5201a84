#!/usr/bin/env python3
"""Input-constrained Hartmann6 (issue 20): minimize Hartmann6 on [0, 1]^6 subject to
sum(x) <= BOUND, 60 evaluations, gpbo (the constraint in its space JSON) against Optuna's
GPSampler and TPESampler, which have no input constraints, same seeds.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/constrained_bench.py \\
        --methods gpbo,gp-penalty,gp-cf,tpe-penalty,tpe-cf,random --seeds 10 --jsonl out.jsonl
    python bench/constrained_bench.py --summary out.jsonl

The Optuna baselines get the constraint the two ways Optuna allows:
  *-penalty: the sampler proposes a point; an infeasible one is not evaluated and is told the
    worst value Hartmann6 takes (0), so it costs an evaluation and teaches the sampler to avoid
    the region (sample, then reject with a bad value);
  *-cf: the sampler's `constraints_func` (an outcome constraint, sum(x) - BOUND <= 0): the
    sampler models feasibility; an infeasible proposal still costs an evaluation and counts
    for nothing.
random: uniform points, rejection-sampled inside the constraint (every evaluation feasible).

Regret: the best value among the *feasible* evaluations minus the constrained optimum f*_B,
computed once per bound by SLSQP from 200 uniform starts (scipy); for BOUND = 3 the
unconstrained optimum (sum 2.07) is feasible, so f* = -3.32237.

One JSON object per run: function, bound, budget, method, seed, regret, best_value,
n_infeasible (evaluations outside the constraint), seconds_total.
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
from optuna_regret import hartmann6  # noqa: E402

DIM = 6
BUDGET = 60
WORST = 0.0  # Hartmann6 < 0 everywhere: 0 is worse than any value it takes


@functools.lru_cache(maxsize=None)
def constrained_optimum(bound: float) -> float:
    from scipy.optimize import minimize
    rng = np.random.default_rng(0)
    cons = [{"type": "ineq", "fun": lambda x: bound - np.sum(x)}]
    best = np.inf
    for _ in range(200):
        x0 = rng.random(DIM)
        if x0.sum() > bound:
            x0 *= bound / x0.sum() * 0.99
        r = minimize(hartmann6, x0, method="SLSQP", bounds=[(0.0, 1.0)] * DIM, constraints=cons)
        if r.success and np.sum(r.x) <= bound + 1e-9:
            best = min(best, float(r.fun))
    return best


def feasible(x, bound):
    return float(sum(x)) <= bound


def run(method, seed, bound):
    values = []  # feasible evaluations only
    infeasible = 0
    start = time.perf_counter()
    names = [f"x{i}" for i in range(DIM)]
    if method == "gpbo":
        import gpbo
        space = {"params": [{"name": n, "type": "float", "low": 0.0, "high": 1.0} for n in names],
                 "constraints": [{"terms": {n: 1.0 for n in names}, "<=": bound}]}
        study = gpbo.Study(space, seed=seed, device="cpu")
        for _ in range(BUDGET):
            trial = study.ask()
            x = [trial.params[n] for n in names]
            v = hartmann6(x)
            if feasible(x, bound):
                values.append(v)
            else:
                infeasible += 1
            study.tell(trial, v)  # gpbo never suggests an infeasible point (counted if it did)
    elif method == "random":
        rng = np.random.default_rng(seed)
        for _ in range(BUDGET):
            x = rng.random(DIM)
            while not feasible(x, bound):
                x = rng.random(DIM)
            values.append(hartmann6(x))
    else:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        kind, how = method.split("-")
        cf = None
        if how == "cf":
            def cf(t):
                return [t.user_attrs["violation"]]
        sampler = (optuna.samplers.GPSampler(seed=seed, constraints_func=cf) if kind == "gp"
                   else optuna.samplers.TPESampler(seed=seed, constraints_func=cf))
        study = optuna.create_study(sampler=sampler)
        for _ in range(BUDGET):
            trial = study.ask()
            x = [trial.suggest_float(n, 0.0, 1.0) for n in names]
            trial.set_user_attr("violation", float(sum(x)) - bound)
            if feasible(x, bound):
                v = hartmann6(x)
                values.append(v)
            else:
                infeasible += 1
                # penalty: not evaluated, told the worst value; cf: evaluated, marked infeasible
                v = WORST if how == "penalty" else hartmann6(x)
            study.tell(trial, v)
    best = min(values) if values else WORST
    optimum = constrained_optimum(bound)
    return {"function": "hartmann6", "bound": bound, "budget": BUDGET, "method": method,
            "seed": seed, "regret": max(best - optimum, 0.0), "best_value": best,
            "optimum": optimum, "n_infeasible": infeasible,
            "seconds_total": time.perf_counter() - start}


def quartiles(xs):
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return q[0], statistics.median(xs), q[2]


def summary(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    groups = {}
    for r in rows:
        groups.setdefault((r["bound"], r["method"]), []).append(r)
    out = []
    for (bound, method), rs in sorted(groups.items()):
        q1, med, q3 = quartiles([r["regret"] for r in rs])
        out.append({"bound": bound, "method": method, "seeds": len(rs), "median_regret": med,
                    "q1": q1, "q3": q3,
                    "median_infeasible": statistics.median(r["n_infeasible"] for r in rs),
                    "median_seconds": statistics.median(r["seconds_total"] for r in rs)})
    return out


def main():
    p = bench_cli.parser()
    p.add_argument("--methods", default="gpbo,gp-penalty,gp-cf,tpe-penalty,tpe-cf,random")
    p.add_argument("--bounds", default="3")
    a = p.parse_args()
    if bench_cli.print_summary(a, summary):
        return
    rows = bench_cli.Rows(a)
    for bound in [float(b) for b in a.bounds.split(",")]:
        for method in a.methods.split(","):
            for seed in bench_cli.seeds(a):
                rows.emit(run(method, seed, bound))


if __name__ == "__main__":
    main()
