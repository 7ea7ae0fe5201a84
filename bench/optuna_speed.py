#!/usr/bin/env python3
"""Per-trial time of a sampler as the history grows: GpboSampler beside Optuna's GPSampler and
BoTorch's own loop in one command (shared/benchmarks.md's speed anchors: d = 10, a Levy history
of n complete trials, the median over 3 asks of ask + tell), each with its time split, and the
cost of gpbo's Python binding itself on an in-process study.

    pip install optuna torch botorch greenlet
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python bench/optuna_speed.py --n 250,500,1000,2000 --json out.json

GPSampler optimizes its acquisition function with batched L-BFGS-B when `greenlet` is installed
and falls back to a slower sequential loop (with a warning) when it is not: the peer should run
at its best, so the JSON records which one ran (`versions.greenlet`, null when absent).

gpbo's rows: the first ask (no earlier fit), the median of the asks conditioned on the kept
hyperparameters, one refit ask, and the amortized cost of a refit cycle (one refit per 25
trials on these histories). The peers refit at every ask. Summary rows give the peers' median
over gpbo's amortized and refit asks, and their first ask over gpbo's.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import statistics
import sys
import time

import numpy as np
import optuna
from optuna.distributions import FloatDistribution

import gpbo
from gpbo.optuna import GpboSampler

DIM = 10


def levy(x):
    w = 1 + (np.asarray(x) - 1) / 4
    return float(np.sin(np.pi * w[0]) ** 2
                 + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
                 + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2))


def history_points(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n points (uniform in [-10, 10]^10, seeded by n) and their Levy values."""
    rng = np.random.default_rng(n)
    X = np.array([rng.uniform(-10, 10, DIM) for _ in range(n)]).reshape(n, DIM)
    return X, np.array([levy(x) for x in X])


def history(n: int) -> list:
    dists = {f"x{i}": FloatDistribution(-10, 10) for i in range(DIM)}
    X, y = history_points(n)
    return [optuna.trial.create_trial(params={f"x{i}": float(v) for i, v in enumerate(x)},
                                      distributions=dists, value=float(v))
            for x, v in zip(X, y)]


def optuna_ask(study) -> float:
    start = time.perf_counter()
    trial = study.ask()
    x = [trial.suggest_float(f"x{i}", -10, 10) for i in range(DIM)]
    study.tell(trial, levy(x))
    return time.perf_counter() - start


def time_asks(sampler, n: int, asks: int) -> tuple[float, list[float]]:
    study = optuna.create_study(sampler=sampler)
    study.add_trials(history(n))
    seconds = [optuna_ask(study) for _ in range(asks + 1)]
    return seconds[0], seconds[1:]


def time_gpbo(n: int, asks: int) -> dict:
    """GpboSampler: the first ask (a fit from scratch), `asks` asks conditioned on the kept
    hyperparameters, and one refit ask (warm-started, as every 25th ask on histories this long
    is), each with the sampler's time split."""
    sampler = GpboSampler(seed=0, device="cpu")
    study = optuna.create_study(sampler=sampler)
    study.add_trials(history(n))
    first = optuna_ask(study)
    first_split = sampler.last_ask_split
    rest, splits = [], []
    for _ in range(asks):
        rest.append(optuna_ask(study))
        splits.append(sampler.last_ask_split)
    # Bench only: make the refit rule due now (as it is after 25 more trials).
    for kept in sampler._hyper.values():
        kept["n_fit"] -= 25
    refit = optuna_ask(study)
    refit_split = sampler.last_ask_split
    median = statistics.median(rest)
    return {"first_ask_seconds": first, "first_split": first_split,
            "median_seconds_per_trial": median, "asks": rest,
            "median_split": splits[rest.index(sorted(rest)[len(rest) // 2])],
            "refit_ask_seconds": refit, "refit_split": refit_split,
            # One refit per 25 trials at n >= 250 (10% of n is more than 25).
            "amortized_seconds_per_trial": (refit + 24 * median) / 25}


def time_botorch(n: int, asks: int) -> dict:
    """BoTorch's loop as its tutorials write it: a SingleTaskGP (Matern-5/2 ARD, inputs
    normalized, outcome standardized) fitted from scratch each ask by fit_gpytorch_mll, then
    LogExpectedImprovement maximized by optimize_acqf (10 restarts, 512 raw samples), in double
    precision; Levy is negated (BoTorch maximizes)."""
    import torch
    from botorch.acquisition import LogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood

    X, y = history_points(n)
    train_X = torch.tensor(X, dtype=torch.float64)
    train_Y = -torch.tensor(y, dtype=torch.float64).unsqueeze(-1)
    bounds = torch.tensor([[-10.0] * DIM, [10.0] * DIM], dtype=torch.float64)
    seconds, splits = [], []
    for i in range(asks + 1):
        torch.manual_seed(i)
        start = time.perf_counter()
        model = SingleTaskGP(train_X, train_Y, input_transform=Normalize(d=DIM, bounds=bounds),
                             outcome_transform=Standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        fitted = time.perf_counter()
        acq = LogExpectedImprovement(model, best_f=train_Y.max())
        cand, _ = optimize_acqf(acq, bounds=bounds, q=1, num_restarts=10, raw_samples=512)
        end = time.perf_counter()
        seconds.append(end - start)
        splits.append({"fit": fitted - start, "acquisition": end - fitted})
        x = cand.detach().numpy()[0]
        train_X = torch.cat([train_X, cand.detach()])
        train_Y = torch.cat([train_Y, torch.tensor([[-levy(x)]], dtype=torch.float64)])
    rest = seconds[1:]
    return {"first_ask_seconds": seconds[0], "first_split": splits[0],
            "median_seconds_per_trial": statistics.median(rest), "asks": rest,
            "median_split": splits[1 + rest.index(sorted(rest)[len(rest) // 2])]}


def binding_overhead(asks: int = 200) -> dict:
    """Python wall time of Study.ask minus the engine's own time of that ask."""
    space = {"params": [{"name": f"x{i}", "type": "float", "low": -10, "high": 10}
                        for i in range(DIM)]}
    study = gpbo.Study(space, seed=0, n_initial=asks + 10)  # design asks: the engine is quick
    walls = []
    for _ in range(asks):
        start = time.perf_counter()
        t = study.ask()
        walls.append(time.perf_counter() - start)
        study.tell(t, levy([t.params[f"x{i}"] for i in range(DIM)]))
    engine = study.ask_seconds
    overhead = [w - e for w, e in zip(walls, engine)]
    return {"asks": asks, "median_wall_ms": 1e3 * statistics.median(walls),
            "median_engine_ms": 1e3 * statistics.median(engine),
            "median_binding_overhead_ms": 1e3 * statistics.median(overhead)}


def versions() -> dict:
    """The versions of what ran; None for a package that is not installed."""
    found = {"gpbo": gpbo.__version__}
    for name in ("optuna", "torch", "botorch", "gpytorch", "greenlet", "numpy"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    found["python"] = platform.python_version()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", default="250,500,1000,2000")
    parser.add_argument("--asks", type=int, default=3)
    parser.add_argument("--samplers", default="gpbo,gp,botorch")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    installed = versions()
    if "gp" in args.samplers.split(",") and installed["greenlet"] is None:
        print("optuna_speed: greenlet is not installed, so GPSampler runs its slower sequential "
              "L-BFGS-B (pip install greenlet for a fair comparison)", file=sys.stderr)
    rows = []
    for n in (int(v) for v in args.n.split(",")):
        by_name = {}
        for name in args.samplers.split(","):
            if name == "gpbo":
                row = time_gpbo(n, args.asks)
            elif name == "botorch":
                row = time_botorch(n, args.asks)
            else:
                first, rest = time_asks(optuna.samplers.GPSampler(seed=0), n, args.asks)
                row = {"first_ask_seconds": first,
                       "median_seconds_per_trial": statistics.median(rest), "asks": rest}
            row = {"n": n, "d": DIM, "sampler": name, **row}
            by_name[name] = row
            rows.append(row)
            print(json.dumps(row), flush=True)
        if "gpbo" in by_name:
            g = by_name["gpbo"]
            for peer in (p for p in ("gp", "botorch") if p in by_name):
                summary = {
                    "n": n, "peer": peer,
                    # Whole asks, refit included: gpbo's amortized over its refit cycle
                    # against the peer's median (which refits every ask).
                    "speedup_amortized": by_name[peer]["median_seconds_per_trial"]
                    / g["amortized_seconds_per_trial"],
                    "speedup_refit_ask": by_name[peer]["median_seconds_per_trial"]
                    / g["refit_ask_seconds"],
                    "first_ask_ratio": by_name[peer]["first_ask_seconds"]
                    / g["first_ask_seconds"]}
                rows.append(summary)
                print(json.dumps(summary), flush=True)
    overhead = binding_overhead()
    print(json.dumps({"binding": overhead}), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": " ".join(sys.argv), "versions": installed, "rows": rows,
                       "binding": overhead}, f, indent=1)


if __name__ == "__main__":
    main()
