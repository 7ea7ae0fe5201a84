#!/usr/bin/env python3
"""Several metrics: gpbo against Optuna's GPSampler, NSGA-II, TPE and scrambled Sobol on the
multi-objective and constrained test problems (bench/mo_problems.py, the same problems as
gpbo's C++ TestProblem), same budgets and seeds.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/mo_bench.py \\
        --methods gpbo,gpbo-ref,gp,nsga2,tpe,sobol --seeds 10 --jsonl out.jsonl
    python bench/mo_bench.py --summary out.jsonl      # the README's table from the runs

One JSON object per run: problem, dim, budget, q, method, seed, hypervolume (several
objectives, of the feasible evaluations w.r.t. the problem's reference point) or
best_feasible_value (one objective; null when no evaluation was feasible), best_known, regret,
feasible, seconds_total, seconds_per_trial (median of the last 10). gpbo runs through its Python
API (gpbo.Study with the problem's metrics; q > 1 asks q points at a time): "gpbo" infers the
reference point from the data, as the Optuna samplers must; "gpbo-ref" is given the problem's
reference point (the one the hypervolume is measured against), as BoTorch's tutorials give
it to qLogNEHVI and as a user who knows the worst acceptable value of each metric would.
"gpbo-ref" runs only on problems with several objectives. The Optuna samplers
get the constraints through constraints_func (<= 0 is feasible) and run with their defaults.
--check-cli GPBO evaluates the C++ problems (`gpbo worker --problem`) at the points gpbo asks
for and compares every metric with these definitions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mo_problems  # noqa: E402

BUDGETS = {"branincurrin": 50, "zdt1": 100, "dtlz2": 100, "constrained-hartmann6": 60,
           "c2dtlz2": 100}


def measure(problem, evaluations):
    """Hypervolume of the feasible evaluations (several objectives) or best feasible value."""
    ok = [v for v in evaluations if problem.feasible(v)]
    if len(problem.objectives) > 1:
        if not ok:
            return 0.0, 0
        points = np.array([problem.objective_vector(v) for v in ok])
        return float(mo_problems.hypervolume(points, problem.reference_point)), len(ok)
    if not ok:
        return None, 0
    name = problem.objectives[0][0]
    return float(min(v[name] for v in ok)), len(ok)


def metrics_of(problem):
    return {"objectives": [{"name": n, "direction": d} for n, d in problem.objectives],
            "constraints": [{"metric": m, op: float(b)} for m, op, b in problem.constraints]}


def run_gpbo(problem, budget, seed, q, given_reference=False):
    import gpbo
    space = {"params": [{"name": f"x{i}", "type": "float", "low": float(lo), "high": float(hi)}
                        for i, (lo, hi) in enumerate(zip(problem.lower, problem.upper))]}
    metrics = metrics_of(problem)
    if given_reference:
        for objective, ref in zip(metrics["objectives"], problem.reference_point):
            objective["reference"] = float(ref)
    study = gpbo.Study(space, seed=seed, device="cpu", metrics=metrics)
    evaluations, per_trial = [], []
    while len(evaluations) < budget:
        t0 = time.perf_counter()
        trials = study.ask(min(q, budget - len(evaluations)))
        per_trial.append((time.perf_counter() - t0) / len(trials))
        for t in trials:
            v = problem(np.array([t.params[f"x{i}"] for i in range(problem.dim)]))
            study.tell(t, v)
            evaluations.append(v)
    return evaluations, per_trial


def constraints_func(problem):
    def f(trial):
        values = trial.user_attrs["values"]
        out = []
        for metric, op, bound in problem.constraints:
            out.append(values[metric] - bound if op == "<=" else bound - values[metric])
        return out
    return f


def run_optuna(problem, method, budget, seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cf = constraints_func(problem) if problem.constraints else None
    if method == "gp":
        sampler = optuna.samplers.GPSampler(seed=seed, constraints_func=cf)
    elif method == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed, constraints_func=cf)
    elif method == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed, constraints_func=cf)
    elif method == "sobol":
        sampler = optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed,
                                             warn_independent_sampling=False)
    else:
        raise ValueError(f"unknown method {method}")
    study = optuna.create_study(directions=["minimize"] * len(problem.objectives),
                                sampler=sampler)
    evaluations, per_trial = [], []

    def objective(trial):
        x = np.array([trial.suggest_float(f"x{i}", float(lo), float(hi))
                      for i, (lo, hi) in enumerate(zip(problem.lower, problem.upper))])
        v = problem(x)
        trial.set_user_attr("values", {k: float(val) for k, val in v.items()})
        evaluations.append(v)
        objs = [v[n] for n, _ in problem.objectives]
        return objs if len(objs) > 1 else objs[0]

    last = time.perf_counter()

    def timer(study, trial):
        nonlocal last
        now = time.perf_counter()
        per_trial.append(now - last)
        last = now

    study.optimize(objective, n_trials=budget, callbacks=[timer])
    return evaluations, per_trial


def run(problem_name, method, budget, seed, q):
    problem = mo_problems.make(problem_name)
    start = time.perf_counter()
    if method in ("gpbo", "gpbo-ref"):
        evaluations, per_trial = run_gpbo(problem, budget, seed, q, method == "gpbo-ref")
    else:
        evaluations, per_trial = run_optuna(problem, method, budget, seed)
    seconds = time.perf_counter() - start
    result, n_feasible = measure(problem, evaluations)
    several = len(problem.objectives) > 1
    if result is None:
        regret = None
    elif several:
        regret = problem.best_known - result
    else:
        regret = result - problem.best_known
    tail = per_trial[-10:]
    return {"problem": problem.name, "dim": problem.dim, "budget": budget, "q": q,
            "method": method, "seed": seed,
            ("hypervolume" if several else "best_feasible_value"): result,
            "best_known": problem.best_known, "regret": regret, "feasible": n_feasible,
            "seconds_total": seconds,
            "seconds_per_trial": statistics.median(tail) if tail else 0.0}


def check_cli(gpbo_cli, problems, n=12):
    """The C++ problems (gpbo worker --problem, on a store) against these definitions, at the
    points gpbo asked for: every metric equal to rounding."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        store = f"sqlite:///{tmp}/check.db"
        for name in problems:
            p = mo_problems.make(name)
            space = {"params": [{"name": f"x{i}", "type": "float", "low": float(lo),
                                 "high": float(hi)} for i, (lo, hi) in enumerate(zip(p.lower,
                                                                                      p.upper))]}
            with open(f"{tmp}/{name}.json", "w") as f:
                json.dump(space, f)
            cli = [gpbo_cli]
            subprocess.run(cli + ["create-study", "--storage", store, "--study", name, "--space",
                                  f"{tmp}/{name}.json", "--metrics",
                                  json.dumps(metrics_of(p))], check=True, capture_output=True)
            subprocess.run(cli + ["worker", "--storage", store, "--study", name, "--problem",
                                  name, "-n", str(n)], check=True, capture_output=True)
            trials = json.loads(subprocess.run(cli + ["trials", "--storage", store, "--study",
                                                      name], check=True, capture_output=True,
                                               text=True).stdout)["trials"]
            worst = 0.0
            for t in trials:
                v = p(np.array([t["params"][f"x{i}"] for i in range(p.dim)]))
                for k, c in t["values"].items():
                    worst = max(worst, abs(v[k] - c) / max(1.0, abs(c)))
            print(f"{name}: {len(trials)} points, largest relative difference {worst:.2g}",
                  flush=True)
            if worst > 1e-12:
                raise SystemExit(f"{name}: the C++ and Python problems differ")


def summary(path):
    rows = [json.loads(line) for line in open(path)]
    groups = {}
    for r in rows:
        groups.setdefault((r["problem"], r["q"], r["method"]), []).append(r)
    print("| problem | q | method | measure | median [Q1, Q3] | s/trial | feasible |")
    print("|---|---|---|---|---|---|---|")
    for (problem, q, method), rs in sorted(groups.items()):
        key = "hypervolume" if "hypervolume" in rs[0] else "best_feasible_value"
        vals = sorted(math.inf if r[key] is None else r[key] for r in rs)
        q1, med, q3 = np.quantile(vals, [0.25, 0.5, 0.75]) if len(vals) > 1 else (vals[0],) * 3
        per = statistics.median(r["seconds_per_trial"] for r in rs)
        feas = statistics.median(r["feasible"] for r in rs)
        print(f"| {problem} | {q} | {method} | {'hypervolume' if key == 'hypervolume' else 'best value'}"
              f" | {med:.6g} [{q1:.6g}, {q3:.6g}] | {per:.3f} | {feas:g}/{rs[0]['budget']} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", default=",".join(BUDGETS))
    ap.add_argument("--methods", default="gpbo,gpbo-ref,gp,nsga2,tpe,sobol")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("-q", "--batch", type=int, default=1, help="gpbo's points per ask")
    ap.add_argument("--budget", type=int, default=0, help="override every budget")
    ap.add_argument("--jsonl", help="append one JSON object per run")
    ap.add_argument("--summary", help="print the table of a JSONL file and exit")
    ap.add_argument("--check-cli", metavar="GPBO", help="compare with the C++ problems")
    args = ap.parse_args()
    if args.summary:
        summary(args.summary)
        return
    problems = args.problems.split(",")
    if args.check_cli:
        check_cli(args.check_cli, problems)
        return
    out = open(args.jsonl, "a") if args.jsonl else None
    for name in problems:
        budget = args.budget or BUDGETS.get(mo_problems.make(name).name, 50)
        for method in args.methods.split(","):
            if method == "gpbo-ref" and len(mo_problems.make(name).objectives) < 2:
                continue
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                r = run(name, method, budget, seed, args.batch if method.startswith("gpbo") else 1)
                print(json.dumps(r), flush=True)
                if out:
                    out.write(json.dumps(r) + "\n")
                    out.flush()


if __name__ == "__main__":
    main()
