"""The Python API over gpbo._gpbo: spaces, trials, studies in memory and in stores."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import _gpbo

_TRIAL_FIELDS = ("id", "state", "params", "value", "worker_id", "source", "created_at",
                 "finished_at", "lease_deadline", "values", "intermediate")


def _dumps(obj: Any) -> str:
    # NaN and infinities are refused here as the engine refuses them everywhere.
    try:
        return json.dumps(obj, allow_nan=False)
    except ValueError as e:
        raise _gpbo.InvalidArgument(f"not finite: {e}") from None


def _plain(value: Any) -> Any:
    """NumPy scalars to Python ones, so that json can write them."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _params_json(params: Mapping[str, Any]) -> str:
    if not isinstance(params, Mapping):
        raise _gpbo.InvalidArgument(f"params must be a mapping of names to values, got {params!r}")
    return _dumps({str(k): _plain(v) for k, v in params.items()})


def _fixed_json(fixed: Mapping[str, Any] | None) -> str:
    if fixed is None:
        return ""
    if not isinstance(fixed, Mapping):
        raise _gpbo.InvalidArgument(f"fixed must be a mapping of names to values, got {fixed!r}")
    return _dumps({str(k): _plain(v) for k, v in fixed.items()})


@dataclasses.dataclass(frozen=True)
class Trial:
    """One evaluation: ``params`` maps names to Python ``float``/``int``/``str``; ``value`` is
    set once the trial is complete (the objective's; unset with several objectives); ``values``
    holds every metric's value in a study with metrics; times are Unix seconds (0 when not
    set)."""

    id: int
    state: str
    params: dict
    value: float | None = None
    worker_id: str = ""
    source: str = ""
    created_at: float = 0.0
    finished_at: float = 0.0
    lease_deadline: float = 0.0
    values: dict | None = None
    #: The intermediate values the trial reported, ``[[step, value], ...]`` (``report_value``).
    intermediate: list | None = None

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> "Trial":
        return cls(**{k: d[k] for k in _TRIAL_FIELDS if k in d})


def _trial(text: str) -> Trial:
    return Trial._from_dict(json.loads(text))


def _trials(text: str) -> list[Trial]:
    return [Trial._from_dict(t) for t in json.loads(text)["trials"]]


def _trial_id(trial: Trial | int) -> int:
    return trial.id if isinstance(trial, Trial) else int(trial)


class Space:
    """A search space: float (linear or log), int (linear or log) and categorical parameters,
    in the JSON form the CLI takes (README, "Search spaces in JSON"). Validated on creation
    (``InvalidArgument`` naming the parameter)."""

    def __init__(self, params: Sequence[Mapping[str, Any]] | Mapping[str, Any]):
        document = params if isinstance(params, Mapping) else {"params": list(params)}
        self._json = _gpbo.space_canonical(_dumps(document))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> "Space":
        return cls(document)

    @classmethod
    def from_json(cls, text: str) -> "Space":
        space = cls.__new__(cls)
        space._json = _gpbo.space_canonical(text)
        return space

    def to_json(self) -> str:
        return self._json

    def to_dict(self) -> dict:
        return json.loads(self._json)

    @property
    def names(self) -> list[str]:
        return [p["name"] for p in self.to_dict()["params"]]

    @property
    def encoded_dim(self) -> int:
        """Dimensions of the encoded unit cube (a categorical takes one per choice)."""
        return _gpbo.space_encoded_dim(self._json)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and other._json == self._json

    def __repr__(self) -> str:
        return f"gpbo.Space({self._json})"


def _space(space: Space | Mapping[str, Any] | Sequence[Mapping[str, Any]] | str) -> Space:
    if isinstance(space, Space):
        return space
    if isinstance(space, str):
        return Space.from_json(space)
    return Space(space)


def _options_json(direction: str | None, seed: int | None, options: Mapping[str, Any]) -> str:
    document = {k: _plain(v) for k, v in options.items()}
    if isinstance(document.get("drift"), str):  # drift="auto" for {"mode": "auto"}
        document["drift"] = {"mode": document["drift"]}
    if direction is not None:  # with metrics, each objective has its own
        document["direction"] = direction
    if seed is not None:
        document["seed"] = seed
    # Checked by the engine's option table: unknown keys, wrong types, values out of range.
    return _gpbo.options_canonical(_dumps(document))


def _values_json(values: Mapping[str, Any]) -> str:
    return _dumps({str(k): float(_plain(v)) for k, v in values.items()})


@dataclasses.dataclass(frozen=True)
class ParetoFront:
    """The feasible complete trials no other one dominates, in id order, with the hypervolume
    they dominate up to ``reference_point`` (one value per objective, in ``objectives`` order;
    each objective's ``reference`` when given, else inferred from the front). With one
    objective: the trials tied for the best feasible value, and no hypervolume."""

    trials: list
    objectives: list
    reference_point: list | None
    hypervolume: float | None


def _pareto(text: str) -> ParetoFront:
    d = json.loads(text)
    return ParetoFront([Trial._from_dict(t) for t in d["trials"]], d["objectives"],
                       d["reference_point"], d["hypervolume"])


def _written(html: str, path: str | None) -> str:
    """`html`, first written to `path` (UTF-8) when one is given."""
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(html)
    return html


def _warm_source(item: Any, names_allowed: bool) -> Any:
    """One warm-start source as the JSON the engine reads: a study's name (stored studies
    only), a ``Study`` or ``StoredStudy`` (its complete trials, copied now), or a source dict
    {"study", "direction", "observations": [{"params", "value"}]}."""
    if isinstance(item, str):
        if not names_allowed:
            raise _gpbo.InvalidArgument(
                "warm_start_from: a study in this process learns from Study objects or source "
                f"dicts, not the name '{item}'")
        return item
    if isinstance(item, (Study, StoredStudy)):
        if isinstance(item, Study):
            label, direction = "study", item.options["direction"]
        else:
            label, direction = item.name, item.info["direction"]
        return {"study": label, "direction": direction,
                "observations": [{"params": dict(t.params), "value": t.value}
                                 for t in item.trials()
                                 if t.state == "complete" and t.value is not None]}
    if isinstance(item, Mapping):
        return dict(item)
    raise _gpbo.InvalidArgument(f"warm_start_from: cannot learn from {item!r}")


def _warm_json(warm_start_from: Any, names_allowed: bool) -> str:
    if warm_start_from is None:
        return ""
    if isinstance(warm_start_from, (str, Mapping, Study, StoredStudy)):
        warm_start_from = [warm_start_from]
    return _dumps([_warm_source(w, names_allowed) for w in warm_start_from])


class Study:
    """A study in this process (C++ ``gpbo::Study``): a Sobol initial design, then a GP and an
    acquisition function. ``options`` are the keys of the README's "Study options" table, e.g.
    ``Study(space, acquisition="ucb", ucb_beta=9, gp={"n_starts": 5}, device="cpu")``.
    Thread-safe (one call at a time)."""

    def __init__(self, space, direction: str | None = None, seed: int = 0,
                 warm_start_from: Any = None, **options: Any):
        """``warm_start_from``: earlier studies to learn from (README, "Warm starts"): a
        ``Study``, a ``StoredStudy`` or a source dict {"study", "direction", "observations":
        [{"params", "value"}]}, or a list of them; their complete trials are copied now."""
        self._space = _space(space)
        self._study = _gpbo.Study(self._space.to_json(), _options_json(direction, seed, options))
        warm = _warm_json(warm_start_from, names_allowed=False)
        if warm:
            self._study.warm_start_from(warm)

    @property
    def transfer_weight(self) -> float:
        """The weight of the earlier studies' prior in the last model fit (0: no warm start,
        or the marginal likelihood dropped it)."""
        return self._study.transfer_weight()

    @property
    def space(self) -> Space:
        return self._space

    @property
    def options(self) -> dict:
        return json.loads(self._study.options())

    @property
    def n_initial(self) -> int:
        """The size of the initial design in use."""
        return self._study.n_initial()

    @property
    def device(self) -> str:
        return self._study.device()

    @property
    def ask_seconds(self) -> list[float]:
        """The engine's own wall-clock seconds of every ask so far (without the binding)."""
        return list(self._study.ask_seconds())

    @property
    def last_ask_split(self) -> dict:
        """Where the last ask's seconds went: {"fit", "factor", "acquisition", "total"} (the
        hyperparameter search, factoring the data, the rest of the model path)."""
        return dict(self._study.last_ask_split())

    def ask(self, q: int | None = None,
            fixed: Mapping[str, Any] | None = None) -> Trial | list[Trial]:
        """The next point as a RUNNING trial, or with ``q`` a list of q distinct points (fewer
        only when a discrete space has fewer left). Every running trial is conditioned on.
        ``fixed`` pins parameters for this ask (``{"layers": 4}``): every new trial carries
        those values exactly; the model still learns from every trial."""
        trials = _trials(self._study.ask(1 if q is None else int(q), _fixed_json(fixed)))
        return trials[0] if q is None else trials

    def tell(self, trial: Trial | int, value: float | Mapping[str, float],
             skip_if_finished: bool = False) -> Trial:
        """Completes a trial with its value, or in a study with metrics with every metric's
        value (``{"acc": 0.93, "latency_ms": 12.5}``). A missing or non-finite value is
        ``InvalidArgument`` (tell a trial that produced none with ``tell_failed``); the same
        value again is a no-op; another value is a ``Conflict`` unless ``skip_if_finished``."""
        if isinstance(value, Mapping):
            return _trial(self._study.tell_values(_trial_id(trial), _values_json(value),
                                                  skip_if_finished))
        return _trial(self._study.tell(_trial_id(trial), float(value), skip_if_finished))

    def tell_failed(self, trial: Trial | int, skip_if_finished: bool = False) -> Trial:
        return _trial(self._study.tell_state(_trial_id(trial), "failed", skip_if_finished))

    def tell_pruned(self, trial: Trial | int, skip_if_finished: bool = False) -> Trial:
        return _trial(self._study.tell_state(_trial_id(trial), "pruned", skip_if_finished))

    def report_value(self, trial: Trial | int, step: int, value: float) -> bool:
        """Reports a running trial's intermediate value (the objective at ``step``: an epoch, a
        number of samples; steps strictly increase per trial) and returns whether the study's
        pruner (option ``pruner``) says to stop it. A worker that stops tells
        ``tell_pruned``: the trial keeps its last intermediate value for the model. A
        non-finite value or a step out of order is ``InvalidArgument``, a finished trial a
        ``Conflict``."""
        return self._study.report_value(_trial_id(trial), int(step), float(value))

    def should_prune(self, trial: Trial | int) -> bool:
        """The pruner's answer for the trial's latest intermediate value (False before any)."""
        return self._study.should_prune(_trial_id(trial))

    def cost(self) -> dict:
        """How much compute the study used: trials by state, ``trial_seconds``, and for trials
        that reported intermediate values the ``steps`` spent against ``steps_full``."""
        return json.loads(self._study.cost())

    def enqueue(self, params: Mapping[str, Any]) -> None:
        """Queues a point for a coming ask, before any suggestion."""
        self._study.enqueue(_params_json(params))

    def add_trial(self, params: Mapping[str, Any], value: float | Mapping[str, float] | None = None,
                  state: str | None = None, source: str = "restored") -> int:
        """Records a trial that ran elsewhere: complete with ``value`` (or every metric's, as a
        mapping), else ``state`` ("failed", "pruned" or "running"). Returns its id."""
        if isinstance(value, Mapping):
            if state not in (None, "complete"):
                raise _gpbo.InvalidArgument(f"add_trial: a {state} trial has no values")
            return self._study.add_trial_values(_params_json(params), _values_json(value), source)
        if state is None:
            state = "complete" if value is not None else "failed"
        if value is not None and not math.isfinite(value):
            raise _gpbo.InvalidArgument("add_trial: the value must be finite")
        return self._study.add_trial(_params_json(params), state,
                                     None if value is None else float(value), source)

    def add_trials(self, params_list: Iterable[Mapping[str, Any]],
                   values: Iterable[float | None]) -> list[int]:
        """Loads an existing history: one complete trial per (params, value) pair (a value of
        None records a failed trial). Validated before anything is added."""
        params_list, values = list(params_list), list(values)
        if len(params_list) != len(values):
            raise _gpbo.InvalidArgument(
                f"add_trials: {len(params_list)} params but {len(values)} values")
        probe = Study(self._space, **{k: v for k, v in self.options.items()
                                      if k not in ("direction", "seed")})
        for p, v in zip(params_list, values):  # the whole history first, on a scratch study
            probe.add_trial(p, v)
        return [self.add_trial(p, v) for p, v in zip(params_list, values)]

    def best(self) -> Trial | None:
        """The best complete trial (with constraints, the best feasible one); ``InvalidArgument``
        with several objectives (see ``pareto``)."""
        text = self._study.best()
        return None if text is None else _trial(text)

    def pareto(self) -> ParetoFront:
        return _pareto(self._study.pareto())

    def outliers(self) -> list[int]:
        """Ids of the complete trials the last model fit left out as outliers (option
        ``robust``): values the GP found implausible. They are kept, never deleted."""
        return list(self._study.outliers())

    def drift(self) -> dict:
        """Drift (option ``drift``): ``{"mode", "shift_threshold", "reevaluations", "checks":
        [{"trial", "z", "shift"}], "shifts": [trial ids]}``, the re-evaluations of the incumbent
        judged so far and the shifts among them."""
        return json.loads(self._study.drift())

    def trials(self) -> list[Trial]:
        return _trials(self._study.trials())

    def trial(self, trial_id: int) -> Trial:
        return _trial(self._study.trial(int(trial_id)))

    def report(self, path: str | None = None, name: str = "study") -> str:
        """The study's report: one self-contained HTML page (written to `path` when given)."""
        return _written(self._study.report(name), path)

    def reseed(self, stream: int) -> None:
        """Restarts the model's random stream at (seed, stream), keeping the initial design."""
        self._study.reseed(int(stream))

    # ---- the encoded form, for NumPy users
    def ask_array(self, q: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``ask(q)`` as arrays: the trial ids and their points encoded in the unit cube
        (q x space.encoded_dim)."""
        ids, X = self._study.ask_array(int(q))
        return np.asarray(ids, dtype=np.int64), np.asarray(X)

    def tell_array(self, ids: Sequence[int], values: Sequence[float]) -> None:
        """``tell`` for each (id, value)."""
        ids, values = np.asarray(ids).ravel(), np.asarray(values, dtype=float).ravel()
        if ids.shape != values.shape:
            raise _gpbo.InvalidArgument("tell_array: ids and values differ in length")
        for i, v in zip(ids.tolist(), values.tolist()):
            self._study.tell(int(i), float(v), False)

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        return np.asarray(self._study.encode(_params_json(params)))

    # ---- the model's hyperparameters, to warm-start another study's fit
    @property
    def hyperparameters(self) -> dict | None:
        h = self._study.warm_start()
        if h is None:
            return None
        lengthscales, rest = h
        outputscale, noise, mean = (float(x) for x in np.asarray(rest))
        return {"lengthscales": np.asarray(lengthscales).tolist(), "outputscale": outputscale,
                "noise": noise, "mean": mean}

    @hyperparameters.setter
    def hyperparameters(self, h: Mapping[str, Any]) -> None:
        """The next fit starts from `h` (a warm start)."""
        self._study.set_warm_start(np.asarray(h["lengthscales"], dtype=float),
                                   np.array([h["outputscale"], h["noise"], h["mean"]], float))

    def fix_hyperparameters(self, h: Mapping[str, Any]) -> None:
        """The coming asks condition the GP on `h` (one factorization) instead of fitting it,
        as gpbo serve's warm model does between its refits."""
        self._study.fix_hyperparameters(np.asarray(h["lengthscales"], dtype=float),
                                        np.array([h["outputscale"], h["noise"], h["mean"]], float))


class StoredStudy:
    """A study in a store or behind ``gpbo serve`` (``open_study``, ``Client.study``): every
    call is one transaction there, shared with every other process and the CLI."""

    def __init__(self, service: Any, name: str):
        self._service = service
        self.name = name
        self._service.get_study(name)  # NotFound now rather than at first use

    @property
    def info(self) -> dict:
        """{"name", "direction", "created_at", "space", "options"}."""
        return json.loads(self._service.get_study(self.name))

    @property
    def space(self) -> Space:
        return Space(self.info["space"])

    def ask(self, q: int | None = None, worker_id: str = "",
            fixed: Mapping[str, Any] | None = None) -> Trial | list[Trial]:
        """RUNNING trials leased to ``worker_id``; a worker that holds running trials gets them
        back. See ``Study.ask`` (``fixed`` too)."""
        trials = _trials(self._service.ask(self.name, 1 if q is None else int(q), worker_id,
                                           _fixed_json(fixed)))
        return trials[0] if q is None else trials

    def tell(self, trial: Trial | int, value: float | Mapping[str, float],
             skip_if_finished: bool = False) -> Trial:
        if isinstance(value, Mapping):
            return _trial(self._service.tell_values(self.name, _trial_id(trial),
                                                    _values_json(value), skip_if_finished))
        return _trial(self._service.tell(self.name, _trial_id(trial), float(value),
                                         skip_if_finished))

    def tell_failed(self, trial: Trial | int, skip_if_finished: bool = False) -> Trial:
        return _trial(self._service.tell_state(self.name, _trial_id(trial), "failed",
                                               skip_if_finished))

    def tell_pruned(self, trial: Trial | int, skip_if_finished: bool = False) -> Trial:
        return _trial(self._service.tell_state(self.name, _trial_id(trial), "pruned",
                                               skip_if_finished))

    def heartbeat(self, trial: Trial | int) -> Trial:
        return _trial(self._service.heartbeat(self.name, _trial_id(trial)))

    def report_value(self, trial: Trial | int, step: int, value: float) -> bool:
        """See ``Study.report_value``; also renews the trial's lease."""
        return self._service.report_value(self.name, _trial_id(trial), int(step), float(value))

    def should_prune(self, trial: Trial | int) -> bool:
        return self._service.should_prune(self.name, _trial_id(trial))

    def cost(self) -> dict:
        """See ``Study.cost``."""
        return json.loads(self._service.cost(self.name))

    def enqueue(self, params: Mapping[str, Any]) -> None:
        self._service.enqueue(self.name, _params_json(params))

    def add_trials(self, params_list: Iterable[Mapping[str, Any]],
                   values: Iterable[float | None]) -> list[Trial]:
        """Loads an existing history in one transaction (a value of None records a failed
        trial); nothing is written when any entry is bad."""
        params_list, values = list(params_list), list(values)
        if len(params_list) != len(values):
            raise _gpbo.InvalidArgument(
                f"add_trials: {len(params_list)} params but {len(values)} values")
        items = []
        for p, v in zip(params_list, values):
            item = {"params": {str(k): _plain(x) for k, x in p.items()}}
            if v is None:
                item["state"] = "failed"
            elif isinstance(v, Mapping):
                item["values"] = {str(k): float(_plain(x)) for k, x in v.items()}
            else:
                item["value"] = float(v)
            items.append(item)
        return _trials(self._service.add_trials(self.name, _dumps({"trials": items})))

    def best(self) -> Trial | None:
        text = self._service.best(self.name)
        return None if text is None else _trial(text)

    def pareto(self) -> ParetoFront:
        return _pareto(self._service.pareto(self.name))

    def outliers(self) -> list[int]:
        """Ids of the trials the last model-based ask left out as outliers (option ``robust``);
        they are kept, never deleted."""
        return list(self._service.outliers(self.name))

    def drift(self) -> dict:
        """Drift (option ``drift``): the re-evaluations judged so far and the shifts among them,
        as ``Study.drift``; each shift is also a "shift" entry of the study's log."""
        return json.loads(self._service.drift(self.name))

    def trials(self) -> list[Trial]:
        return _trials(self._service.trials(self.name))

    def trial(self, trial_id: int) -> Trial:
        return _trial(self._service.trial(self.name, int(trial_id)))

    def report(self, path: str | None = None) -> str:
        """The study's report: one self-contained HTML page (written to `path` when given)."""
        return _written(self._service.report(self.name), path)

    def log(self) -> list[dict]:
        """The append-only log: {"time", "event", "trial_id", "worker_id", "detail", "writer",
        "seq", "prev_hash", "hash"} each (a hash chain: see ``verify``)."""
        return json.loads(self._service.log(self.name))["log"]

    def verify(self) -> dict:
        """Checks the log's hash chain and the trials against the log: {"ok", "entries",
        "trials", "head", "problem"}; "problem" is None when intact, else {"kind", "position",
        "seq", "event", "trial_id", "field", "message"} of the first thing wrong."""
        return json.loads(self._service.verify(self.name))


def _create_or_open(service: Any, name: str, space, direction: str | None, seed: int | None,
                    options: Mapping[str, Any], load_if_exists: bool,
                    warm_start_from: Any = None) -> StoredStudy:
    if space is not None:
        try:
            service.create_study(name, _space(space).to_json(),
                                 _options_json(direction, seed, options),
                                 _warm_json(warm_start_from, names_allowed=True))
        except _gpbo.Conflict:
            if not load_if_exists:
                raise
    return StoredStudy(service, name)


def open_study(storage: str, name: str, space=None, direction: str | None = None,
               seed: int | None = None, load_if_exists: bool = True, warm_model: bool = False,
               warm_start_from: Any = None, **options: Any) -> StoredStudy:
    """A study in a store: ``sqlite:///path.db``, ``postgresql://...`` or ``memory://``. With
    ``space`` it is created when missing (an existing one is opened unless
    ``load_if_exists=False``); without, it must exist (``NotFound``). ``warm_model=True`` keeps
    the GP's hyperparameters and its Cholesky factor in this process between asks, as ``gpbo
    serve`` does: an ask appends the trials completed since instead of factoring all of them.
    ``warm_start_from`` (a new study only): earlier studies to learn from, by name in the same
    store, or as ``Study``/``StoredStudy`` objects or source dicts (README, "Warm starts")."""
    service = _gpbo.Service.local(storage, warm_model)
    return _create_or_open(service, name, space, direction, seed, options, load_if_exists,
                           warm_start_from)


class Client:
    """A client of ``gpbo serve``: ``Client("https://host:8470", token=...)``.

    An https:// server's certificate is verified against the system's CAs, or against
    ``ca_file`` (a PEM file: a private CA). A token is not sent over http:// to a host that is
    not loopback unless ``insecure_http=True``. ``worker_id`` is sent with tell and heartbeat:
    a server's worker token may only report the trials its worker id was given by ask."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 300.0,
                 ca_file: str | None = None, insecure_http: bool = False,
                 worker_id: str | None = None):
        self._service = _gpbo.Service.remote(url, token or "", timeout, ca_file or "",
                                             insecure_http, worker_id or "")

    def study(self, name: str) -> StoredStudy:
        return StoredStudy(self._service, name)

    def create_study(self, name: str, space, direction: str | None = None,
                     seed: int | None = None, load_if_exists: bool = False,
                     warm_start_from: Any = None, **options: Any) -> StoredStudy:
        return _create_or_open(self._service, name, space, direction, seed, options,
                               load_if_exists, warm_start_from)

    def studies(self) -> list[dict]:
        return json.loads(self._service.list_studies())["studies"]

    def delete_study(self, name: str) -> None:
        self._service.delete_study(name)
