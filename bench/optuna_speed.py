#!/usr/bin/env python3
"""Per-trial time of a sampler inside Optuna as the history grows, GpboSampler beside Optuna's
GPSampler in one command (shared/benchmarks.md's speed anchors: d = 10, a Levy history of n
complete trials, the median over 3 asks of ask + tell), and the cost of gpbo's Python binding
itself on an in-process study.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/optuna_speed.py --n 250,500,1000,2000
"""

from __future__ import annotations

import argparse
import json
import statistics
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


def history(n: int) -> list:
    rng = np.random.default_rng(n)
    dists = {f"x{i}": FloatDistribution(-10, 10) for i in range(DIM)}
    trials = []
    for _ in range(n):
        x = rng.uniform(-10, 10, DIM)
        trials.append(optuna.trial.create_trial(
            params={f"x{i}": float(v) for i, v in enumerate(x)}, distributions=dists,
            value=levy(x)))
    return trials


def time_asks(sampler, n: int, asks: int) -> tuple[float, list[float]]:
    study = optuna.create_study(sampler=sampler)
    study.add_trials(history(n))
    seconds = []
    for _ in range(asks + 1):
        start = time.perf_counter()
        trial = study.ask()
        x = [trial.suggest_float(f"x{i}", -10, 10) for i in range(DIM)]
        study.tell(trial, levy(x))
        seconds.append(time.perf_counter() - start)
    return seconds[0], seconds[1:]


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", default="250,500,1000,2000")
    parser.add_argument("--asks", type=int, default=3)
    parser.add_argument("--samplers", default="gpbo,gp")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = []
    for n in (int(v) for v in args.n.split(",")):
        for name in args.samplers.split(","):
            sampler = (GpboSampler(seed=0, device="cpu") if name == "gpbo"
                       else optuna.samplers.GPSampler(seed=0))
            first, rest = time_asks(sampler, n, args.asks)
            row = {"n": n, "d": DIM, "sampler": name, "first_ask_seconds": first,
                   "median_seconds_per_trial": statistics.median(rest), "asks": rest}
            rows.append(row)
            print(json.dumps(row), flush=True)
    overhead = binding_overhead()
    print(json.dumps({"binding": overhead}), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "binding": overhead}, f, indent=1)


if __name__ == "__main__":
    main()
