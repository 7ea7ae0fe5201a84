#!/usr/bin/env python3
"""Warm starts (issue 19, part 1): a second task warm-started from a first, against a cold
start, on related and on unrelated tasks.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/warm_start_bench.py \\
        --seeds 10 --jsonl out.jsonl
    python bench/warm_start_bench.py --summary out.jsonl    # the README's table

Problems (minimized; each seed draws its own tasks from numpy's default_rng([seed, 19])):

- hartmann6-shift: Hartmann6 with its optimum moved by a random offset per task,
  f_t(x) = H6(x - delta_t), delta_t ~ U(-0.05, 0.05)^6 (f* = -3.32237 for both tasks: the shifted
  optimum stays inside [0, 1]^6).
- levy10-scale: Levy-10 with a changed scale: the second task's values are 2.5 times the first's
  and its optimum moves by delta ~ U(-0.5, 0.5)^10 (2.5% of the range [-10, 10]); f* = 0.
- hartmann6-negated (negative transfer): the first task is -H6 (a study that maximized what the
  second minimizes, recorded as values to minimize), the second H6(x - delta_2).

The first task is run cold with gpbo for --source-budget evaluations (default 50); the second
task then runs --budget evaluations (default 40) cold and warm-started from the first
(``gpbo.Study(..., warm_start_from=[first])``), same seed. Regret = best value so far - f*,
after 10, 20 and 40 evaluations of the second task (the first task's evaluations are not
counted: they were spent on another problem).

One JSON object per run: problem, method (cold|warm), seed, regret_10, regret_20, regret_40,
transfer_weight (warm, after the last ask), seconds_total, seconds_per_ask (median).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_cli  # noqa: E402
from optuna_regret import hartmann6, levy  # noqa: E402

H6_MIN = -3.32237
CHECKPOINTS = (10, 20, 40)


def tasks(problem, seed):
    """(source function, target function, bounds, f* of the target)."""
    rng = np.random.default_rng([seed, 19])
    if problem in ("hartmann6-shift", "hartmann6-negated"):
        d1, d2 = rng.uniform(-0.05, 0.05, 6), rng.uniform(-0.05, 0.05, 6)
        target = lambda x: hartmann6(np.asarray(x) - d2)  # noqa: E731
        if problem == "hartmann6-shift":
            source = lambda x: hartmann6(np.asarray(x) - d1)  # noqa: E731
        else:
            source = lambda x: -hartmann6(np.asarray(x) - d1)  # noqa: E731
        return source, target, [(0.0, 1.0)] * 6, H6_MIN
    if problem == "levy10-scale":
        delta = rng.uniform(-0.5, 0.5, 10)
        source = levy
        target = lambda x: 2.5 * levy(np.asarray(x) - delta)  # noqa: E731
        return source, target, [(-10.0, 10.0)] * 10, 0.0
    raise SystemExit(f"unknown problem {problem}")


def space_of(bounds):
    return {"params": [{"name": f"x{i}", "type": "float", "low": lo, "high": hi}
                       for i, (lo, hi) in enumerate(bounds)]}


def optimize(study, f, n, dim):
    values = []
    for _ in range(n):
        t = study.ask()
        v = f([t.params[f"x{i}"] for i in range(dim)])
        study.tell(t, v)
        values.append(v)
    return values


def run_seed(problem, seed, source_budget, budget):
    import gpbo
    source_f, target_f, bounds, fstar = tasks(problem, seed)
    dim = len(bounds)
    space = space_of(bounds)
    source = gpbo.Study(space, seed=1000 + seed, device="cpu")
    optimize(source, source_f, source_budget, dim)
    rows = []
    for method in ("cold", "warm"):
        start = time.perf_counter()
        study = gpbo.Study(space, seed=seed, device="cpu",
                           warm_start_from=[source] if method == "warm" else None)
        values = optimize(study, target_f, budget, dim)
        row = {"problem": problem, "method": method, "seed": seed,
               "source_budget": source_budget, "budget": budget,
               "n_initial": study.n_initial,
               "transfer_weight": study.transfer_weight if method == "warm" else None,
               "seconds_total": time.perf_counter() - start,
               "seconds_per_ask": statistics.median(study.ask_seconds)}
        for c in CHECKPOINTS:
            if c <= budget:
                row[f"regret_{c}"] = max(min(values[:c]) - fstar, 0.0)
        rows.append(row)
    return rows


def summary(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    groups = {}
    for r in rows:
        groups.setdefault((r["problem"], r["method"]), []).append(r)
    out = []
    for (problem, method), rs in sorted(groups.items()):
        row = {"problem": problem, "method": method, "seeds": len(rs)}
        for c in CHECKPOINTS:
            vals = sorted(r[f"regret_{c}"] for r in rs if f"regret_{c}" in r)
            if vals:
                q = np.quantile(vals, [0.25, 0.5, 0.75])
                row[f"regret_{c}"] = [float(q[1]), float(q[0]), float(q[2])]
        row["median_seconds_per_ask"] = statistics.median(r["seconds_per_ask"] for r in rs)
        if method == "warm":
            row["median_transfer_weight"] = statistics.median(r["transfer_weight"] for r in rs)
        out.append(row)
    return out


def main():
    p = bench_cli.parser()
    p.add_argument("--problems", default="hartmann6-shift,levy10-scale,hartmann6-negated")
    p.add_argument("--source-budget", type=int, default=50)
    p.add_argument("--budget", type=int, default=40)
    a = p.parse_args()
    if bench_cli.print_summary(a, summary):
        return
    rows = bench_cli.Rows(a)
    for seed in bench_cli.seeds(a):
        for problem in a.problems.split(","):
            for row in run_seed(problem, seed, a.source_budget, a.budget):
                rows.emit(row)


if __name__ == "__main__":
    main()
