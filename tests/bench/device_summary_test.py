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

    def test_reads_the_cold_asks_and_names_a_line_cut_short(self):
        lines = [
            {"event": "import", "n": 10000, "d": 20, "seconds": 1.1, "exit": 0, "ok": True},
            {"event": "import", "n": 100000, "d": 20, "seconds": 9.8, "exit": 0, "ok": True},
            {"event": "ask", "n": 10000, "d": 20, "ask": 1, "device": "cuda:0", "expect": "exact",
             "exit": 0, "seconds": 1.52, "ok": True, "stored_hyperparameters": False,
             "split": {"load": 0.15, "fit": 0.6, "factor": 0.1, "acquisition": 0.4}},
            {"event": "ask", "n": 10000, "d": 20, "ask": 2, "device": "cuda:0", "expect": "exact",
             "exit": 0, "seconds": 0.91, "ok": True, "stored_hyperparameters": True,
             "split": {"load": 0.15, "fit": 0, "factor": 0.1, "acquisition": 0.4}},
            {"event": "ask", "n": 100000, "d": 20, "ask": 1, "device": "cuda", "expect": "refused",
             "exit": 2, "seconds": 1.9, "ok": True,
             "error": "gpbo: error: GP: 100000 observations need about 85 GiB, over the limit of "
                      "59.7 GiB (option gp.memory_limit_gb; 0 is three quarters of the GPU's)"},
            {"event": "ask", "n": 80000, "d": 20, "ask": 1, "device": "cuda", "expect": "exact",
             "exit": 2, "seconds": 2.0, "ok": False, "error": "gpbo: error: GP: 80000 ..."},
        ]
        text = "".join(json.dumps(line) + "\n" for line in lines)
        cut = text + json.dumps(lines[3])[:40]  # the last line, cut by the step's cap
        cold = self.write("cold_ask.jsonl", cut)
        out = self.path("results.json")
        r = self.run_summary(out, "--cold-ask", cold)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out) as f:
            doc = json.load(f)
        self.assertEqual(doc["cold_ask"], lines)
        self.assertEqual(doc["unreadable"], [{"step": "cold_ask", "file": "cold_ask.jsonl",
                                              "problem": "line 7 not JSON"}])
        self.assertIn("cold_ask: 4 asks", r.stdout)
        with open(self.path("table.txt")) as f:
            table = f.read().splitlines()
        self.assertEqual(len(table), 6)
        self.assertRegex(table[2], r"^cold_ask n=10000 ask 1 \(fits\) +1\.52 s  cuda:0  load 0\.15 "
                                   r"fit 0\.6 factor 0\.1 acquisition 0\.4$")
        self.assertRegex(table[3], r"^cold_ask n=10000 ask 2 \(stored\) +0\.91 s")
        self.assertRegex(table[4], r"^cold_ask n=100000 ask 1 +1\.90 s  refused: exit 2: .*"
                                   r"gp\.memory_limit_gb")
        self.assertRegex(table[5], r"^cold_ask n=80000 ask 1 +2\.00 s  FAILED: exit 2")

    def test_an_empty_or_missing_cold_ask_file_is_named(self):
        out = self.path("results.json")
        empty = self.write("cold_ask.jsonl", "")
        r = self.run_summary(out, "--cold-ask", empty)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            self.assertEqual(json.load(f)["unreadable"][0]["problem"], "empty file")
        r = self.run_summary(out, "--cold-ask", self.path("missing.jsonl"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            doc = json.load(f)
        self.assertIn("unreadable", doc["unreadable"][0]["problem"])
        self.assertEqual(doc["cold_ask"], [])

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
