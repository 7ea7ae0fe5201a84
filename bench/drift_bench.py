#!/usr/bin/env python3
"""Drift (issue 19, part 2): an objective whose optimum moves during the study, gpbo with
drift=auto against drift=off (and Optuna's TPE as a reference), and the cost of drift=auto on a
function that does not move.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/drift_bench.py \\
        --seeds 10 --jsonl out.jsonl
    python bench/drift_bench.py --summary out.jsonl    # the README's table

Problems (minimized, x1 in [-5, 10], x2 in [0, 15], --budget trials, default 120):

- branin-moving: Branin with its input shifted along a circle every 20 trials,
  f_k(x) = branin(x - s_k), s_k = 2 (cos(phi + k pi / 3), sin(phi + k pi / 3)) for trials
  20 k .. 20 k + 19, phi ~ U(0, 2 pi) per seed (numpy's default_rng([seed, 192])). Each step
  moves the optimum by 2 (an eighth of the box's width). The minimum at (pi, 2.275) + s_k stays
  inside the box, so f* = 0.397887 in every period.
- branin-static: Branin, unshifted (what drift=auto costs when nothing moves).

Metric: regret of a trial = its f_k at the trial's own period minus f*, i.e. against the function
in force when it was evaluated. "last20" is the mean regret of the latest 20 trials (trials
budget-20 .. budget-1, all in the last period with the default budget): how good the points
are that the study suggests now; re-evaluations count, as they cost an evaluation too.
"best_last20" is the least regret among them (the best configuration found in the current
period). The summary gives the median over seeds, with the quartiles.

gpbo-static-nowarp is drift off with output_warping none: drift=auto models values unwarped, and
this run separates that from the time input.

One JSON object per run: problem, method (gpbo-drift|gpbo-static|gpbo-static-nowarp|optuna-tpe),
seed, last20,
best_last20, reevaluations, shifts (trial ids), seconds_total.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_cli  # noqa: E402
from optuna_regret import branin  # noqa: E402

F_STAR = 0.397887
PERIOD = 20
RADIUS = 2.0
BOUNDS = [(-5.0, 10.0), (0.0, 15.0)]
METHODS = ("gpbo-drift", "gpbo-static", "gpbo-static-nowarp", "optuna-tpe")
PROBLEMS = ("branin-moving", "branin-static")


def objective(problem, seed):
    """f(x, trial) for the trial's period."""
    if problem == "branin-static":
        return lambda x, trial: branin(x)
    phi = np.random.default_rng([seed, 192]).uniform(0.0, 2.0 * math.pi)

    def f(x, trial):
        a = phi + (trial // PERIOD) * math.pi / 3.0
        return branin((x[0] - RADIUS * math.cos(a), x[1] - RADIUS * math.sin(a)))

    return f


def run_gpbo(problem, seed, budget, drift, warp=True):
    import gpbo
    f = objective(problem, seed)
    space = {"params": [{"name": f"x{i}", "type": "float", "low": lo, "high": hi}
                        for i, (lo, hi) in enumerate(BOUNDS)]}
    extra = {} if warp else {"output_warping": "none"}
    study = gpbo.Study(space, seed=seed, device="cpu", drift="auto" if drift else "off", **extra)
    values = []
    for i in range(budget):
        t = study.ask()
        v = f((t.params["x0"], t.params["x1"]), t.id)
        study.tell(t, v)
        values.append(v)
    sources = [t.source for t in study.trials()]
    d = study.drift()
    return values, sources.count("reevaluation"), d["shifts"]


def run_tpe(problem, seed, budget):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    f = objective(problem, seed)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    values = []
    for i in range(budget):
        t = study.ask()
        x = (t.suggest_float("x0", *BOUNDS[0]), t.suggest_float("x1", *BOUNDS[1]))
        v = f(x, i)
        study.tell(t, v)
        values.append(v)
    return values, 0, []


def summary(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    for problem in PROBLEMS:
        for method in METHODS:
            rs = [r for r in rows if r["problem"] == problem and r["method"] == method]
            if not rs:
                continue
            out = {"problem": problem, "method": method, "seeds": len(rs)}
            for key in ("last20", "best_last20"):
                v = sorted(r[key] for r in rs)
                q = statistics.quantiles(v, n=4) if len(v) > 1 else [v[0]] * 3
                out[f"median_{key}"] = round(statistics.median(v), 3)
                out[f"q1_{key}"], out[f"q3_{key}"] = round(q[0], 3), round(q[2], 3)
            out["median_seconds"] = round(statistics.median(r["seconds_total"] for r in rs), 1)
            out["runs_with_shifts"] = sum(1 for r in rs if r["shifts"])
            yield out


def main():
    p = bench_cli.parser(seeds=10)
    p.add_argument("--budget", type=int, default=120)
    p.add_argument("--problems", default=",".join(PROBLEMS))
    p.add_argument("--methods", default=",".join(METHODS))
    args = p.parse_args()
    if bench_cli.print_summary(args, summary):
        return
    rows = bench_cli.Rows(args)
    for problem in args.problems.split(","):
        for seed in bench_cli.seeds(args):
            for method in args.methods.split(","):
                start = time.perf_counter()
                if method == "optuna-tpe":
                    values, reevaluations, shifts = run_tpe(problem, seed, args.budget)
                else:
                    values, reevaluations, shifts = run_gpbo(problem, seed, args.budget,
                                                             method == "gpbo-drift",
                                                             warp=method != "gpbo-static-nowarp")
                regret = [v - F_STAR for v in values[-20:]]
                rows.emit({"problem": problem, "method": method, "seed": seed,
                           "last20": statistics.mean(regret), "best_last20": min(regret),
                           "reevaluations": reevaluations, "shifts": shifts,
                           "seconds_total": time.perf_counter() - start})


if __name__ == "__main__":
    main()
