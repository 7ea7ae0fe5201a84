"""Drift from Python: drift="auto" (or the option group) on an in-process and a stored study,
re-evaluations marked "reevaluation" on their cadence, a step in the objective found as a shift
by study.drift(), the stored study's drift checks across a reopen, and bad input raising."""
from __future__ import annotations

import pytest

import gpbo

SPACE = {"params": [{"name": "x", "type": "float", "low": 0.0, "high": 1.0},
                    {"name": "y", "type": "float", "low": 0.0, "high": 1.0}]}


def bowl(params, trial_id, change=0, step=0.0):
    f = (params["x"] - 0.3) ** 2 + (params["y"] - 0.6) ** 2
    return f + (step if change and trial_id >= change else 0.0)


def run(study, n, change=0, step=0.0, **ask):
    for _ in range(n):
        t = study.ask(**ask)
        study.tell(t, bowl(t.params, t.id, change, step))


def test_reevaluations_and_shifts_in_process() -> None:
    assert gpbo.Study(SPACE, drift="auto").options["drift"]["mode"] == "auto"
    study = gpbo.Study(SPACE, seed=7, n_initial=6, device="cpu",
                       drift={"mode": "auto", "reevaluate_every": 5})
    assert study.options["drift"] == {"mode": "auto", "reevaluate_every": 5,
                                      "shift_threshold": 3.0}
    run(study, 50, change=30, step=2.0)
    again = [t.id for t in study.trials() if t.source == "reevaluation"]
    assert again == [9, 14, 19, 24, 29, 34, 39, 44, 49]
    d = study.drift()
    assert d["mode"] == "auto" and d["reevaluations"] >= 8
    assert d["shifts"] and all(s >= 30 for s in d["shifts"])
    assert all(c["shift"] == (abs(c["z"]) > 3.0) for c in d["checks"])


def test_static_study_without_drift_has_no_reevaluation() -> None:
    study = gpbo.Study(SPACE, seed=7, n_initial=6, device="cpu")
    run(study, 15)
    assert all(t.source != "reevaluation" for t in study.trials())
    assert study.drift() == {"mode": "off", "shift_threshold": 3.0, "reevaluations": 0,
                             "checks": [], "shifts": []}


def test_stored_study_keeps_drift_across_a_reopen(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    study = gpbo.open_study(url, "d", SPACE, seed=3, n_initial=6, device="cpu",
                            drift={"mode": "auto", "reevaluate_every": 5})
    run(study, 20, change=12, step=2.0, worker_id="w")
    again = gpbo.open_study(url, "d")
    assert again.info["options"]["drift"]["mode"] == "auto"
    run(again, 20, change=1, step=2.0, worker_id="w")
    d = again.drift()
    assert d["reevaluations"] >= 6
    assert sorted(d["shifts"]) == sorted(
        e["trial_id"] for e in again.log() if e["event"] == "shift")
    assert again.verify()["ok"]


@pytest.mark.parametrize("options", [
    {"drift": "sometimes"},
    {"drift": {"mode": "auto", "reevaluate_every": -1}},
    {"drift": {"shift_threshold": 0}},
    {"drift": {"every": 3}},
    {"drift": "auto", "metrics": {"objectives": [{"name": "a"}, {"name": "b"}]}},
])
def test_bad_drift_options_raise(options) -> None:
    with pytest.raises(gpbo.InvalidArgument):
        gpbo.Study(SPACE, **options)
