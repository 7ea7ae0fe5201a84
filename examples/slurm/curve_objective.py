#!/usr/bin/env python3
"""A training run that reports as it goes: one line "STEP VALUE" per epoch on stdout (flushed),
for examples/slurm/prune_array.sbatch. The curve decays from Branin's value plus 50 towards
Branin's value at (x0, x1); x1 also sets how fast it gets there, so curves cross.

Usage: curve_objective.py '{"x0": 1.0, "x1": 2.0}'   (or the JSON on stdin)
Environment: EPOCHS (default 9), EPOCH_SECONDS (sleep per epoch, default 0: a stand-in for work).
"""
import json
import math
import os
import sys
import time


def branin(x0: float, x1: float) -> float:
    a, b, c = 1.0, 5.1 / (4.0 * math.pi ** 2), 5.0 / math.pi
    r, s, t = 6.0, 10.0, 1.0 / (8.0 * math.pi)
    return a * (x1 - b * x0 ** 2 + c * x0 - r) ** 2 + s * (1.0 - t) * math.cos(x0) + s


def main() -> int:
    text = sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read()
    p = json.loads(text)
    x0, x1 = float(p["x0"]), float(p["x1"])
    epochs = int(os.environ.get("EPOCHS", "9"))
    pause = float(os.environ.get("EPOCH_SECONDS", "0"))
    tau = 1.0 + x1 / 5.0
    for step in range(1, epochs + 1):
        time.sleep(pause)
        print(step, repr(branin(x0, x1) + 50.0 * math.exp(-step / tau)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
