"""GpboSampler against Optuna's own sampler conformance suite, unchanged, and the behaviours
the suite does not cover: running trials, threads and processes, reseeding, warm state."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import optuna
import pytest
from optuna.testing.pytest_samplers import (
    BasicSamplerTestCase,
    MultiObjectiveSamplerTestCase,
    RelativeSamplerTestCase,
)

from gpbo.optuna import GpboSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)


class TestGpboSamplerConformance(BasicSamplerTestCase, RelativeSamplerTestCase):
    """Every test of Optuna's BasicSamplerTestCase and RelativeSamplerTestCase."""

    @pytest.fixture
    def sampler(self):
        return lambda: GpboSampler(seed=0, device="cpu")


def branin(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 10)
    y = trial.suggest_float("y", 0, 15)
    return ((y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10)


def test_it_optimizes_and_is_reproducible() -> None:
    runs = []
    for _ in range(2):
        study = optuna.create_study(sampler=GpboSampler(seed=3, device="cpu"))
        study.optimize(branin, n_trials=25)
        runs.append([t.params for t in study.trials])
        assert study.best_value < 0.5  # the optimum is 0.398
    assert runs[0] == runs[1]


def test_the_time_split_of_the_last_sample_adds_up() -> None:
    sampler = GpboSampler(seed=1, device="cpu", n_initial=5)
    study = optuna.create_study(sampler=sampler)
    study.optimize(branin, n_trials=5)
    assert sampler.last_ask_split["fit"] == 0.0  # the initial design: no model
    study.optimize(branin, n_trials=1)
    split = sampler.last_ask_split
    assert set(split) == {"load", "fit", "factor", "acquisition", "total"}
    assert split["fit"] > 0 and split["factor"] > 0 and split["load"] > 0
    assert math.isclose(split["fit"] + split["factor"] + split["acquisition"], split["total"],
                        rel_tol=1e-9)


def test_every_parameter_type_comes_back_as_optuna_expects() -> None:
    def objective(trial: optuna.Trial) -> float:
        a = trial.suggest_float("a", -1, 1)
        b = trial.suggest_float("b", 1e-4, 1, log=True)
        c = trial.suggest_float("c", 0, 2, step=0.25)
        d = trial.suggest_int("d", 1, 9)
        e = trial.suggest_int("e", 1, 1000, log=True)
        f = trial.suggest_int("f", 0, 30, step=3)
        g = trial.suggest_categorical("g", [None, True, 2.5, "x", 7])
        assert isinstance(a, float) and isinstance(b, float) and isinstance(c, float)
        assert type(d) is int and type(e) is int and type(f) is int
        assert c in [i * 0.25 for i in range(9)] and f % 3 == 0
        return a + b + c + d + math.log(e) + f + (0.5 if g == "x" else 0)

    study = optuna.create_study(sampler=GpboSampler(seed=1, device="cpu", n_initial=5))
    study.optimize(objective, n_trials=15)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    sources = {t.system_attrs.get("gpbo:source") for t in study.trials[1:]}
    assert {"initial", "model"} <= sources  # the relative design, then the model


def test_threads_never_get_the_same_point() -> None:
    study = optuna.create_study(sampler=GpboSampler(seed=0, device="cpu", n_initial=6))
    study.optimize(branin, n_trials=24, n_jobs=4)
    points = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(points) == 24 and len(set(points)) == 24


def test_running_trials_are_conditioned_on() -> None:
    study = optuna.create_study(sampler=GpboSampler(seed=0, device="cpu", n_initial=4))
    study.optimize(branin, n_trials=8)
    asked = [study.ask() for _ in range(5)]  # five trials asked, none told
    for t in asked:
        t.suggest_float("x", -5, 10)
        t.suggest_float("y", 0, 15)
    points = [(t.params["x"], t.params["y"]) for t in asked]
    assert len(set(points)) == 5


def test_processes_on_one_storage_never_get_the_same_point(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/optuna.db"
    optuna.create_study(study_name="shared", storage=url)
    script = f"""
import math, optuna
from gpbo.optuna import GpboSampler
optuna.logging.set_verbosity(optuna.logging.WARNING)
def branin(trial):
    x = trial.suggest_float("x", -5, 10); y = trial.suggest_float("y", 0, 15)
    return (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10
study = optuna.load_study(study_name="shared", storage="{url}",
                          sampler=GpboSampler(device="cpu", n_initial=4))
study.optimize(branin, n_trials=8)
"""
    env = dict(os.environ)
    workers = [subprocess.Popen([sys.executable, "-c", script], env=env) for _ in range(2)]
    assert all(w.wait(timeout=600) == 0 for w in workers)
    study = optuna.load_study(study_name="shared", storage=url)
    points = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(points) == 16 and len(set(points)) == 16


def test_failed_and_pruned_trials_are_not_modelled_or_repeated() -> None:
    calls = []

    def objective(trial: optuna.Trial) -> float:
        v = branin(trial)
        calls.append((trial.params["x"], trial.params["y"]))
        if len(calls) % 4 == 0:
            raise optuna.TrialPruned()
        if len(calls) % 5 == 0:
            return float("nan")  # Optuna fails it
        return v

    study = optuna.create_study(sampler=GpboSampler(seed=2, device="cpu", n_initial=4))
    study.optimize(objective, n_trials=20, catch=())
    states = {t.state for t in study.trials}
    assert optuna.trial.TrialState.PRUNED in states and optuna.trial.TrialState.FAIL in states
    assert len(set(calls)) == len(calls)


def test_reseed_rng_changes_the_draws_and_keeps_working() -> None:
    sampler = GpboSampler(seed=0, device="cpu")
    study = optuna.create_study(sampler=sampler)
    study.optimize(branin, n_trials=12)
    before = [t.params for t in study.trials]
    sampler.reseed_rng()
    study2 = optuna.create_study(sampler=sampler)
    study2.optimize(branin, n_trials=12)
    assert [t.params for t in study2.trials] != before


def test_the_fit_is_warm_started_between_calls() -> None:
    sampler = GpboSampler(seed=0, device="cpu", n_initial=4)
    study = optuna.create_study(sampler=sampler)
    study.optimize(branin, n_trials=10)
    assert len(sampler._hyper) == 1
    (kept,) = sampler._hyper.values()
    assert len(kept["h"]["lengthscales"]) == 2 and kept["h"]["outputscale"] > 0
    assert kept["n_fit"] == 9  # below 200 trials every ask fits


def test_a_long_history_is_refitted_on_growth_only() -> None:
    from gpbo.optuna import _refit_due

    assert _refit_due(150, 151)  # short histories: every ask
    assert not _refit_due(1000, 1024) and _refit_due(1000, 1025)  # 25 trials
    assert not _refit_due(210, 230) and _refit_due(210, 231)  # 10%
    sampler = GpboSampler(seed=0, device="cpu")
    study = optuna.create_study(sampler=sampler)
    rng = __import__("numpy").random.default_rng(0)
    dists = {"x": optuna.distributions.FloatDistribution(-5, 10),
             "y": optuna.distributions.FloatDistribution(0, 15)}
    for _ in range(220):
        x, y = rng.uniform(-5, 10), rng.uniform(0, 15)
        study.add_trial(optuna.trial.create_trial(params={"x": x, "y": y}, distributions=dists,
                                                  value=(x - 2) ** 2 + (y - 3) ** 2))
    study.optimize(branin, n_trials=3)
    (kept,) = sampler._hyper.values()
    assert kept["n_fit"] == 220  # fitted at the first ask, conditioned on for the next two


def test_bad_options_are_refused_when_the_sampler_is_made() -> None:
    import gpbo

    with pytest.raises(gpbo.InvalidArgument):
        GpboSampler(acquisition="eii")
    with pytest.raises(gpbo.InvalidArgument):
        GpboSampler(device="tpu")
    with pytest.raises(ValueError):
        GpboSampler(direction="maximize")


class TestGpboSamplerMultiObjectiveConformance(MultiObjectiveSamplerTestCase):
    """Optuna's MultiObjectiveSamplerTestCase."""

    @pytest.fixture
    def sampler(self):
        return lambda: GpboSampler(seed=0, device="cpu")


def two_circles(trial: optuna.Trial) -> tuple[float, float]:
    x = trial.suggest_float("x", -1, 2)
    y = trial.suggest_float("y", -1, 2)
    return x * x + y * y, (x - 1) ** 2 + (y - 1) ** 2


def front_hypervolume(study: optuna.Study, reference: list[float]) -> float:
    """The exact hypervolume of a 2-objective minimization front (a sweep)."""
    points = sorted(tuple(t.values) for t in study.best_trials)
    volume, last_f2 = 0.0, reference[1]
    for f1, f2 in points:
        if f1 < reference[0] and f2 < last_f2:
            volume += (reference[0] - f1) * (last_f2 - f2)
            last_f2 = f2
    return volume


def test_several_objectives_run_on_the_metric_model() -> None:
    runs = []
    for _ in range(2):
        study = optuna.create_study(directions=["minimize", "minimize"],
                                    sampler=GpboSampler(seed=1, device="cpu"))
        study.optimize(two_circles, n_trials=24)
        runs.append([t.params for t in study.trials])
        sources = [t.system_attrs.get("gpbo:source") for t in study.trials]
        assert sources.count("model") >= 10, sources
    assert runs[0] == runs[1]
    random = optuna.create_study(directions=["minimize", "minimize"],
                                 sampler=optuna.samplers.RandomSampler(seed=1))
    random.optimize(two_circles, n_trials=24)
    ours, theirs = front_hypervolume(study, [4, 4]), front_hypervolume(random, [4, 4])
    # The true front (the segment from (0,0) to (1,1)) dominates 16 - 1/3 - ... ~ 14.67.
    assert ours > theirs and ours > 14.3, (ours, theirs)
    directions = optuna.create_study(directions=["maximize", "minimize"],
                                     sampler=GpboSampler(seed=1, device="cpu"))
    directions.optimize(lambda t: (-two_circles(t)[0], two_circles(t)[1]), n_trials=16)
    assert len(directions.best_trials) >= 3


def constrained(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", 0, 1)
    y = trial.suggest_float("y", 0, 1)
    trial.set_constraint("product", 0.5 - x * y)  # feasible: x y >= 0.5
    return x + y  # the best feasible: x = y = sqrt(0.5), 1.414


def test_constraints_are_modelled() -> None:
    study = optuna.create_study(sampler=GpboSampler(seed=2, device="cpu"))
    study.optimize(constrained, n_trials=30)
    feasible = [t for t in study.trials if t.constraints["product"] <= 0]
    model = [t for t in study.trials if t.system_attrs.get("gpbo:source") == "model"]
    assert len(model) >= 15
    assert sum(t.constraints["product"] <= 0 for t in model) >= 0.6 * len(model)
    assert min(t.value for t in feasible) < 1.45
    # The same through constraints_func (Optuna's older interface).
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        y = trial.suggest_float("y", 0, 1)
        trial.set_user_attr("c", 0.5 - x * y)
        return x + y
    sampler = GpboSampler(seed=2, device="cpu",
                          constraints_func=lambda t: (t.user_attrs["c"],))
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=30)
    assert all(t.constraints == {"0": t.user_attrs["c"]} for t in study.trials)
    assert min(t.value for t in study.trials if t.user_attrs["c"] <= 0) < 1.45
