"""The Python API: spaces, studies in memory and in stores, the server client, errors; and the
same points as the C++ engine through the CLI for the same seed."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import threading
import time

import numpy as np
import pytest

import gpbo

SPACE = {"params": [
    {"name": "x", "type": "float", "low": -2.0, "high": 2.0},
    {"name": "k", "type": "int", "low": 1, "high": 5},
    {"name": "c", "type": "categorical", "choices": ["a", "b"]}]}


def objective(p: dict) -> float:
    return (p["x"] - 0.5) ** 2 + 0.1 * p["k"] + (0.0 if p["c"] == "a" else 0.3)


def gpbo_cli() -> str:
    path = os.environ.get("GPBO_CLI")
    if not path:
        pytest.skip("GPBO_CLI (the gpbo binary) is not set: run through ctest")
    return path


# ---------------------------------------------------------------- spaces

def test_space_forms_and_validation() -> None:
    space = gpbo.Space.from_dict(SPACE)
    assert space.names == ["x", "k", "c"]
    assert space.encoded_dim == 4
    assert gpbo.Space.from_json(space.to_json()) == space
    assert gpbo.Space(SPACE["params"]) == space
    for bad in ({"params": [{"name": "x", "type": "float", "low": 1, "high": 0}]},
                {"params": [{"name": "x", "type": "tensor"}]},
                [{"name": "", "type": "int", "low": 0, "high": 1}]):
        with pytest.raises(gpbo.InvalidArgument):
            gpbo.Space(bad)
    with pytest.raises(gpbo.InvalidArgument):
        gpbo.Space.from_json("{")


# ---------------------------------------------------------------- a study in memory

def test_ask_tell_best_with_plain_python_values() -> None:
    study = gpbo.Study(SPACE, seed=1, n_initial=4)
    for _ in range(12):
        t = study.ask()
        assert type(t.params["x"]) is float and type(t.params["k"]) is int
        assert type(t.params["c"]) is str
        study.tell(t, objective(t.params))
    best = study.best()
    assert best.state == "complete" and best.value == min(t.value for t in study.trials())
    assert {t.source for t in study.trials()} == {"initial", "model"}
    assert study.n_initial == 4 and study.options["n_initial"] == 4


def test_batches_are_distinct_and_running_trials_are_conditioned_on() -> None:
    study = gpbo.Study(SPACE, seed=2, n_initial=4)
    for t in study.ask(4):
        study.tell(t, objective(t.params))
    batch = study.ask(6)
    points = {json.dumps(t.params, sort_keys=True) for t in batch}
    assert len(points) == 6


def test_tell_rules_are_the_engines() -> None:
    study = gpbo.Study(SPACE, seed=3)
    t = study.ask()
    with pytest.raises(gpbo.InvalidArgument):
        study.tell(t, float("nan"))
    assert study.trial(t.id).state == "running"
    study.tell(t, 1.5)
    study.tell(t, 1.5)  # the same value again: a no-op
    with pytest.raises(gpbo.Conflict):
        study.tell(t, 2.5)
    assert study.tell(t, 2.5, skip_if_finished=True).value == 1.5
    u = study.ask()
    assert study.tell_failed(u).state == "failed"
    with pytest.raises(gpbo.NotFound):
        study.tell(999, 1.0)
    assert issubclass(gpbo.Conflict, gpbo.Error)


def test_options_are_the_option_tables() -> None:
    study = gpbo.Study(SPACE, direction="maximize", seed=7, acquisition="ucb", ucb_beta=9,
                       gp={"n_starts": 2}, trust_region={"n_regions": 2}, device="cpu")
    o = study.options
    assert (o["direction"], o["seed"], o["acquisition"], o["ucb_beta"]) == ("maximize", 7, "ucb", 9)
    assert o["gp"]["n_starts"] == 2 and o["trust_region"]["n_regions"] == 2
    assert study.device == "cpu"
    for bad in ({"acquisition": "eii"}, {"sed": 1}, {"gp": {"n_starts": 0}},
                {"ucb_beta": -1}, {"device": "tpu"}, {"n_initial": 1.5}):
        with pytest.raises(gpbo.InvalidArgument):
            gpbo.Study(SPACE, **bad)
    with pytest.raises(gpbo.InvalidArgument):
        gpbo.Study(SPACE, seed=-1)


def test_enqueue_add_trials_and_the_encoded_form() -> None:
    study = gpbo.Study(SPACE, seed=4, n_initial=3)
    study.enqueue({"x": 0.5, "k": 1, "c": "a"})
    first = study.ask()
    assert first.params == {"x": 0.5, "k": 1, "c": "a"} and first.source == "enqueued"
    with pytest.raises(gpbo.InvalidArgument):
        study.enqueue({"x": 5.0, "k": 1, "c": "a"})
    history = [{"x": -1.0 + 0.4 * i, "k": 1 + i % 5, "c": "ab"[i % 2]} for i in range(5)]
    with pytest.raises(gpbo.InvalidArgument):  # one bad entry: nothing is added
        study.add_trials(history + [{"x": 9.0, "k": 1, "c": "a"}], [1.0] * 6)
    assert len(study.trials()) == 1
    ids = study.add_trials(history, [objective(p) for p in history])
    assert ids == [1, 2, 3, 4, 5]
    ids, X = study.ask_array(3)
    assert X.shape == (3, 4) and np.all((X >= 0) & (X <= 1))
    study.tell_array(ids, [1.0, 2.0, 3.0])
    assert [study.trial(i).value for i in ids] == [1.0, 2.0, 3.0]
    assert np.allclose(study.encode(study.trial(ids[0]).params), X[0])
    h = study.hyperparameters
    assert len(h["lengthscales"]) == 4 and h["outputscale"] > 0
    other = gpbo.Study(SPACE, seed=4)
    other.hyperparameters = h
    assert other.hyperparameters == h


def test_the_gil_is_released_while_the_engine_works() -> None:
    study = gpbo.Study({"params": [{"name": f"x{i}", "type": "float", "low": 0, "high": 1}
                                   for i in range(6)]}, seed=5, n_initial=10)
    rng = np.random.default_rng(0)
    study.add_trials([{f"x{i}": float(v) for i, v in enumerate(rng.random(6))} for _ in range(300)],
                     list(rng.random(300)))
    counted = [0]
    done = threading.Event()

    def count() -> None:
        while not done.is_set():
            counted[0] += 1

    counter = threading.Thread(target=count)
    counter.start()
    start = time.perf_counter()
    study.ask()
    elapsed = time.perf_counter() - start
    done.set()
    counter.join()
    # A Python thread kept running during the ask (with the GIL held it would barely count).
    assert counted[0] > 10000 * max(elapsed, 0.01), (counted[0], elapsed)


def test_threads_share_a_study_safely() -> None:
    study = gpbo.Study(SPACE, seed=6, n_initial=4)
    got: list = []

    def worker() -> None:
        for _ in range(5):
            t = study.ask()
            got.append(json.dumps(t.params, sort_keys=True))
            study.tell(t, objective(t.params))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 20 and len(set(got)) == 20


# ---------------------------------------------------------------- stores and the server

def test_a_stored_study_verifies_its_log_and_finds_an_edited_trial(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "v.db"
    study = gpbo.open_study(f"sqlite:///{path}", "s", SPACE, seed=1, n_initial=10)
    for _ in range(4):
        t = study.ask(worker_id="w")
        study.tell(t, objective(t.params))
    log = study.log()
    assert [e["seq"] for e in log] == list(range(9))
    assert all(e["prev_hash"] == p["hash"] for p, e in zip(log, log[1:]))
    report = study.verify()
    assert report["ok"] and report["problem"] is None
    assert report["entries"] == 9 and report["trials"] == 4 and report["head"] == log[-1]["hash"]
    with sqlite3.connect(path) as db:
        db.execute("UPDATE trials SET value = 42.0 WHERE number = 2")
    report = study.verify()
    assert not report["ok"]
    assert (report["problem"]["kind"], report["problem"]["trial_id"],
            report["problem"]["field"]) == ("trial", 2, "value")


def test_warm_model_keeps_the_factor_between_asks(tmp_path) -> None:
    # warm_model=True: each ask after the first model fit extends the kept Cholesky factor; the
    # ask's log entry says so and splits its time. A handle without one factors every ask.
    space = {"params": [{"name": "x", "type": "float", "low": 0.0, "high": 1.0},
                        {"name": "y", "type": "float", "low": 0.0, "high": 1.0}]}
    url = f"sqlite:///{tmp_path / 'warm.db'}"

    def model_entries(study) -> list:
        return [e["detail"]["model"] for e in study.log()
                if e["event"] == "ask" and "model" in e["detail"]]

    warm = gpbo.open_study(url, "s", space, seed=2, n_initial=4, warm_model=True)
    for _ in range(10):
        t = warm.ask()
        warm.tell(t, (t.params["x"] - 0.3) ** 2 + (t.params["y"] - 0.6) ** 2)
    models = model_entries(warm)
    assert len(models) == 6
    assert not models[0]["resident"]  # the first model ask fits
    # In a study this small the growth rule starts a background refit after nearly every tell,
    # and an ask that meets a swap factors from scratch: how many do depends on the machine's
    # load (two of five once, on a loaded CI run). The exact sequence without refits is checked
    # through the C API (CApiStore.WarmModelKeepsTheFactorBetweenAsks); here, that the warm
    # model reaches Python: some asks extend the kept factor, which a cold handle never does.
    assert any(m["resident"] for m in models[1:])
    assert set(models[-1]["seconds"]) == {"load", "fit", "factor", "acquisition"}
    assert all(v >= 0.0 for v in models[-1]["seconds"].values())
    cold = gpbo.open_study(url, "s")
    t = cold.ask()
    assert not model_entries(cold)[-1]["resident"]
    cold.tell(t, 1.0)


def test_a_model_over_the_memory_limit_is_refused_cleanly(tmp_path) -> None:
    # gp.memory_limit_gb: the ask that would need more fails with InvalidArgument naming n and
    # the option, and adds nothing; a larger limit lets the same study go on.
    space = {"params": [{"name": "x", "type": "float", "low": 0.0, "high": 1.0}]}
    tight = {"memory_limit_gb": 1e-9}
    for study in (gpbo.Study(space, seed=3, n_initial=4, gp=tight),
                  gpbo.open_study(f"sqlite:///{tmp_path / 'mem.db'}", "s", space, seed=3,
                                  n_initial=4, gp=tight)):
        for _ in range(4):
            t = study.ask()
            study.tell(t, t.params["x"])
        with pytest.raises(gpbo.InvalidArgument, match=r"4 observations.*gp\.memory_limit_gb"):
            study.ask()
        assert len(study.trials()) == 4


def test_a_stored_study_with_workers_leases_and_a_log(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    study = gpbo.open_study(url, "s", SPACE, seed=8, n_initial=3, lease_seconds=600)
    with pytest.raises(gpbo.Conflict):
        gpbo.open_study(url, "s", SPACE, load_if_exists=False)
    again = gpbo.open_study(url, "s")  # opened without a space: it exists
    t = study.ask(worker_id="w1")
    assert again.ask(worker_id="w1").id == t.id  # a worker gets its running trial back
    assert study.heartbeat(t).lease_deadline >= t.lease_deadline
    study.tell(t, objective(t.params))
    for _ in range(4):
        u = study.ask()
        study.tell(u, objective(u.params))
    assert study.trials()[-1].source == "model"
    events = [e["event"] for e in study.log()]
    assert events[0] == "create" and events.count("tell") == 5
    model = [e["detail"]["model"] for e in study.log() if "model" in e["detail"]]
    assert model and model[0]["acquisition"] == "logei"
    added = study.add_trials([{"x": 0.1, "k": 2, "c": "a"}, {"x": 0.2, "k": 3, "c": "b"}],
                             [0.5, None])
    assert [a.source for a in added] == ["imported", "imported"]
    assert added[1].state == "failed"
    with pytest.raises(gpbo.NotFound):
        gpbo.open_study(url, "missing")
    with pytest.raises(gpbo.InvalidArgument):
        gpbo.open_study("mysql://x", "s", SPACE)


BOWL = {"params": [{"name": "a", "type": "float", "low": 0.0, "high": 1.0},
                   {"name": "b", "type": "float", "low": 0.0, "high": 1.0}]}


def _tell_bowl_with_one_outlier(study, corrupted: int = 12) -> None:
    for i in range(20):
        t = study.ask()
        v = (t.params["a"] - 0.3) ** 2 + (t.params["b"] - 0.6) ** 2
        study.tell(t, v - 1000.0 if i == corrupted else v)
    study.ask()


def test_outliers_are_left_out_and_listed_in_memory_and_in_a_store(tmp_path) -> None:
    study = gpbo.Study(BOWL, seed=5, device="cpu")
    assert study.options["robust"] == "auto"
    _tell_bowl_with_one_outlier(study)
    assert study.outliers() == [12]
    assert study.trial(12).value < -999  # listed, never changed
    plain = gpbo.Study(BOWL, seed=5, device="cpu", robust="off")
    _tell_bowl_with_one_outlier(plain)
    assert plain.outliers() == []
    stored = gpbo.open_study(f"sqlite:///{tmp_path}/o.db", "o", BOWL, seed=5)
    _tell_bowl_with_one_outlier(stored)
    assert stored.outliers() == [12]
    with pytest.raises(gpbo.InvalidArgument):
        gpbo.Study(BOWL, robust="sometimes")


def test_stepped_parameters_are_suggested_on_their_grid() -> None:
    space = {"params": [{"name": "mix", "type": "float", "low": 0.0, "high": 1.0, "step": 0.05},
                        {"name": "width", "type": "int", "low": 32, "high": 256, "step": 32}]}
    study = gpbo.Study(space, seed=2, device="cpu")
    assert gpbo.Space(space).to_dict()["params"][0]["step"] == 0.05
    for _ in range(4):
        for t in study.ask(3):
            assert t.params["mix"] == round(t.params["mix"] * 20) / 20
            assert (t.params["width"] - 32) % 32 == 0
            study.tell(t, (t.params["mix"] - 0.4) ** 2 + (t.params["width"] - 96) ** 2 / 1e4)
    with pytest.raises(gpbo.InvalidArgument, match="not on its grid"):
        study.add_trial({"mix": 0.33, "width": 64}, 1.0)
    with pytest.raises(gpbo.InvalidArgument, match="multiple of"):
        gpbo.Space([{"name": "x", "type": "float", "low": 0, "high": 1, "step": 0.3}])


CONDITIONAL = {"params": [
    {"name": "optimizer", "type": "categorical", "choices": ["sgd", "adam"]},
    {"name": "momentum", "type": "float", "low": 0.0, "high": 0.99,
     "condition": {"parent": "optimizer", "in": ["sgd"]}},
    {"name": "layers", "type": "int", "low": 1, "high": 4},
    {"name": "units3", "type": "int", "low": 16, "high": 256, "log": True,
     "condition": {"parent": "layers", "low": 3}},
    {"name": "act3", "type": "categorical", "choices": ["relu", "tanh"],
     "condition": {"parent": "units3", "high": 64}}]}


def _active(p: dict) -> set:
    want = {"optimizer", "layers"}
    if p["optimizer"] == "sgd":
        want.add("momentum")
    if p["layers"] >= 3:
        want.add("units3")
        if p["units3"] <= 64:
            want.add("act3")
    return want


def _conditional_loss(p: dict) -> float:
    return 0.1 * p["layers"] + p.get("momentum", 0.5) + (p["act3"] == "tanh" if "act3" in p else 0)


def test_conditional_parameters_in_memory_and_in_a_store(tmp_path) -> None:
    assert gpbo.Space(CONDITIONAL).to_dict() == gpbo.Space(gpbo.Space(CONDITIONAL).to_dict()).to_dict()
    assert gpbo.Space(CONDITIONAL).to_dict()["params"][3]["condition"] == {"parent": "layers", "low": 3}
    study = gpbo.Study(CONDITIONAL, seed=4, device="cpu", n_initial=5)
    stored = gpbo.open_study(f"sqlite:///{tmp_path}/cond.db", "cond", space=CONDITIONAL, seed=4)
    for s in (study, stored):
        for _ in range(5):
            for t in s.ask(2):
                assert set(t.params) == _active(t.params), t.params
                s.tell(t, _conditional_loss(t.params))
        with pytest.raises(gpbo.InvalidArgument, match="'momentum': is inactive"):
            s.enqueue({"optimizer": "adam", "momentum": 0.5, "layers": 1})
        with pytest.raises(gpbo.InvalidArgument, match="'units3': missing"):
            s.enqueue({"optimizer": "adam", "layers": 3})
        s.enqueue({"optimizer": "adam", "layers": 4, "units3": 100})
        assert s.ask(1)[0].params == {"optimizer": "adam", "layers": 4, "units3": 100}
    with pytest.raises(gpbo.InvalidArgument, match="'act3': is inactive"):
        study.add_trial({"optimizer": "adam", "layers": 2, "act3": "relu"}, 1.0)
    reopened = gpbo.open_study(f"sqlite:///{tmp_path}/cond.db", "cond")
    assert reopened.space == gpbo.Space(CONDITIONAL)
    assert all(set(t.params) == _active(t.params) for t in reopened.trials())
    with pytest.raises(gpbo.InvalidArgument, match="parameter 'b'.*can never hold"):
        gpbo.Space([{"name": "a", "type": "int", "low": 1, "high": 3},
                    {"name": "b", "type": "float", "low": 0, "high": 1,
                     "condition": {"parent": "a", "low": 5}}])


SECTIONS = ("summary", "progress", "importance", "slices", "parallel", "provenance", "top")


def test_reports_in_memory_and_in_a_store(tmp_path) -> None:
    study = gpbo.Study(SPACE, seed=2, n_initial=4)
    empty = study.report(name="no trials")
    assert "This study has no trials yet" in empty
    for _ in range(10):
        t = study.ask()
        study.tell(t, objective(t.params))
    path = tmp_path / "memory.html"
    html = study.report(str(path), name="<script>x</script> é")
    assert path.read_text(encoding="utf-8") == html
    assert html.startswith("<!DOCTYPE html>")
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
    assert "<script" not in html and "&lt;script&gt;x&lt;/script&gt; é" in html
    assert "10 trials ran: 10 complete" in html

    stored = gpbo.open_study(f"sqlite:///{tmp_path}/r.db", "stored", SPACE, seed=2, n_initial=4)
    for _ in range(6):
        t = stored.ask(worker_id="py-worker")
        stored.tell(t, objective(t.params))
    html = stored.report(str(tmp_path / "stored.html"))
    assert "<td>py-worker</td>" in html
    assert f"<dt>log entries</dt><dd>{len(stored.log())}</dd>" in html
    with pytest.raises(OSError):
        stored.report(str(tmp_path / "no such folder" / "r.html"))


METRICS = {"objectives": [{"name": "acc", "direction": "maximize"}, {"name": "ms"}],
           "constraints": [{"metric": "ms", "<=": 1.1}]}


def measure(p: dict) -> dict:
    return {"acc": 1.0 - (p["x"] - 0.5) ** 2 - 0.05 * p["k"], "ms": 0.2 * p["k"] + 0.1 * (p["c"] == "b")}


LINEAR = {"params": [
    {"name": "a", "type": "float", "low": 0.0, "high": 1.0},
    {"name": "b", "type": "float", "low": 0.0, "high": 1.0},
    {"name": "layers", "type": "int", "low": 1, "high": 8},
    {"name": "opt", "type": "categorical", "choices": ["sgd", "adam"]}],
    "constraints": [{"terms": {"a": 1, "b": 1}, "<=": 1}],
    "fixed": {"opt": "adam"}}


def test_linear_constraints_and_fixed_values_in_memory_and_in_a_store(tmp_path) -> None:
    space = gpbo.Space(LINEAR)
    assert space.to_dict()["constraints"] == [{"terms": {"a": 1.0, "b": 1.0}, "<=": 1.0}]
    assert space.to_dict()["fixed"] == {"opt": "adam"}
    memory = gpbo.Study(LINEAR, seed=3, n_initial=4)
    stored = gpbo.open_study(f"sqlite:///{tmp_path}/lin.db", "lin", LINEAR, seed=3, n_initial=4)
    assert stored.space == space
    for study in (memory, stored):
        for i in range(8):
            fixed = {"layers": 5} if i % 2 else None
            for t in study.ask(2, fixed=fixed):
                p = t.params
                assert p["a"] + p["b"] <= 1.0, p
                assert p["opt"] == "adam", p
                if fixed:
                    assert p["layers"] == 5, p
                study.tell(t, (p["a"] - 0.7) ** 2 + (p["b"] - 0.7) ** 2 + 0.01 * p["layers"])
        n = len(study.trials())
        for bad in ({"nope": 1}, {"layers": 9}, {"layers": "5"}, {"opt": "rms"},
                    {"a": 0.9, "b": 0.9}, [("layers", 5)]):
            with pytest.raises(gpbo.InvalidArgument):
                study.ask(fixed=bad)
        with pytest.raises(gpbo.InvalidArgument, match=r"constraints\[0\]"):
            study.enqueue({"a": 0.6, "b": 0.6, "layers": 1, "opt": "adam"})
        assert len(study.trials()) == n
    for bad in ({"terms": {"opt": 1}, "<=": 1}, {"terms": {"a": 1}}, {"terms": {"a": 1}, "<=": -1},
                {"terms": {"a": float("nan")}, "<=": 1}):
        with pytest.raises(gpbo.InvalidArgument):
            gpbo.Space({**LINEAR, "constraints": [bad]})


def test_several_metrics_in_memory_and_in_a_store(tmp_path) -> None:
    study = gpbo.Study(SPACE, seed=4, n_initial=4, metrics=METRICS)
    assert study.options["direction"] == "maximize"  # the first objective's
    for _ in range(3):
        for t in study.ask(2):
            done = study.tell(t, measure(t.params))
            assert done.values == pytest.approx(measure(t.params)) and done.value is None
    t = study.ask()
    for bad in ({"acc": 0.5}, {"acc": 0.5, "ms": 0.1, "mem": 1.0}, {"acc": math.nan, "ms": 0.1}):
        with pytest.raises(gpbo.InvalidArgument):
            study.tell(t, bad)
    with pytest.raises(gpbo.InvalidArgument):
        study.tell(t, 0.5)  # several metrics, one value
    study.tell(t, measure(t.params))
    front = study.pareto()
    assert isinstance(front, gpbo.ParetoFront)
    assert front.objectives == ["acc", "ms"] and len(front.reference_point) == 2
    assert front.hypervolume > 0 and all(t.values["ms"] <= 1.1 for t in front.trials)
    with pytest.raises(gpbo.InvalidArgument):
        study.best()
    with pytest.raises(gpbo.InvalidArgument):
        gpbo.Study(SPACE, direction="minimize", metrics=METRICS)  # against the first objective
    added = study.add_trial({"x": 0.5, "k": 1, "c": "a"}, {"acc": 0.95, "ms": 0.2})
    assert study.trial(added).values == {"acc": 0.95, "ms": 0.2}
    assert '<section id="metrics">' in study.report()

    stored = gpbo.open_study(f"sqlite:///{tmp_path}/mo.db", "mo", SPACE, seed=4, n_initial=3,
                             metrics=METRICS)
    for _ in range(6):
        t = stored.ask(worker_id="w")
        stored.tell(t, measure(t.params))
    assert stored.trials()[-1].source == "model"
    assert stored.pareto().hypervolume > 0
    added = stored.add_trials([{"x": 0.5, "k": 1, "c": "a"}], [{"acc": 0.99, "ms": 0.2}])
    assert added[0].values == {"acc": 0.99, "ms": 0.2}
    assert any(t.id == added[0].id for t in stored.pareto().trials)
    with pytest.raises(gpbo.InvalidArgument):
        stored.add_trials([{"x": 0.5, "k": 1, "c": "a"}], [{"acc": 0.99}])
    # One objective with a constraint: best is the best feasible trial.
    one = gpbo.Study(SPACE, seed=1, n_initial=3,
                     metrics={"objectives": [{"name": "loss"}],
                              "constraints": [{"metric": "ms", "<=": 0.5}]})
    for _ in range(8):
        t = one.ask()
        v = measure(t.params)
        one.tell(t, {"loss": -v["acc"], "ms": v["ms"]})
    best = one.best()
    assert best is not None and best.values["ms"] <= 0.5
    assert best.value == min(t.value for t in one.trials() if t.values["ms"] <= 0.5)


def test_the_same_points_as_the_cli_for_the_same_seed(tmp_path) -> None:
    cli = gpbo_cli()
    url = f"sqlite:///{tmp_path}/cli.db"
    space_file = tmp_path / "space.json"
    space_file.write_text(json.dumps(SPACE))
    subprocess.run([cli, "create-study", "--storage", url, "--study", "c", "--space",
                    str(space_file), "--seed", "11", "--n-initial", "3"], check=True,
                   capture_output=True)
    py = gpbo.open_study(f"sqlite:///{tmp_path}/py.db", "c", SPACE, seed=11, n_initial=3)
    for _ in range(6):
        out = subprocess.run([cli, "ask", "--storage", url, "--study", "c"], check=True,
                             capture_output=True, text=True).stdout
        from_cli = json.loads(out)["trials"][0]
        from_py = py.ask()
        assert from_py.params == from_cli["params"]
        value = objective(from_py.params)
        py.tell(from_py, value)
        subprocess.run([cli, "tell", "--storage", url, "--study", "c", "--trial",
                        str(from_cli["id"]), "--value", repr(value)], check=True,
                       capture_output=True)


def test_the_client_verifies_tls_and_roles(tmp_path) -> None:
    cli = gpbo_cli()
    if subprocess.run(["openssl", "version"], capture_output=True).returncode != 0:
        pytest.skip("no openssl CLI")
    for name in ("ca", "other"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(tmp_path / f"{name}.key"),
                        "-out", str(tmp_path / f"{name}.pem")], check=True, capture_output=True)
    tokens = tmp_path / "tokens"

    def mint(name: str, role: str) -> str:
        return subprocess.run([cli, "token", "add", "--file", str(tokens), "--name", name,
                               "--role", role], check=True, capture_output=True,
                              text=True).stdout.strip()

    admin, worker, reader = mint("boss", "admin"), mint("node", "worker"), mint("view", "read")
    server = subprocess.Popen([cli, "serve", "--storage", f"sqlite:///{tmp_path}/tls.db",
                               "--listen", "127.0.0.1:0", "--token-file", str(tokens),
                               "--tls-cert", str(tmp_path / "ca.pem"),
                               "--tls-key", str(tmp_path / "ca.key")],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = re.search(r"listening on (https://\S+)", server.stdout.readline()).group(1)
        ca = str(tmp_path / "ca.pem")
        boss = gpbo.Client(url, token=admin, ca_file=ca)
        study = boss.create_study("t", SPACE, seed=1, n_initial=3)
        node = gpbo.Client(url, token=worker, ca_file=ca, worker_id="n1").study("t")
        t = node.ask(worker_id="n1")
        assert node.tell(t, 1.5).value == 1.5
        assert [s["name"] for s in gpbo.Client(url, token=reader, ca_file=ca).studies()] == ["t"]
        with pytest.raises(gpbo.InvalidArgument, match="forbidden"):
            gpbo.Client(url, token=worker, ca_file=ca).delete_study("t")
        with pytest.raises(gpbo.InvalidArgument, match="unauthorized"):
            gpbo.Client(url, token=reader + "x", ca_file=ca).studies()
        with pytest.raises(gpbo.StorageError, match="could not be verified"):
            gpbo.Client(url, token=admin, ca_file=str(tmp_path / "other.pem")).studies()
        with pytest.raises(gpbo.InvalidArgument, match="clear text"):
            gpbo.Client("http://192.0.2.1:8470", token=admin)
        assert [x.value for x in study.trials()] == [1.5]
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_the_client_of_gpbo_serve(tmp_path) -> None:
    cli = gpbo_cli()
    server = subprocess.Popen([cli, "serve", "--storage", f"sqlite:///{tmp_path}/srv.db",
                               "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        url = re.search(r"listening on (http://\S+)", line).group(1)
        client = gpbo.Client(url)
        study = client.create_study("remote", SPACE, seed=1, n_initial=3)
        assert [s["name"] for s in client.studies()] == ["remote"]
        for _ in range(5):
            t = study.ask(worker_id="w")
            study.tell(t, objective(t.params))
        assert study.best().value == min(t.value for t in study.trials())
        assert study.info["options"]["n_initial"] == 3
        with pytest.raises(gpbo.Conflict):
            study.tell(0, 12345.0)
        with pytest.raises(gpbo.NotFound):
            client.study("nope")
        with pytest.raises(gpbo.InvalidArgument):
            study.enqueue({"x": 99.0, "k": 1, "c": "a"})
        study.add_trials([{"x": 0.0, "k": 1, "c": "a"}], [0.25])
        assert study.best().value == 0.25
        assert any(e["event"] == "import" for e in study.log())
        assert '<section id="provenance"' in study.report(str(tmp_path / "remote.html"))
        client.delete_study("remote")
        assert client.studies() == []
    finally:
        server.terminate()
        server.wait(timeout=60)
    with pytest.raises(gpbo.StorageError):  # nobody listens there any more
        gpbo.Client(url, timeout=5).studies()
