"""Early stopping from Python: report_value answers whether to stop (median and ASHA rules on a
fixed history), bad input raises, a pruned trial keeps its last value, and a stored study keeps
the intermediate values across a reopen and still verifies."""
from __future__ import annotations

import math

import pytest

import gpbo

SPACE = {"params": [{"name": "x", "type": "float", "low": 0.0, "high": 1.0}]}


def test_median_rule_on_a_fixed_history() -> None:
    study = gpbo.Study(SPACE, seed=1, n_initial=20, pruner={"rule": "median", "startup_trials": 2})
    trials = study.ask(5)
    # Complete trials: step 1 values 10, 6, 8 -> median 8.
    for t, v in zip(trials[:3], (10.0, 6.0, 8.0)):
        assert study.report_value(t, 1, v) is False
        study.tell(t, v)
    assert study.report_value(trials[3], 1, 9.0) is True
    assert study.should_prune(trials[3]) is True
    assert study.report_value(trials[4], 1, 7.0) is False
    assert study.trial(trials[3].id).intermediate == [[1, 9.0]]


def test_asha_rule_and_direction() -> None:
    study = gpbo.Study(SPACE, direction="maximize", seed=1, n_initial=20,
                       pruner={"rule": "asha", "reduction_factor": 2, "min_resource": 1})
    a, b = study.ask(2)
    assert study.report_value(a, 1, 5.0) is False
    assert study.report_value(b, 1, 3.0) is True  # [5, 3]: keep the larger one


def test_bad_input_and_finished_trials_raise() -> None:
    study = gpbo.Study(SPACE, seed=2, n_initial=20)
    t = study.ask()
    study.report_value(t, 2, 1.0)
    with pytest.raises(gpbo.InvalidArgument, match="strictly increase"):
        study.report_value(t, 1, 0.5)
    with pytest.raises(gpbo.InvalidArgument):
        study.report_value(t, 2, 0.5)
    with pytest.raises(gpbo.InvalidArgument):
        study.report_value(t, 3, math.nan)
    with pytest.raises(gpbo.NotFound):
        study.report_value(99, 1, 1.0)
    pruned = study.tell_pruned(t)
    assert pruned.state == "pruned" and pruned.value == 1.0
    with pytest.raises(gpbo.Conflict):
        study.report_value(t, 3, 0.5)
    assert study.cost()["pruned"] == 1


def test_stored_reports_survive_a_reopen_and_verify(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    study = gpbo.open_study(url, "s", SPACE, seed=3, n_initial=10, pruner={"rule": "none"})
    t = study.ask(worker_id="w")
    assert study.report_value(t, 1, 0.75) is False
    assert study.report_value(t, 4, 0.5) is False
    again = gpbo.open_study(url, "s")
    assert again.trial(t.id).intermediate == [[1, 0.75], [4, 0.5]]
    with pytest.raises(gpbo.InvalidArgument):
        again.report_value(t, 3, 0.25)
    again.tell(t, 0.4)
    assert again.verify()["ok"]
    cost = again.cost()
    assert (cost["complete"], cost["steps"], cost["steps_full"]) == (1, 4, 4)


def test_the_optuna_sampler_models_pruned_trials() -> None:
    optuna = pytest.importorskip("optuna")
    import gpbo.optuna as gpbo_optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=gpbo_optuna.GpboSampler(seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=2))

    def objective(trial):
        x = trial.suggest_float("x", -2.0, 2.0)
        for step in range(1, 6):
            value = (x - 1.0) ** 2 + 1.0 / step
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(objective, n_trials=15)
    states = [t.state for t in study.trials]
    assert optuna.trial.TrialState.PRUNED in states
    # Every point is new (pruned ones are modelled, not asked again) and the best is found.
    xs = [t.params["x"] for t in study.trials]
    assert len(set(xs)) == len(xs)
    assert study.best_value < 0.3
