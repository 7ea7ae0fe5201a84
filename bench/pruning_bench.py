#!/usr/bin/env python3
"""Early stopping (issue 19, part 3): total steps spent and the final best value, gpbo with and
without pruning (median, ASHA) against Optuna's TPESampler with MedianPruner,
SuccessiveHalvingPruner and no pruner, on the same learning curves and seeds.

    OMP_NUM_THREADS=1 PYTHONPATH=<build>/python python bench/pruning_bench.py \\
        --seeds 10 --jsonl bench/results/cpu-pruning-2026-12-06.jsonl
    python bench/pruning_bench.py --summary bench/results/cpu-pruning-2026-12-06.jsonl

Every run evaluates TRIALS trials one after another; a trial reports its value after each step
1..STEPS and stops when its pruner says so (gpbo: report_value, then tell_pruned; Optuna:
trial.report / should_prune, then state PRUNED). The best value counts complete trials only
(a pruned trial's final value is unknown): the true final value of the best complete trial.

Problems:
- "curves": synthetic exponential-decay learning curves over x in [0, 1]^3,
  y(t) = A(x) + 3 exp(-t / tau(x)) + noise, with asymptote
  A(x) = branin(15 x0 - 5, 15 x1) / 10 + 0.3 (1 - x2) and tau(x) = 1 + 12 x2: slow learners
  (large x2) end better, so a pruner that judges too early loses the optimum. noise ~ N(0,
  0.02) per report (numpy stream seeded by seed and trial); the regret is the noise-free final
  value y(STEPS) of the best complete trial minus the least final value, min_x y(STEPS) =
  0.0397887 + min_x2 [0.3 (1 - x2) + 3 exp(-27 / (1 + 12 x2))] = 0.0397887 + 0.2083270 (at
  x2 = 0.4167, on a grid of 2e6 points).
- "sgd-digits": scikit-learn's SGDClassifier (log loss, elastic net) on its bundled digits data
  (a fixed 75/25 split, standardized), one epoch of partial_fit per step (the epoch's order
  fixed per trial); the value is the validation error (1 - accuracy) after the epoch; params
  alpha (log 1e-6..1e-1), eta0 (log 1e-4..1, constant learning rate), l1_ratio (0..1).

Methods: gpbo-none, gpbo-median, gpbo-asha (gpbo's defaults: median after 5 complete trials,
ASHA with eta 3 and min_resource 1), gpbo-median-unmodelled (the median rule, but a stopped
trial is told failed, so the model does not learn its last value: measures gpbo's choice of
keeping it), tpe-none, tpe-median (MedianPruner(), Optuna's defaults: 5 startup trials, no
warmup), tpe-sha (SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)); TPE with
Optuna's defaults and the run's seed.

One JSON object per run: problem, method, seed, trials, steps, steps_full, pruned, best_value,
regret (curves only), seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time

import numpy as np

TRIALS = 40
STEPS = 27  # 3^3: ASHA's rungs at 1, 3, 9, 27

# ---------------------------------------------------------------- problems


def branin(a, b):
    return ((b - 5.1 / (4 * math.pi**2) * a**2 + 5 / math.pi * a - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(a) + 10)


# The least noise-free final value y(STEPS): Branin's minimum / 10 plus the best trade-off of x2.
CURVES_OPTIMUM = 0.397887 / 10 + 0.2083270


class Curves:
    space = [{"name": f"x{i}", "type": "float", "low": 0.0, "high": 1.0} for i in range(3)]

    def __init__(self, seed):
        self.seed = seed

    def run(self, number, p):
        """A generator of the values at steps 1..STEPS, and the noise-free final value."""
        x = [p["x0"], p["x1"], p["x2"]]
        asymptote = branin(15 * x[0] - 5, 15 * x[1]) / 10 + 0.3 * (1 - x[2])
        tau = 1 + 12 * x[2]
        rng = np.random.default_rng([self.seed, number, 19])
        final = asymptote + 3 * math.exp(-STEPS / tau)

        def values():
            for t in range(1, STEPS + 1):
                yield asymptote + 3 * math.exp(-t / tau) + rng.normal(0, 0.02)

        return values(), final


class SgdDigits:
    space = [
        {"name": "alpha", "type": "float", "low": 1e-6, "high": 1e-1, "log": True},
        {"name": "eta0", "type": "float", "low": 1e-4, "high": 1.0, "log": True},
        {"name": "l1_ratio", "type": "float", "low": 0.0, "high": 1.0},
    ]
    _data = None

    def __init__(self, seed):
        self.seed = seed
        if SgdDigits._data is None:
            from sklearn.datasets import load_digits
            from sklearn.model_selection import train_test_split
            from sklearn.preprocessing import StandardScaler
            X, y = load_digits(return_X_y=True)
            Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=0,
                                                  stratify=y)
            scaler = StandardScaler().fit(Xtr)
            SgdDigits._data = (scaler.transform(Xtr), scaler.transform(Xva), ytr, yva)

    def run(self, number, p):
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import SGDClassifier
        Xtr, Xva, ytr, yva = SgdDigits._data
        clf = SGDClassifier(loss="log_loss", penalty="elasticnet", alpha=p["alpha"],
                            l1_ratio=p["l1_ratio"], learning_rate="constant", eta0=p["eta0"],
                            random_state=0)
        classes = np.unique(ytr)
        order_rng = np.random.default_rng(0)  # the curve is a function of the params
        out = {}

        def values():
            for _ in range(STEPS):
                order = order_rng.permutation(len(ytr))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    warnings.simplefilter("ignore", RuntimeWarning)
                    clf.partial_fit(Xtr[order], ytr[order], classes=classes)
                err = 1.0 - float(np.mean(clf.predict(Xva) == yva))
                out["last"] = err
                yield err

        return values(), None  # the final value is the last one observed


PROBLEMS = {"curves": Curves, "sgd-digits": SgdDigits}

# ---------------------------------------------------------------- methods


def run_gpbo(problem, rule, seed, unmodelled=False):
    import gpbo
    options = {"pruner": {"rule": rule}}
    study = gpbo.Study(gpbo.Space(problem.space), direction="minimize", seed=seed, **options)
    return drive(problem, lambda: gpbo_trial(study, unmodelled))


def gpbo_trial(study, unmodelled):
    t = study.ask()

    def report(step, value):
        return study.report_value(t, step, value)

    def finish(value, pruned):
        if pruned:
            (study.tell_failed if unmodelled else study.tell_pruned)(t)
        else:
            study.tell(t, value)

    return t.params, report, finish


def run_optuna(problem, pruner_name, seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = {
        "none": optuna.pruners.NopPruner(),
        "median": optuna.pruners.MedianPruner(),
        "sha": optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    }[pruner_name]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)

    def new_trial():
        trial = study.ask()
        params = {}
        for p in problem.space:
            params[p["name"]] = trial.suggest_float(p["name"], p["low"], p["high"],
                                                    log=p.get("log", False))

        def report(step, value):
            trial.report(value, step)
            return trial.should_prune()

        def finish(value, pruned):
            if pruned:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(trial, value)

        return params, report, finish

    return drive(problem, new_trial)


def drive(problem, new_trial):
    steps = 0
    pruned = 0
    best = None  # (observed final value, true final value)
    for number in range(TRIALS):
        params, report, finish = new_trial()
        values, true_final = problem.run(number, params)
        stopped = False
        value = None
        for step, value in enumerate(values, start=1):
            steps += 1
            if step < STEPS and report(step, value):
                stopped = True
                break
        if stopped:
            pruned += 1
            finish(value, True)
            continue
        finish(value, False)
        final = value if true_final is None else true_final
        if best is None or value < best[0]:
            best = (value, final)
    return {"steps": steps, "steps_full": TRIALS * STEPS, "pruned": pruned,
            "best_value": best[1] if best else None}


METHODS = {
    "gpbo-none": lambda p, s: run_gpbo(p, "none", s),
    "gpbo-median": lambda p, s: run_gpbo(p, "median", s),
    "gpbo-asha": lambda p, s: run_gpbo(p, "asha", s),
    "gpbo-median-unmodelled": lambda p, s: run_gpbo(p, "median", s, unmodelled=True),
    "tpe-none": lambda p, s: run_optuna(p, "none", s),
    "tpe-median": lambda p, s: run_optuna(p, "median", s),
    "tpe-sha": lambda p, s: run_optuna(p, "sha", s),
}

# ---------------------------------------------------------------- summary


def quartiles(xs):
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def summary(path):
    rows = [json.loads(line) for line in open(path)]
    print("| problem | method | seeds | steps spent (median) | share of full | pruned trials "
          "(median) | final best value, median [Q1, Q3] |")
    print("|---|---|---|---|---|---|---|")
    for problem in PROBLEMS:
        for method in METHODS:
            rs = [r for r in rows if r["problem"] == problem and r["method"] == method]
            if not rs:
                continue
            key = "regret" if problem == "curves" else "best_value"
            # The regret from the best value, against CURVES_OPTIMUM as it is now.
            vals = [r["best_value"] - (CURVES_OPTIMUM if key == "regret" else 0.0)
                    for r in rs if r["best_value"] is not None]
            q1, med, q3 = quartiles(vals)
            steps = statistics.median(r["steps"] for r in rs)
            print(f"| {problem} ({'regret' if key == 'regret' else 'validation error'}) | "
                  f"{method} | {len(rs)} | {steps:.0f} | {steps / rs[0]['steps_full']:.0%} | "
                  f"{statistics.median(r['pruned'] for r in rs):.0f} | "
                  f"{med:.4g} [{q1:.4g}, {q3:.4g}] |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--jsonl")
    ap.add_argument("--summary")
    args = ap.parse_args()
    if args.summary:
        summary(args.summary)
        return 0
    out = open(args.jsonl, "a") if args.jsonl else sys.stdout
    for seed in range(args.seeds):
        for name in args.problems.split(","):
            for method in args.methods.split(","):
                problem = PROBLEMS[name](seed)
                start = time.perf_counter()
                r = METHODS[method](problem, seed)
                r.update(problem=name, method=method, seed=seed, trials=TRIALS,
                         seconds=round(time.perf_counter() - start, 2))
                if name == "curves" and r["best_value"] is not None:
                    r["regret"] = r["best_value"] - CURVES_OPTIMUM
                out.write(json.dumps(r) + "\n")
                out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
