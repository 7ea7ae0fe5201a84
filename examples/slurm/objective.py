#!/usr/bin/env python3
"""Branin on x0 in [-5, 10], x1 in [0, 15]; minimum 0.397887 at (-pi, 12.275), (pi, 2.275) and
(9.42478, 2.475).

Usage: objective.py '{"x0": 1.0, "x1": 2.0}'   (or the JSON on stdin when no argument is given).
Prints one float on stdout; a bad input exits non-zero, which the job script reports as a failed
trial.
"""
import json
import math
import sys


def branin(x0: float, x1: float) -> float:
    a, b, c = 1.0, 5.1 / (4.0 * math.pi ** 2), 5.0 / math.pi
    r, s, t = 6.0, 10.0, 1.0 / (8.0 * math.pi)
    return a * (x1 - b * x0 ** 2 + c * x0 - r) ** 2 + s * (1.0 - t) * math.cos(x0) + s


def main() -> int:
    text = sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read()
    params = json.loads(text)
    print(repr(branin(float(params["x0"]), float(params["x1"]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
