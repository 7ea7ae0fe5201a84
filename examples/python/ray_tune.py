"""Ray Tune with gpbo's Optuna sampler: OptunaSearch(sampler=GpboSampler(...)) on a local Ray,
several trials at once. Concurrent trials are RUNNING trials of the Optuna study, which the
sampler conditions on, so no two of them get the same configuration.

    python examples/python/ray_tune.py [--trials 16] [--concurrency 4] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile

import ray
from ray import tune
from ray.tune.search import ConcurrencyLimiter
from ray.tune.search.optuna import OptunaSearch

from gpbo.optuna import GpboSampler


def branin(config: dict) -> dict:
    """A stand-in for a training run: Branin's value, minimum 0.398."""
    x, y = config["x"], config["y"]
    loss = ((y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10)
    return {"loss": loss}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    search = ConcurrencyLimiter(
        OptunaSearch(sampler=GpboSampler(seed=0, device="cpu", n_initial=6),
                     metric="loss", mode="min"),
        max_concurrent=args.concurrency)
    with tempfile.TemporaryDirectory() as storage:
        tuner = tune.Tuner(
            # Half a CPU each, so that `concurrency` trials run at once on two cores.
            tune.with_resources(branin, {"cpu": 2 / args.concurrency}),
            param_space={"x": tune.uniform(-5, 10), "y": tune.uniform(0, 15)},
            tune_config=tune.TuneConfig(search_alg=search, num_samples=args.trials),
            run_config=tune.RunConfig(storage_path=storage, verbose=0),
        )
        results = tuner.fit()
        configs = [r.config for r in results]
        losses = [r.metrics["loss"] for r in results if r.metrics and "loss" in r.metrics]
    ray.shutdown()
    summary = {"trials": len(configs), "completed": len(losses),
               "distinct_configs": len({json.dumps(c, sort_keys=True) for c in configs}),
               "best_loss": min(losses) if losses else None}
    print(json.dumps(summary))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(summary, f)


if __name__ == "__main__":
    main()
