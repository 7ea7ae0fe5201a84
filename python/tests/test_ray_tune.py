"""examples/python/ray_tune.py as a test: Ray Tune's OptunaSearch with GpboSampler on a local
Ray with two CPUs and four concurrent trials; every trial completes and no two concurrent trials
get the same configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray.tune", reason="ray[tune] is not installed")


def test_the_ray_tune_example(tmp_path) -> None:
    source = Path(os.environ.get("GPBO_SOURCE_DIR", Path(__file__).parents[2]))
    out = tmp_path / "summary.json"
    subprocess.run([sys.executable, str(source / "examples/python/ray_tune.py"), "--trials",
                    "16", "--concurrency", "4", "--out", str(out)], check=True, timeout=600,
                   env=dict(os.environ, RAY_ENABLE_UV_RUN_RUNTIME_ENV="0"))
    summary = json.loads(out.read_text())
    assert summary["trials"] == 16
    assert summary["completed"] == 16
    assert summary["distinct_configs"] == 16
    assert summary["best_loss"] < 20  # Branin's values on the box run up to ~300
