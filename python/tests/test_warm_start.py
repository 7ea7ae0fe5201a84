"""Warm starts from earlier studies in Python: a Study learning from another Study, a stored
study from a study of the same store by name (surviving a reopen of the store and the source's
deletion), and bad sources refused with InvalidArgument."""

from __future__ import annotations

import json

import pytest

import gpbo

SPACE = {"params": [
    {"name": "x", "type": "float", "low": -2.0, "high": 2.0},
    {"name": "k", "type": "int", "low": 1, "high": 5}]}
OTHER = {"params": [{"name": "lr", "type": "float", "low": 0.001, "high": 0.1}]}


def objective(p: dict) -> float:
    return (p["x"] - 0.7) ** 2 + 0.2 * p["k"]


def run(study, n: int) -> None:
    for _ in range(n):
        t = study.ask()
        study.tell(t, objective(t.params))


def test_study_learns_from_another_study() -> None:
    source = gpbo.Study(SPACE, seed=1, device="cpu")
    run(source, 15)
    warm = gpbo.Study(SPACE, seed=2, device="cpu", warm_start_from=[source])
    assert warm.n_initial == 3
    first = warm.ask()
    assert first.params == source.best().params
    warm.tell(first, objective(first.params))
    run(warm, 4)
    assert warm.transfer_weight > 0.0
    cold = gpbo.Study(SPACE, seed=2, device="cpu")
    assert cold.n_initial > 1
    assert gpbo.Study(SPACE, seed=2, device="cpu").transfer_weight == 0.0
    # A source dict: the same observations, given as data.
    as_dict = {"study": "old", "direction": "minimize",
               "observations": [{"params": t.params, "value": t.value}
                                for t in source.trials() if t.state == "complete"]}
    assert gpbo.Study(SPACE, seed=2, warm_start_from=as_dict).ask().params == first.params


def test_stored_study_learns_from_a_study_of_its_store(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    source = gpbo.open_study(url, "src", SPACE, seed=1, device="cpu")
    run(source, 10)
    best = source.best().params
    warm = gpbo.open_study(url, "warm", SPACE, warm_start_from="src", device="cpu")
    assert warm.ask().params == best
    gpbo.open_study(url, "src").trials()  # still there
    store = gpbo._gpbo.Service.local(url, False)
    store.delete_study("src")
    reopened = gpbo.open_study(url, "warm")  # a fresh handle on the same file
    t = reopened.trials()[0]
    reopened.tell(t, objective(t.params))
    run(reopened, 2)  # the centre and a Sobol point
    assert reopened.ask().source == "model"


def test_bad_sources_are_refused(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    run(gpbo.open_study(url, "src", SPACE, device="cpu"), 3)
    for name, space, warm, message in [
            ("bad", SPACE, "missing", "no study 'missing'"),
            ("bad", SPACE, "bad", "cannot learn from itself"),
            ("bad", OTHER, "src", "no parameter of the source matches"),
            ("bad", SPACE, ["src", "src"], "listed twice")]:
        with pytest.raises(gpbo.InvalidArgument, match=message):
            gpbo.open_study(url, name, space, warm_start_from=warm)
    assert [s["name"] for s in json.loads(gpbo._gpbo.Service.local(url, False).list_studies())[
        "studies"]] == ["src"]
    with pytest.raises(gpbo.InvalidArgument, match="not the name"):
        gpbo.Study(SPACE, warm_start_from="src")
    with pytest.raises(gpbo.InvalidArgument, match="no complete trial"):
        gpbo.Study(SPACE, warm_start_from=gpbo.Study(SPACE))
    with pytest.raises(gpbo.InvalidArgument):
        gpbo.Study(SPACE, warm_start_from={"study": "x", "observations": "no"})
