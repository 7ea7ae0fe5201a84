#!/usr/bin/env python3
"""Conditional search spaces (issue 20): gpbo with conditional parameters against the naive
flattening of the same space, Optuna's GPSampler and TPESampler (define-by-run, which handles
conditional spaces) and SMAC3's HPO facade (ConfigSpace conditions), same budgets and seeds.

    OMP_NUM_THREADS=1 python bench/conditional_bench.py --problems synthetic \\
        --methods gpbo,gpbo-flat,gp,tpe,smac --seeds 10 --jsonl out.jsonl
    python bench/conditional_bench.py --summary out.jsonl

Problems (minimized):
- synthetic, 100 evaluations: "fn" chooses among Branin (2 params), Hartmann3 (3 params) and a
  shifted sphere (4 params), each with parameters of its own. Each branch is shifted so that
  its minimum is known and scaled so that its range over its box is Hartmann3's (3.86278):
  Hartmann3 + 3.86278 (minimum 0, the global one), (Branin - 0.397887) * 3.86278 / 307.7 + 0.5
  (minimum 0.5), sum((x - s)^2) * 3.86278 / 185.5 + 0.3 (minimum 0.3). Regret = best value.
- sklearn, 60 evaluations: the 3-fold CV error (cross_val_score, unshuffled folds) on the
  bundled digits data (X / 16) of one of an SVM (C, gamma, kernel rbf/poly, degree only for
  poly: nested to depth 2), a random forest (trees, depth; random_state 0) or a logistic
  regression (C, penalty l1/l2; liblinear, one-vs-rest). The objective is deterministic.
  Reported as the best error (the regret against an unknown optimum).

Methods:
- gpbo: the conditional space; a trial holds only its active parameters.
- gpbo-flat: the naive baseline: every parameter in one flat space, and the values of the
  inactive ones redrawn at random before the model sees them (ask, mark the trial failed,
  add_trial with the random values and the value): the model sees the inactive dimensions as
  noise, as a flattening that fills them randomly does.
- gp, tpe: Optuna's GPSampler / TPESampler (defaults) through define-by-run.
- smac: SMAC3's HyperparameterOptimizationFacade (defaults, deterministic) over a ConfigSpace
  with EqualsCondition/InCondition; the first `budget` evaluations count.

One JSON object per run: problem, budget, method, seed, best_value, regret (synthetic),
best_branch, branch_counts, seconds_total.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_cli  # noqa: E402

# ---------------------------------------------------------------- the synthetic problem
SPHERE_SHIFT = (1.5, -2.0, 0.5, 3.0)
# Ranges over each box (max - min), so that every branch spans the same range of values.
H3_RANGE = 3.86278
BRANIN_RANGE = 308.129 - 0.397887  # max at (-5, 0)
SPHERE_RANGE = 6.5 ** 2 + 7.0 ** 2 + 5.5 ** 2 + 8.0 ** 2  # the farthest corner
H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
H3_C = np.array([1.0, 1.2, 3.0, 3.2])
H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547],
                        [381, 5743, 8828]])


def branin(x1, x2):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann3(x):
    x = np.asarray(x)
    return float(-np.sum(H3_C * np.exp(-np.sum(H3_A * (x - H3_P) ** 2, axis=1))))


# Every parameter of the synthetic space: (name, branch, low, high).
SYN_PARAMS = [("b_x1", "branin", -5.0, 10.0), ("b_x2", "branin", 0.0, 15.0)] + \
    [(f"h_x{i}", "hartmann3", 0.0, 1.0) for i in range(3)] + \
    [(f"s_x{i}", "sphere4", -5.0, 5.0) for i in range(4)]
SYN_BRANCHES = ["branin", "hartmann3", "sphere4"]


def synthetic(p):
    fn = p["fn"]
    if fn == "branin":
        return (branin(p["b_x1"], p["b_x2"]) - 0.397887) * H3_RANGE / BRANIN_RANGE + 0.5
    if fn == "hartmann3":
        return hartmann3([p[f"h_x{i}"] for i in range(3)]) + H3_RANGE
    return (sum((p[f"s_x{i}"] - s) ** 2 for i, s in enumerate(SPHERE_SHIFT)) * H3_RANGE /
            SPHERE_RANGE + 0.3)


def syn_space(flat=False):
    params = [{"name": "fn", "type": "categorical", "choices": SYN_BRANCHES}]
    for name, branch, lo, hi in SYN_PARAMS:
        p = {"name": name, "type": "float", "low": lo, "high": hi}
        if not flat:
            p["condition"] = {"parent": "fn", "in": [branch]}
        params.append(p)
    return {"params": params}


def syn_active(p):
    """The params of p that are active (for the flat baseline)."""
    return {k: v for k, v in p.items()
            if k == "fn" or any(n == k and b == p["fn"] for n, b, _, _ in SYN_PARAMS)}


def syn_optuna(trial):
    fn = trial.suggest_categorical("fn", SYN_BRANCHES)
    p = {"fn": fn}
    for name, branch, lo, hi in SYN_PARAMS:
        if branch == fn:
            p[name] = trial.suggest_float(name, lo, hi)
    return p


def syn_configspace(seed):
    from ConfigSpace import (Categorical, ConfigurationSpace, EqualsCondition, Float)
    cs = ConfigurationSpace(seed=seed)
    fn = Categorical("fn", SYN_BRANCHES)
    cs.add(fn)
    for name, branch, lo, hi in SYN_PARAMS:
        h = Float(name, (lo, hi))
        cs.add(h)
        cs.add(EqualsCondition(h, fn, branch))
    return cs


# ---------------------------------------------------------------- the sklearn problem
SKL_FLOATS = {"svm_C": (1e-2, 1e3), "svm_gamma": (1e-4, 1.0), "lr_C": (1e-3, 1e3)}


def skl_space(flat=False):
    def cond(parent, choices):
        return {} if flat else {"condition": {"parent": parent, "in": choices}}
    return {"params": [
        {"name": "model", "type": "categorical", "choices": ["svm", "rf", "lr"]},
        {"name": "svm_C", "type": "float", "low": 1e-2, "high": 1e3, "log": True,
         **cond("model", ["svm"])},
        {"name": "svm_gamma", "type": "float", "low": 1e-4, "high": 1.0, "log": True,
         **cond("model", ["svm"])},
        {"name": "svm_kernel", "type": "categorical", "choices": ["rbf", "poly"],
         **cond("model", ["svm"])},
        {"name": "svm_degree", "type": "int", "low": 2, "high": 5,
         **cond("svm_kernel", ["poly"])},
        {"name": "rf_trees", "type": "int", "low": 10, "high": 200, "log": True,
         **cond("model", ["rf"])},
        {"name": "rf_depth", "type": "int", "low": 1, "high": 20, **cond("model", ["rf"])},
        {"name": "lr_C", "type": "float", "low": 1e-3, "high": 1e3, "log": True,
         **cond("model", ["lr"])},
        {"name": "lr_penalty", "type": "categorical", "choices": ["l1", "l2"],
         **cond("model", ["lr"])},
    ]}


def skl_active(p):
    keep = {"model"}
    m = p["model"]
    if m == "svm":
        keep |= {"svm_C", "svm_gamma", "svm_kernel"}
        if p["svm_kernel"] == "poly":
            keep.add("svm_degree")
    elif m == "rf":
        keep |= {"rf_trees", "rf_depth"}
    else:
        keep |= {"lr_C", "lr_penalty"}
    return {k: v for k, v in p.items() if k in keep}


_DIGITS = None


def sklearn_error(p):
    global _DIGITS
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVC
    if _DIGITS is None:
        X, y = load_digits(return_X_y=True)
        _DIGITS = (X / 16.0, y)
    X, y = _DIGITS
    m = p["model"]
    if m == "svm":
        est = SVC(C=p["svm_C"], gamma=p["svm_gamma"], kernel=p["svm_kernel"],
                  degree=int(p.get("svm_degree", 3)))
    elif m == "rf":
        est = RandomForestClassifier(n_estimators=int(p["rf_trees"]),
                                     max_depth=int(p["rf_depth"]), random_state=0, n_jobs=1)
    else:
        est = OneVsRestClassifier(LogisticRegression(C=p["lr_C"], penalty=p["lr_penalty"],
                                                     solver="liblinear"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return 1.0 - float(cross_val_score(est, X, y, cv=3).mean())


def skl_optuna(trial):
    m = trial.suggest_categorical("model", ["svm", "rf", "lr"])
    p = {"model": m}
    if m == "svm":
        p["svm_C"] = trial.suggest_float("svm_C", 1e-2, 1e3, log=True)
        p["svm_gamma"] = trial.suggest_float("svm_gamma", 1e-4, 1.0, log=True)
        p["svm_kernel"] = trial.suggest_categorical("svm_kernel", ["rbf", "poly"])
        if p["svm_kernel"] == "poly":
            p["svm_degree"] = trial.suggest_int("svm_degree", 2, 5)
    elif m == "rf":
        p["rf_trees"] = trial.suggest_int("rf_trees", 10, 200, log=True)
        p["rf_depth"] = trial.suggest_int("rf_depth", 1, 20)
    else:
        p["lr_C"] = trial.suggest_float("lr_C", 1e-3, 1e3, log=True)
        p["lr_penalty"] = trial.suggest_categorical("lr_penalty", ["l1", "l2"])
    return p


def skl_configspace(seed):
    from ConfigSpace import (Categorical, ConfigurationSpace, EqualsCondition, Float, Integer)
    cs = ConfigurationSpace(seed=seed)
    model = Categorical("model", ["svm", "rf", "lr"])
    kernel = Categorical("svm_kernel", ["rbf", "poly"])
    hs = {"svm_C": Float("svm_C", (1e-2, 1e3), log=True),
          "svm_gamma": Float("svm_gamma", (1e-4, 1.0), log=True),
          "svm_kernel": kernel,
          "svm_degree": Integer("svm_degree", (2, 5)),
          "rf_trees": Integer("rf_trees", (10, 200), log=True),
          "rf_depth": Integer("rf_depth", (1, 20)),
          "lr_C": Float("lr_C", (1e-3, 1e3), log=True),
          "lr_penalty": Categorical("lr_penalty", ["l1", "l2"])}
    cs.add(model, *hs.values())
    for name, h in hs.items():
        if name == "svm_degree":
            cs.add(EqualsCondition(h, kernel, "poly"))
        else:
            cs.add(EqualsCondition(h, model, name.split("_")[0]))
    return cs


# name: (objective, gpbo space, active filter, optuna define-by-run, ConfigSpace, budget,
#        branch parameter, optimum or None)
PROBLEMS = {
    "synthetic": (synthetic, syn_space, syn_active, syn_optuna, syn_configspace, 100, "fn", 0.0),
    "sklearn": (sklearn_error, skl_space, skl_active, skl_optuna, skl_configspace, 60, "model",
                None),
}


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def run(problem, method, seed):
    f, space_of, active_of, define, configspace, budget, branch, optimum = PROBLEMS[problem]
    values, points = [], []
    start = time.perf_counter()
    if method in ("gpbo", "gpbo-flat"):
        import gpbo
        flat = method == "gpbo-flat"
        study = gpbo.Study(space_of(flat), seed=seed, device="cpu")
        rng = np.random.default_rng([seed, 20])
        specs = {p["name"]: p for p in space_of(True)["params"]}
        for _ in range(budget):
            trial = study.ask()
            p = active_of(trial.params) if flat else trial.params
            v = f(p)
            if flat:
                # The naive flattening: inactive parameters get random values, and the model
                # sees those.
                seen = dict(trial.params)
                for name in set(seen) - set(p):
                    seen[name] = _random_value(specs[name], rng)
                study.tell_failed(trial)
                study.add_trial(seen, v)
            else:
                study.tell(trial, v)
            values.append(v)
            points.append(p)
    elif method in ("gp", "tpe"):
        import optuna
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        sampler = (optuna.samplers.GPSampler(seed=seed) if method == "gp"
                   else optuna.samplers.TPESampler(seed=seed))
        study = optuna.create_study(sampler=sampler)
        for _ in range(budget):
            trial = study.ask()
            p = define(trial)
            v = f(p)
            study.tell(trial, v)
            values.append(v)
            points.append(p)
    elif method == "smac":
        from smac import HyperparameterOptimizationFacade, Scenario
        cs = configspace(seed)
        with tempfile.TemporaryDirectory() as tmp:
            scenario = Scenario(cs, deterministic=True, n_trials=budget, seed=seed,
                                output_directory=os.path.join(tmp, "smac"))

            def target(config, seed: int = 0) -> float:
                p = {k: _plain(v) for k, v in dict(config).items()}
                v = f(p)
                values.append(v)
                points.append(p)
                return v

            smac = HyperparameterOptimizationFacade(scenario, target, overwrite=True,
                                                    logging_level=40)
            smac.optimize()
        values, points = values[:budget], points[:budget]
    else:
        raise SystemExit(f"unknown method {method}")
    i = int(np.argmin(values))
    counts = {}
    for p in points:
        counts[p[branch]] = counts.get(p[branch], 0) + 1
    row = {"problem": problem, "budget": budget, "method": method, "seed": seed,
           "evaluations": len(values), "best_value": values[i], "best_branch": points[i][branch],
           "branch_counts": counts, "seconds_total": time.perf_counter() - start}
    if optimum is not None:
        row["regret"] = max(values[i] - optimum, 0.0)
    return row


def _random_value(spec, rng):
    if spec["type"] == "categorical":
        return spec["choices"][int(rng.integers(len(spec["choices"])))]
    lo, hi = spec["low"], spec["high"]
    if spec["type"] == "int":
        if spec.get("log"):
            return int(min(hi, max(lo, round(math.exp(rng.uniform(math.log(lo - 0.5),
                                                                  math.log(hi + 0.5)))))))
        return int(rng.integers(lo, hi + 1))
    if spec.get("log"):
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    return float(rng.uniform(lo, hi))


def summary(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    groups = {}
    for r in rows:
        groups.setdefault((r["problem"], r["method"]), []).append(r)
    # The best value any run of the problem found: on the sklearn problem many configurations
    # share the lowest error, so "how many seeds reached it" separates methods a median cannot.
    best_known = {}
    for r in rows:
        best_known[r["problem"]] = min(best_known.get(r["problem"], math.inf), r["best_value"])
    out = []
    for (problem, method), rs in sorted(groups.items()):
        best = sorted(r["best_value"] for r in rs)
        q = statistics.quantiles(best, n=4) if len(best) > 1 else [best[0]] * 3
        out.append({"problem": problem, "method": method, "seeds": len(rs),
                    "median_best": statistics.median(best), "q1": q[0], "q3": q[2],
                    "share_best_in_optimal_branch": None if problem != "synthetic" else
                    sum(r["best_branch"] == "hartmann3" for r in rs) / len(rs),
                    "share_at_best_known": sum(r["best_value"] <= best_known[problem] + 1e-9
                                               for r in rs) / len(rs),
                    "median_seconds": statistics.median(r["seconds_total"] for r in rs)})
    return out


def main():
    p = bench_cli.parser()
    p.add_argument("--problems", default="synthetic,sklearn")
    p.add_argument("--methods", default="gpbo,gpbo-flat,gp,tpe,smac")
    p.add_argument("--budget", type=int, help="override the problem's budget (smoke tests)")
    a = p.parse_args()
    if bench_cli.print_summary(a, summary):
        return
    if a.budget:
        for k, v in PROBLEMS.items():
            PROBLEMS[k] = v[:5] + (a.budget,) + v[6:]
    rows = bench_cli.Rows(a)
    for problem in a.problems.split(","):
        for seed in bench_cli.seeds(a):
            for method in a.methods.split(","):
                rows.emit(run(problem, method, seed))


if __name__ == "__main__":
    sys.exit(main())
