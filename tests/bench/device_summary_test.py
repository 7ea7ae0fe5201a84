#!/usr/bin/env python3
"""bench/device_summary.py on what a capped or failed step leaves: a whole file, one cut short
(as `timeout` leaves Google Benchmark's output), an empty one, a missing one, a cut BoTorch
file, and a results folder it cannot write. Run: python3 tests/bench/device_summary_test.py"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench",
                      "device_summary.py")


def bench_doc(names):
    return {"context": {"date": "2026-12-05", "device": "cuda:0"},
            "benchmarks": [{"name": n, "run_type": "iteration", "iterations": 3,
                            "real_time": 10.0 + i, "cpu_time": 9.0, "time_unit": "ms",
                            "n": 1000.0, "floor_ms": 0.015, "x_floor": 700.0}
                           for i, n in enumerate(names)]}


class DeviceSummaryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def run_summary(self, out, *bench, botorch=None):
        cmd = [sys.executable, SCRIPT, "--out", out, "--table", self.path("table.txt"),
               "--card", "NVIDIA H100 80GB HBM3", "--date", "2026-12-05", "--commit", "abc123"]
        if botorch:
            cmd += ["--botorch", botorch]
        return subprocess.run(cmd + list(bench), capture_output=True, text=True, timeout=60)

    def test_keeps_every_figure_that_parsed_and_names_the_files_that_did_not(self):
        whole = self.write("lml_small.json", json.dumps(bench_doc(["BM_LmlGrad/1000/10"]), indent=1))
        text = json.dumps(bench_doc(["BM_ScoreTopK/1000/10000/0", "BM_ScoreTopK/1000/100000/0",
                                     "BM_ScoreTopK/1000/1000000/0"]), indent=1)
        cut = self.write("score.json", text[:text.index("BM_ScoreTopK/1000/1000000/0") + 5])
        empty = self.write("ask.json", "")
        missing = self.path("lml_large.json")
        botorch = self.write("botorch.json", '{"cases": [{"case": "lml_grad n=1000", "median')
        out = self.path("results.json")
        r = self.run_summary(out, f"lml_small={whole}", f"score={cut}", f"ask={empty}",
                             f"lml_large={missing}", botorch=botorch)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"wrote {out}", r.stdout)
        with open(out) as f:
            doc = json.load(f)
        names = [fig["name"] for fig in doc["figures"]]
        self.assertEqual(names, ["BM_LmlGrad/1000/10", "BM_ScoreTopK/1000/10000/0",
                                 "BM_ScoreTopK/1000/100000/0"])
        self.assertEqual(doc["figures"][0]["x_floor"], 700.0)
        problems = {u["step"]: u["problem"] for u in doc["unreadable"]}
        self.assertIn("cut short", problems["score"])
        self.assertIn("kept 2 complete entries", problems["score"])
        self.assertEqual(problems["ask"], "empty file")
        self.assertIn("unreadable", problems["lml_large"])
        self.assertIn("not JSON", problems["botorch"])
        self.assertIsNone(doc["botorch"])
        self.assertIn("score: score.json: cut short", r.stdout)
        self.assertIn("ask: ask.json: empty file", r.stdout)
        with open(self.path("table.txt")) as f:
            self.assertEqual(len(f.read().splitlines()), 3)

    def test_a_failed_value_check_is_listed_as_an_error_not_a_figure(self):
        doc = bench_doc(["BM_LmlGradCheck/50000/10/5"])
        doc["benchmarks"][0].update(error_occurred=True, error_message="wrong value at n = 50000")
        path = self.write("lml_large.json", json.dumps(doc))
        out = self.path("results.json")
        r = self.run_summary(out, f"lml_large={path}")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            result = json.load(f)
        self.assertEqual(result["figures"], [])
        self.assertEqual(result["errors"][0]["message"], "wrong value at n = 50000")
        self.assertIn("ERROR in BM_LmlGradCheck/50000/10/5", r.stdout)

    def test_says_wrote_only_when_it_did(self):
        whole = self.write("lml_small.json", json.dumps(bench_doc(["BM_LmlGrad/1000/10"])))
        out = os.path.join(self.dir, "no-such-folder", "results.json")
        r = self.run_summary(out, f"lml_small={whole}")
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("wrote", r.stdout)
        self.assertIn("NOT written", r.stdout)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
