#!/usr/bin/env python3
"""Multi-objective and constrained test problems in numpy: the same problems as gpbo's C++
TestProblem (include/gpbo/test_problems.hpp) -- same names, metric names, directions, constraint
forms, reference points and best-known values -- and an exact hypervolume, for benchmark drivers
that run Optuna's samplers.

    import mo_problems
    p = mo_problems.make("branincurrin")
    values = p(x)                      # {"branin": ..., "currin": ...}
    p.feasible(values)                 # every constraint met
    mo_problems.hypervolume(front, p.reference_point)

    python3 bench/mo_problems.py --check   # the problems' identities and best-known values

Every objective is minimized; a constraint is (metric, "<=" or ">=", bound) on a metric of its
own. Definitions, reference points and sign conventions follow BoTorch's
botorch/test_functions/multi_objective.py and synthetic.py; see src/functions/test_problems.cpp
for the sources of each best-known value.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

C2_RADIUS = 0.2  # BoTorch's C2DTLZ2._r
BOTORCH_BRANINCURRIN_MAX_HV = 59.36011874867746  # BoTorch's NSGA-II estimate (too low)
BOTORCH_C2DTLZ2_MAX_HV = 0.3996406303723544  # BoTorch's NSGA-II estimate (too low)

_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886],
                         [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650],
                         [4047, 8828, 8732, 5743, 1091, 381]])
H6_OPTIMIZER = np.array([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573])
H6_OPTIMUM = -3.32236801141551


@dataclass(frozen=True)
class Problem:
    """A problem on a box whose evaluation returns every metric by name."""

    name: str
    lower: np.ndarray
    upper: np.ndarray
    objectives: list  # [(metric, "minimize")], in the reference point's order
    constraints: list  # [(metric, "<=" | ">=", bound)]
    reference_point: np.ndarray  # one per objective; empty for a single objective
    best_known: float  # max hypervolume (several objectives) or min feasible value (one)
    evaluate: Callable[[np.ndarray], dict]

    @property
    def dim(self) -> int:
        return len(self.lower)

    def metric_names(self) -> list:
        names = [m for m, _ in self.objectives]
        for m, _, _ in self.constraints:
            if m not in names:
                names.append(m)
        return names

    def __call__(self, x) -> dict:
        x = np.asarray(x, dtype=float)
        if x.shape != (self.dim,):
            raise ValueError(f"test problem '{self.name}' expects {self.dim} coordinates, "
                             f"got shape {x.shape}")
        return self.evaluate(x)

    def feasible(self, values: dict) -> bool:
        for metric, side, bound in self.constraints:
            v = values[metric]
            if not (v <= bound if side == "<=" else v >= bound):
                return False
        return True

    def objective_vector(self, values: dict) -> np.ndarray:
        return np.array([values[m] for m, _ in self.objectives])


# ----------------------------------------------------------------------------- definitions

def branin(a, b):
    """Branin on [-5, 10] x [0, 15]."""
    return ((b - 5.1 / (4 * math.pi**2) * a**2 + 5 / math.pi * a - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * np.cos(a) + 10)


def currin(x0, x1):
    """Currin (1988) on [0, 1]^2; at x1 = 0 the factor's limit is 1."""
    with np.errstate(divide="ignore"):
        factor = 1 - np.exp(-1 / (2 * np.asarray(x1, dtype=float)))
    return (factor * (2300 * x0**3 + 1900 * x0**2 + 2092 * x0 + 60)
            / (100 * x0**3 + 500 * x0**2 + 4 * x0 + 20))


def hartmann6(x):
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def dtlz2(x, m):
    """DTLZ2 (Deb et al. 2005) with m objectives."""
    g = np.sum((x[m - 1:] - 0.5) ** 2)
    f = np.empty(m)
    for i in range(m):
        idx = m - 1 - i
        fi = (1 + g) * np.prod(np.cos(x[:idx] * math.pi / 2))
        if i > 0:
            fi *= math.sin(x[idx] * math.pi / 2)
        f[i] = fi
    return f


def c2dtlz2_slack(f):
    """BoTorch's C2-DTLZ2 slack (feasible when >= 0); it subtracts r^2 per summand, where
    pymoo subtracts it once per bracket."""
    m, r2 = len(f), C2_RADIUS**2
    min1 = min((f[i] - 1) ** 2 + sum(f[j] ** 2 - r2 for j in range(m) if j != i)
               for i in range(m))
    min2 = float(np.sum((f - 1 / math.sqrt(m)) ** 2 - r2))
    return -min(min1, min2)


def c2dtlz2_max_hypervolume(ref=1.1):
    """Closed form for M = 2, r = 0.2: the feasible front is three arcs of the unit circle;
    the quarter circle's hypervolume less what the two gaps between arcs leave undominated."""
    a = 2 * math.asin(C2_RADIUS / 2)
    b = 2 * math.asin(C2_RADIUS * math.sqrt(2) / 2)

    def area(t):
        return 0.5 * (t * math.sqrt(1 - t * t) + math.asin(t))

    def gap(p, q):
        lo, hi = math.cos(p), math.cos(q)
        return math.sin(p) * (hi - lo) - (area(hi) - area(lo))

    return ref * ref - math.pi / 4 - gap(math.pi / 2 - a, math.pi / 4 + b) - gap(math.pi / 4 - b, a)


# ----------------------------------------------------------------------------- the registry

NAMES = ["branincurrin", "zdt1", "dtlz2", "c2dtlz2", "constrained-hartmann6", "gramacy"]
# Gramacy et al. (2016) and BoTorch give 0.5998; SLSQP from 2000 random starts: 0.59978805.
GRAMACY_BEST = 0.59978805
# An epsilon-constraint sweep brackets the maximum in [59.40617, 59.40699] (estimate 59.40657,
# rounded up); see src/functions/test_problems.cpp.
BRANINCURRIN_MAX_HV = 59.4066


def names() -> list:
    return list(NAMES)


def _key(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def make(name: str, dim: int = 0) -> Problem:
    """A problem by name (case-insensitive, '-' and '_' ignored); dim = 0 picks the default.
    ValueError for an unknown name or an unsupported dimension."""
    if dim < 0:
        raise ValueError(f"test problem '{name}': dimension must be >= 0")
    canonical = next((n for n in NAMES if _key(n) == _key(name)), None)
    if canonical is None:
        raise ValueError(f"unknown test problem '{name}'; valid names: {', '.join(NAMES)}")

    def pick(value, fixed, default):
        d = dim or default
        if (d != value) if fixed else (d < value):
            raise ValueError(f"test problem '{canonical}' supports dimension "
                             f"{'' if fixed else '>= '}{value}, got {d}")
        return d

    def unit(d):
        return np.zeros(d), np.ones(d)

    def minimize(*metrics):
        return [(m, "minimize") for m in metrics]

    if canonical == "branincurrin":
        lo, hi = unit(pick(2, True, 2))
        return Problem(canonical, lo, hi, minimize("branin", "currin"), [],
                       np.array([18.0, 6.0]), BRANINCURRIN_MAX_HV,
                       lambda x: {"branin": float(branin(15 * x[0] - 5, 15 * x[1])),
                                  "currin": float(currin(x[0], x[1]))})
    if canonical == "zdt1":
        lo, hi = unit(pick(2, False, 6))

        def zdt1(x):
            g = 1 + 9 * np.mean(x[1:])
            return {"f1": float(x[0]), "f2": float(g * (1 - math.sqrt(x[0] / g)))}

        return Problem(canonical, lo, hi, minimize("f1", "f2"), [], np.array([11.0, 11.0]),
                       121 - 1 / 3, zdt1)
    if canonical == "dtlz2":
        lo, hi = unit(pick(4, False, 6))

        def evaluate(x):
            f = dtlz2(x, 3)
            return {"f1": float(f[0]), "f2": float(f[1]), "f3": float(f[2])}

        return Problem(canonical, lo, hi, minimize("f1", "f2", "f3"), [], np.full(3, 1.1),
                       1.1**3 - math.pi / 6, evaluate)
    if canonical == "c2dtlz2":
        lo, hi = unit(pick(3, False, 4))

        def evaluate(x):
            f = dtlz2(x, 2)
            return {"f1": float(f[0]), "f2": float(f[1]), "c": float(c2dtlz2_slack(f))}

        return Problem(canonical, lo, hi, minimize("f1", "f2"), [("c", ">=", 0.0)],
                       np.full(2, 1.1), c2dtlz2_max_hypervolume(1.1), evaluate)
    if canonical == "constrained-hartmann6":
        lo, hi = unit(pick(6, True, 6))
        return Problem(canonical, lo, hi, minimize("hartmann6"), [("norm", "<=", 1.0)],
                       np.empty(0), H6_OPTIMUM,
                       lambda x: {"hartmann6": hartmann6(x), "norm": float(np.linalg.norm(x))})
    lo, hi = unit(pick(2, True, 2))  # gramacy
    return Problem(canonical, lo, hi, minimize("f"), [("c1", "<=", 0.0), ("c2", "<=", 0.0)],
                   np.empty(0), GRAMACY_BEST,
                   lambda x: {"f": float(x[0] + x[1]),
                              "c1": float(1.5 - x[0] - 2 * x[1]
                                          - 0.5 * math.sin(2 * math.pi * (x[0] ** 2 - 2 * x[1]))),
                              "c2": float(x[0] ** 2 + x[1] ** 2 - 1.5)})


# ----------------------------------------------------------------------------- hypervolume

def hypervolume_2d(points, ref) -> float:
    """The exact area dominated by 2-D points (minimized) below `ref`: a sweep in f1."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    p = p[np.all(p < np.asarray(ref, dtype=float), axis=1)]
    if len(p) == 0:
        return 0.0
    p = p[np.lexsort((p[:, 1], p[:, 0]))]
    best = np.minimum.accumulate(p[:, 1])
    previous = np.concatenate([[ref[1]], best[:-1]])
    return float(np.sum((ref[0] - p[:, 0]) * (previous - best)))


def hypervolume(points, ref) -> float:
    """The exact volume dominated by points (every objective minimized) below `ref`, by slicing
    the last objective (O(n^(m-1) log n)): meant for the fronts of a benchmark run."""
    ref = np.asarray(ref, dtype=float)
    p = np.asarray(points, dtype=float).reshape(-1, len(ref))
    p = p[np.all(p < ref, axis=1)]
    m = len(ref)
    if len(p) == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - p[:, 0].min())
    if m == 2:
        return hypervolume_2d(p, ref)
    p = p[np.argsort(p[:, -1], kind="stable")]
    z = np.append(p[:, -1], ref[-1])
    volume = 0.0
    for i in range(len(p)):
        if z[i + 1] > z[i]:
            volume += hypervolume(p[: i + 1, :-1], ref[:-1]) * (z[i + 1] - z[i])
    return volume


def hypervolume_3d(points, ref) -> float:
    return hypervolume(np.asarray(points, dtype=float).reshape(-1, 3), ref)


# ----------------------------------------------------------------------------- self-check

def _branincurrin_front(n_x0=20001, n_levels=2001):
    """Near-front points of BraninCurrin: for each Currin level c, the x0 of a grid (and its best
    x1) that minimizes Branin subject to currin <= c. Branin is quadratic in x1 and Currin falls
    as x1 grows, so the best x1 is the larger of Branin's minimizer and the least x1 allowed."""
    x0 = np.linspace(0, 1, n_x0)
    a = 15 * x0 - 5
    q = 5.1 / (4 * math.pi**2) * a**2 - 5 / math.pi * a + 6
    ratio = (2300 * x0**3 + 1900 * x0**2 + 2092 * x0 + 60) / (100 * x0**3 + 500 * x0**2
                                                               + 4 * x0 + 20)
    rest = 10 * (1 - 1 / (8 * math.pi)) * np.cos(a)
    xs = []
    for level in np.linspace(0, 6, n_levels)[1:]:
        v = level / ratio
        ok = v >= 1 - math.exp(-0.5)
        with np.errstate(divide="ignore", invalid="ignore"):
            x1_min = np.where(v >= 1, 0.0, -1 / (2 * np.log1p(-np.minimum(v, 1))))
        x1 = np.clip(np.maximum(x1_min, q / 15), 0, 1)
        br = np.where(ok, (15 * x1 - q) ** 2 + rest, np.inf)
        j = int(np.argmin(br))
        if np.isfinite(br[j]):
            xs.append((x0[j], x1[j]))
    return np.array(xs)


def check() -> None:
    """Asserts the problems' identities and best-known values; raises AssertionError."""
    # The hypervolume: small known cases, and 3-D lattice points against counting cells.
    assert hypervolume([[0.0, 0.0]], [1, 1]) == 1.0
    assert abs(hypervolume([[0.2, 0.6], [0.6, 0.2]], [1, 1]) - (0.8 * 0.4 + 0.4 * 0.4)) < 1e-15
    assert hypervolume([[1.0, 0.0]], [1, 1]) == 0.0
    assert abs(hypervolume([[0, .5, .5], [.5, 0, .5], [.5, .5, 0]], [1, 1, 1]) - 0.5) < 1e-15
    rng = np.random.default_rng(0)
    for m in (3, 4):
        pts = rng.integers(0, 8, size=(12, m)) / 8
        cells = (np.stack(np.meshgrid(*[np.arange(8)] * m, indexing="ij"), -1)
                 .reshape(-1, m) + 0.5) / 8  # cell centres of [0, 1]^m
        dominated = np.any(np.all(pts[None, :, :] <= cells[:, None, :], axis=2), axis=1)
        assert abs(hypervolume(pts, np.ones(m)) - dominated.mean()) < 1e-12, m

    # Names, shapes, rejections.
    for name in NAMES:
        p = make(name)
        values = p(0.5 * (p.lower + p.upper))
        assert sorted(values) == sorted(p.metric_names()), name
        assert len(p.reference_point) == (len(p.objectives) if len(p.objectives) > 1 else 0)
        assert all(d == "minimize" for _, d in p.objectives)
    assert [make(n).dim for n in NAMES] == [2, 6, 6, 4, 6, 2]
    assert make("C2-DTLZ2").name == "c2dtlz2" and make("Branin_Currin").name == "branincurrin"
    for bad in (("zdt2", 0), ("zdt1", 1), ("dtlz2", 3), ("c2dtlz2", 2), ("gramacy", 3),
                ("branincurrin", 3), ("constrained-hartmann6", 5), ("zdt1", -1)):
        try:
            make(*bad)
            raise AssertionError(f"make{bad} should fail")
        except ValueError:
            pass

    # BraninCurrin: Branin's minimizer in unit coordinates; Currin's closed values.
    bc = make("branincurrin")
    assert abs(bc([(math.pi + 5) / 15, 2.275 / 15])["branin"] - 0.39788735772973816) < 1e-12
    assert abs(bc([0, 0])["currin"] - 3.0) < 1e-15
    assert abs(bc([0, 1])["currin"] - 3 * (1 - math.exp(-0.5))) < 1e-15
    front = np.array([bc.objective_vector(bc(x)) for x in _branincurrin_front()])
    hv = hypervolume(front, bc.reference_point)
    assert BOTORCH_BRANINCURRIN_MAX_HV + 0.01 < hv, hv
    assert bc.best_known - 0.03 < hv <= bc.best_known, (hv, bc.best_known)

    # ZDT1: on the Pareto set (x_1.. = 0) f2 = 1 - sqrt(f1); its front's hypervolume.
    for d in (2, 6, 30):
        z = make("zdt1", d)
        for x0 in (0.0, 0.09, 0.5, 1.0):
            v = z(np.r_[x0, np.zeros(d - 1)])
            assert abs(v["f2"] - (1 - math.sqrt(v["f1"]))) < 1e-15
            g = 1 + 9 * 0.4  # off the Pareto set: g = 1 + 9 mean(x_1..)
            assert abs(z(np.r_[x0, np.full(d - 1, 0.4)])["f2"] - (g - math.sqrt(x0 * g))) < 1e-12
    z = make("zdt1")
    front = [z.objective_vector(z(np.r_[t, np.zeros(5)])) for t in np.linspace(0, 1, 20001)]
    hv = hypervolume(front, z.reference_point)
    assert z.best_known - 1e-3 < hv <= z.best_known and abs(z.best_known - (120 + 2 / 3)) < 1e-12

    # DTLZ2: |f| = 1 + g, the unit sphere on the Pareto set (x_2.. = 1/2).
    for d in (4, 6, 9):
        p = make("dtlz2", d)
        for _ in range(100):
            x = rng.random(d)
            g = np.sum((x[2:] - 0.5) ** 2)
            assert abs(np.sum(p.objective_vector(p(x)) ** 2) - (1 + g) ** 2) < 1e-12
            x[2:] = 0.5
            assert abs(np.sum(p.objective_vector(p(x)) ** 2) - 1) < 1e-14
    p = make("dtlz2")
    grid = np.linspace(0, 1, 41)
    front = [p.objective_vector(p(np.r_[a, b, 0.5 * np.ones(4)])) for a in grid for b in grid]
    hv = hypervolume(front, p.reference_point)
    assert p.best_known - 0.02 < hv <= p.best_known, (hv, p.best_known)

    # C2-DTLZ2: the slack's sign at disc centres and between discs; the feasible front.
    p = make("c2dtlz2")
    at = lambda x0, rest=0.5: p(np.r_[x0, np.full(p.dim - 1, rest)])  # noqa: E731
    assert abs(at(0.0)["c"] - 0.04) < 1e-15 and p.feasible(at(0.0))
    assert abs(at(0.5)["c"] - 0.08) < 1e-15 and p.feasible(at(0.5))
    assert at(0.25)["c"] < 0 and not p.feasible(at(0.25))
    assert at(0.0, rest=0.0)["c"] < 0 and not p.feasible(at(0.0, rest=0.0))
    front = [p.objective_vector(v) for v in (at(t) for t in np.linspace(0, 1, 100001))
             if p.feasible(v)]
    hv = hypervolume(front, p.reference_point)
    assert p.best_known - 1e-5 < hv <= p.best_known and hv > BOTORCH_C2DTLZ2_MAX_HV, hv

    # Constrained Hartmann6: the norm metric; the global minimizer lies inside the unit ball.
    p = make("constrained-hartmann6")
    v = p(np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))
    assert abs(v["norm"] - math.sqrt(0.91)) < 1e-15 and p.feasible(v)
    assert not p.feasible(p(np.ones(6)))
    v = p(H6_OPTIMIZER)
    assert p.feasible(v) and abs(v["hartmann6"] - p.best_known) < 1e-4

    # Gramacy: a feasible point at the best value; no feasible grid point below it.
    p = make("gramacy")
    v = p(np.array([0.19512268858915166, 0.4046653734209085]))
    assert p.feasible(v) and abs(v["f"] - p.best_known) < 1e-7
    g = np.linspace(0, 1, 1001)
    x0, x1 = np.meshgrid(g, g)
    c1 = 1.5 - x0 - 2 * x1 - 0.5 * np.sin(2 * np.pi * (x0**2 - 2 * x1))
    ok = (c1 <= 0) & (x0**2 + x1**2 - 1.5 <= 0)
    assert (x0 + x1)[ok].min() >= p.best_known
    print("mo_problems: all checks passed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="assert the problems' identities")
    args = parser.parse_args()
    if args.check:
        check()
    else:
        for name in NAMES:
            p = make(name)
            print(f"{name}: dim {p.dim}, objectives {p.objectives}, constraints "
                  f"{p.constraints}, reference point {p.reference_point.tolist()}, "
                  f"best known {p.best_known}")


if __name__ == "__main__":
    main()
