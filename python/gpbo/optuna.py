"""``GpboSampler``: gpbo's engine as an Optuna sampler.

    import optuna
    from gpbo.optuna import GpboSampler
    study = optuna.create_study(sampler=GpboSampler(seed=0))
    study.optimize(objective, n_trials=100)

Relative sampling over Optuna's intersection search space (float, log float, int, log int,
stepped float and int, categoricals of any hashable choices); parameters outside it (conditional
ones, changing ranges) come from an independent sampler, as Optuna's own GPSampler does. The
initial design is gpbo's (relative too: the centre of the box, then Sobol points). RUNNING
trials are conditioned on (their points are shared through the trial's system attributes, so
threads of one process, processes on one Optuna storage and Ray Tune's concurrent trials never
get the same point); FAILED trials are not modelled and their points are not suggested again;
a PRUNED trial of one objective is modelled with its last intermediate value (as Optuna's
GPSampler does, and gpbo's own pruned trials), one without intermediate values as a failed one. The GP's hyperparameters are kept between calls and warm-start the next fit.

Several objectives (``optuna.create_study(directions=[...])``) and constraints (Optuna's
``trial.set_constraint(name, value)`` or ``constraints_func``; a value <= 0 is feasible) run on
gpbo's metric model: one GP per objective and per constraint, LogEHVI (or LogEI) plus the log
probability of feasibility (see "Several metrics" in gpbo's README).
"""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, RandomSampler
from optuna.samplers._base import _process_constraints_after_trial
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study as OptunaStudy
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from . import _api

__all__ = ["GpboSampler"]

# Trial system attributes: the relative params a trial was given (so that other processes see a
# RUNNING trial's point before Optuna stores its params) and where they came from.
_PARAMS_KEY = "gpbo:relative_params"
_SOURCE_KEY = "gpbo:source"
# How often a trial gives way to an earlier trial of another process that chose its point.
_MAX_CLAIMS = 8
# Below this many complete trials every ask fits the GP (a fit costs little there); above, a
# fit runs once the results have grown by _REFIT_GROWTH of the last fit's size or by
# _REFIT_EVERY trials, whichever comes first (the defaults of gpbo serve's warm model).
_REFIT_FROM = 200
_REFIT_GROWTH = 0.1
_REFIT_EVERY = 25


def _refit_due(n_fit: int, n_complete: int) -> bool:
    if n_complete < _REFIT_FROM:
        return True
    due = min(max(math.ceil(_REFIT_GROWTH * n_fit), 1), _REFIT_EVERY)
    return n_complete - n_fit >= due


def _steps(d: FloatDistribution | IntDistribution) -> int | None:
    """The number of grid steps of a stepped distribution (values low + i * step)."""
    if d.step is None or (isinstance(d, IntDistribution) and d.step == 1):
        return None
    return int(round((d.high - d.low) / d.step))


class _Codec:
    """Optuna's distributions as a gpbo space, and values both ways. A stepped float or int is a
    gpbo int over its grid index; a categorical's choices become their indices."""

    def __init__(self, search_space: dict[str, BaseDistribution]):
        self.names = sorted(search_space)
        self.distributions = search_space
        params = []
        for name in self.names:
            d = search_space[name]
            if isinstance(d, CategoricalDistribution):
                params.append({"name": name, "type": "categorical",
                               "choices": [str(i) for i in range(len(d.choices))]})
            elif _steps(d) is not None:
                params.append({"name": name, "type": "int", "low": 0, "high": _steps(d)})
            elif isinstance(d, IntDistribution):
                params.append({"name": name, "type": "int", "low": d.low, "high": d.high,
                               "log": d.log})
            else:
                params.append({"name": name, "type": "float", "low": d.low, "high": d.high,
                               "log": d.log})
        self.space = _api.Space({"params": params})

    def to_gpbo(self, params: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name in self.names:
            d, v = self.distributions[name], params[name]
            if isinstance(d, CategoricalDistribution):
                out[name] = str(d.to_internal_repr(v))
            elif _steps(d) is not None:
                out[name] = int(round((v - d.low) / d.step))
            elif isinstance(d, IntDistribution):
                out[name] = int(v)
            else:
                out[name] = float(min(max(v, d.low), d.high))
        return out

    def to_optuna(self, params: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name in self.names:
            d, v = self.distributions[name], params[name]
            if isinstance(d, CategoricalDistribution):
                out[name] = d.to_external_repr(int(v))
            elif _steps(d) is not None:
                x = d.low + int(v) * d.step
                out[name] = int(x) if isinstance(d, IntDistribution) else float(min(x, d.high))
            elif isinstance(d, IntDistribution):
                out[name] = int(v)
            else:
                out[name] = float(v)
        return out


def _values_of(trial: FrozenTrial, objectives: list[str],
               constraint_keys: list[str]) -> dict[str, float] | None:
    """A complete trial's metric values (objectives, then constraints), or None when one is
    missing or not finite."""
    values = trial.values or []
    constraints = trial.constraints
    if len(values) != len(objectives) or any(k not in constraints for k in constraint_keys):
        return None
    out = dict(zip(objectives, (float(v) for v in values)))
    out.update({f"constraint {k}": float(constraints[k]) for k in constraint_keys})
    return out if all(math.isfinite(v) for v in out.values()) else None


def _relative_params(trial: FrozenTrial) -> dict[str, Any]:
    """A RUNNING trial's point: its params, with the relative ones it was given beforehand."""
    params = dict(trial.params)
    given = trial.system_attrs.get(_PARAMS_KEY)
    if given and not trial.state.is_finished():
        params = {**json.loads(given), **params}
    return params


class GpboSampler(BaseSampler):
    """An Optuna sampler on gpbo's engine.

    Args:
        seed: seed of the engine and of the independent sampler (a random one when None).
        device: "auto", "cpu", "cuda" or "cuda:N".
        batch_method: "auto", "greedy", "qlognei" or "thompson" (how running trials and a
            batch are handled; see gpbo's README).
        independent_sampler: for the parameters outside the relative search space (default:
            ``optuna.samplers.RandomSampler(seed)``).
        constraints_func: as Optuna's samplers take it: the constraint values of a finished
            trial (<= 0 is feasible), stored on the trial after it completes. Constraints set
            with ``trial.set_constraint`` are used without it.
        **options: any other key of gpbo's "Study options" (e.g. ``n_initial=10``,
            ``acquisition="ucb"``, ``gp={"n_starts": 5}``), checked when the sampler is made.
    """

    def __init__(self, seed: int | None = None, device: str = "auto",
                 batch_method: str = "auto", independent_sampler: BaseSampler | None = None,
                 constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
                 **options: Any):
        self._seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63)
        self._options = dict(options, device=device, batch_method=batch_method)
        self._constraints_func = constraints_func
        for key in ("direction", "seed", "metrics"):
            if key in self._options:
                raise ValueError(f"GpboSampler: '{key}' is set by the sampler")
        _api._options_json("minimize", self._seed, self._options)  # checked now
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._search_space = IntersectionSearchSpace()
        self._lock = threading.Lock()
        # Hyperparameters of the last fit, per search space: the next fit starts there.
        self._hyper: dict[str, dict] = {}
        self._reseeds = 0
        # Where the last relative sample's seconds went: "load" (reading the study's trials
        # into the engine), then the engine's "fit", "factor", "acquisition" and "total".
        self.last_ask_split: dict[str, float] = {}

    # Picklable (Ray Tune ships its search algorithm to workers): the lock is made again.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def reseed_rng(self) -> None:
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self._reseeds += 1
        self._independent.reseed_rng()

    def infer_relative_search_space(
        self, study: OptunaStudy, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        # Single-valued distributions have nothing to choose (Optuna fills them in).
        return {name: d for name, d in self._search_space.calculate(study).items()
                if not d.single()}

    def sample_relative(
        self, study: OptunaStudy, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        # One relative sample at a time in this process: a thread's point is written to its
        # trial before the next thread reads the running trials.
        with self._lock:
            load_start = time.perf_counter()
            codec = _Codec(search_space)
            states = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.FAIL, TrialState.PRUNED)
            trials = [t for t in study._get_trials(deepcopy=False, states=states, use_cache=False)
                      if t.number != trial.number]
            directions = ["maximize" if d == StudyDirection.MAXIMIZE else "minimize"
                          for d in study.directions]
            objectives = [f"objective {i}" for i in range(len(directions))]
            # The constraints the complete trials report (Optuna's trial.constraints).
            constraint_keys = sorted({k for t in trials if t.state == TrialState.COMPLETE
                                      for k in t.constraints})
            metrics = None
            if len(directions) > 1 or constraint_keys:
                metrics = {"objectives": [{"name": n, "direction": d}
                                          for n, d in zip(objectives, directions)],
                           "constraints": [{"metric": f"constraint {k}", "<=": 0.0}
                                           for k in constraint_keys]}
            options = dict(self._options, metrics=metrics) if metrics else self._options
            engine = _api.Study(codec.space, direction=directions[0], seed=self._seed,
                                **options)
            key = codec.space.to_json()
            kept = None if metrics else self._hyper.get(key)
            n = n_complete = 0
            for t in trials:
                params = _relative_params(t) if t.state == TrialState.RUNNING else t.params
                if not all(name in params for name in codec.names):
                    continue
                try:
                    point = codec.to_gpbo(params)
                except (ValueError, TypeError):
                    continue  # a value outside this distribution: another search space
                source = t.system_attrs.get(_SOURCE_KEY, "restored")
                if t.state == TrialState.COMPLETE:
                    value = _values_of(t, objectives, constraint_keys) if metrics else t.value
                    if value is None:
                        # Not every metric (a constraint this trial did not report): its point
                        # is not suggested again, as for a failed trial.
                        value, state = None, "failed"
                    elif not metrics and not math.isfinite(value):
                        continue
                    else:
                        state = "complete"
                elif t.state == TrialState.RUNNING:
                    value, state = None, "running"
                elif (t.state == TrialState.PRUNED and not metrics and t.intermediate_values
                      and math.isfinite(t.intermediate_values[max(t.intermediate_values)])):
                    value, state = t.intermediate_values[max(t.intermediate_values)], "pruned"
                else:
                    value, state = None, "failed"
                try:
                    engine.add_trial(point, value, state, source)
                    n += 1
                    n_complete += state == "complete"
                except _api._gpbo.InvalidArgument:
                    continue  # outside this space's bounds
            # The fit: warm-started from the last one; on a long history (gpbo serve's rule)
            # only once the results have grown by 10% or 25 trials, the kept hyperparameters
            # conditioned on in between (one factorization instead of a fit).
            refit = kept is None or _refit_due(kept["n_fit"], n_complete)
            if kept is not None:
                if refit:
                    engine.hyperparameters = kept["h"]
                else:
                    engine.fix_hyperparameters(kept["h"])
            engine.reseed(n + 1000003 * self._reseeds)
            load_seconds = time.perf_counter() - load_start
            try:
                suggested = engine.ask()
            except _api._gpbo.Conflict:
                # Every point of a finite space is taken (by finished or running trials): the
                # independent sampler repeats one, as Optuna's samplers may.
                return {name: self._independent.sample_independent(study, trial, name, d)
                        for name, d in search_space.items()}
            self.last_ask_split = dict(engine.last_ask_split, load=load_seconds)
            hyper = None if metrics else engine.hyperparameters
            if hyper is not None and refit:
                self._hyper[key] = {"h": hyper, "n_fit": n_complete}
            for _ in range(_MAX_CLAIMS):
                params = codec.to_optuna(suggested.params)
                study._storage.set_trial_system_attr(trial._trial_id, _PARAMS_KEY,
                                                     json.dumps(params))
                study._storage.set_trial_system_attr(trial._trial_id, _SOURCE_KEY,
                                                     suggested.source)
                # Another process may have chosen the same point before it could see ours:
                # the later trial gives way and asks again, with that point as running too.
                earlier = self._claimed_earlier(study, trial, params)
                if earlier is None:
                    break
                try:
                    engine.add_trial(codec.to_gpbo(earlier), None, "running", "restored")
                    suggested = engine.ask()
                except _api._gpbo.Error:
                    break
        return params

    @staticmethod
    def _claimed_earlier(study: OptunaStudy, trial: FrozenTrial,
                         params: dict[str, Any]) -> dict[str, Any] | None:
        """The point of an earlier trial that holds `params` too, if any: a RUNNING one, or one
        that finished after this process read the study (a fast objective can finish between
        another process's choice and its check)."""
        states = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
        for t in study._get_trials(deepcopy=False, states=states, use_cache=False):
            if t.number < trial.number:
                theirs = _relative_params(t)
                if all(name in theirs and theirs[name] == v for name, v in params.items()):
                    return params
        return None

    def sample_independent(
        self,
        study: OptunaStudy,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: OptunaStudy, trial: FrozenTrial) -> None:
        self._independent.before_trial(study, trial)

    def after_trial(
        self,
        study: OptunaStudy,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        if self._constraints_func is not None:
            _process_constraints_after_trial(self._constraints_func, study, trial, state)
        self._independent.after_trial(study, trial, state, values)
