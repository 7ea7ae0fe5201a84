#!/usr/bin/env python3
"""The results file of one bench/device_check.sh run, from whatever its steps left.

Reads each benchmark's Google Benchmark JSON on its own: a file cut short (a step stopped by
its time cap) keeps every entry written before the cut, an empty or unreadable one is named,
and neither stops the others. Writes RESULTS.json atomically (a temporary file, then a rename)
and prints "wrote RESULTS.json" only once it is there; writes the short table to --table.

  device_summary.py --out RESULTS.json --table TABLE.txt --card NAME --date YYYY-MM-DD
      --commit SHA [--driver VERSION] [--steps STEPS.tsv] [--measured MEASURED.txt]
      [--botorch BOTORCH.json] [--cold-ask COLD_ASK.jsonl] [STEP=BENCH.json ...]

STEPS.tsv: one "step<TAB>status" line per step of the run. COLD_ASK.jsonl: the JSON lines of
bench/cold_ask.sh (an import or an ask each: n, seconds, exit, the engine's split, a refusal's
error); a line that does not parse is named and skipped. Exit: 0 written, 1 not written.
"""
import argparse
import json
import os
import sys
import tempfile

# The counters kept with each figure (besides name, real_time, time_unit, iterations).
COUNTERS = ("n", "d", "m", "q", "parts", "float32", "floor_ms", "x_floor", "candidates/s",
            "GFLOP/s", "points/s", "lml_rel_err", "grad_rel_err")


def salvage_benchmarks(text):
    """The complete entries of the "benchmarks" array of a JSON text cut short."""
    start = text.find('"benchmarks"')
    if start < 0:
        return []
    pos = text.find("[", start)
    if pos < 0:
        return []
    pos += 1
    decoder = json.JSONDecoder()
    kept = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return kept
        try:
            entry, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return kept
        if isinstance(entry, dict):
            kept.append(entry)


def read_benchmarks(path):
    """(entries, problem): the file's benchmark entries and, when it was not whole, why."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        return [], f"unreadable ({e.strerror})"
    if not text.strip():
        return [], "empty file"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        kept = salvage_benchmarks(text)
        return kept, (f"cut short ({e.msg} at line {e.lineno}); kept {len(kept)} complete "
                      f"entr{'y' if len(kept) == 1 else 'ies'}")
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        return [], "no benchmarks array"
    return [b for b in data["benchmarks"] if isinstance(b, dict)], None


def read_json(path):
    """(document, problem) of a whole JSON file (BoTorch's), None and why when it is not."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f), None
    except OSError as e:
        return None, f"unreadable ({e.strerror})"
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return None, f"not JSON ({e})"


def read_json_lines(path):
    """(objects, problem) of a JSON-lines file: every line that parses as an object; the
    problem names the lines that did not (a file cut by a cap ends in half a line)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        return [], f"unreadable ({e.strerror})"
    kept, bad = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            kept.append(obj)
        else:
            bad.append(number)
    if not kept and not bad:
        return [], "empty file"
    if bad:
        return kept, f"line{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad))} not JSON"
    return kept, None


def cold_ask_line(c):
    """The table line of one cold_ask.sh line."""
    n, seconds = c.get("n", "?"), c.get("seconds")
    shown = f"{seconds:>10.2f} s" if isinstance(seconds, (int, float)) else f"{'-':>10} s"
    if c.get("event") == "import":
        return f"{'cold_ask import n=' + str(n):<44} {shown}  create-study + import"
    what = f"cold_ask n={n} ask {c.get('ask', '?')}"
    if c.get("exit") != 0:
        kind = "refused" if c.get("expect") == "refused" and c.get("ok") else "FAILED"
        return f"{what:<44} {shown}  {kind}: exit {c.get('exit')}: {c.get('error', '')}".rstrip()
    split = c.get("split") if isinstance(c.get("split"), dict) else {}
    parts = " ".join(f"{k} {split[k]}" for k in ("load", "fit", "factor", "acquisition")
                     if k in split)
    hyper = "stored" if c.get("stored_hyperparameters") else "fits"
    return f"{what + ' (' + hyper + ')':<44} {shown}  {c.get('device', '')}  {parts}".rstrip()


def figure(entry):
    keep = {k: entry[k] for k in ("name", "real_time", "time_unit", "iterations") if k in entry}
    for k in COUNTERS:
        if k in entry:
            keep[k] = entry[k]
    return keep


def table_line(fig):
    extra = ""
    if "floor_ms" in fig and "x_floor" in fig:
        extra = f"floor {fig['floor_ms']:.2f} ms  x{fig['x_floor']:.1f}"
    if "candidates/s" in fig:
        extra += f"  {fig['candidates/s']:.3g} cand/s"
    if "lml_rel_err" in fig:
        extra += f"  check: LML rel. err {fig['lml_rel_err']:.2g}, grad {fig.get('grad_rel_err', 0):.2g}"
    time = fig.get("real_time")
    shown = f"{time:>10.2f}" if isinstance(time, (int, float)) else f"{'-':>10}"
    return f"{fig.get('name', '?'):<44} {shown} {fig.get('time_unit', '')}  {extra}".rstrip()


def write_atomically(path, text):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".device_summary.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--card", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--driver", default="")
    ap.add_argument("--steps")
    ap.add_argument("--measured")
    ap.add_argument("--botorch")
    ap.add_argument("--cold-ask")
    ap.add_argument("bench", nargs="*", metavar="STEP=BENCH.json")
    args = ap.parse_args(argv)

    figures, errors, unreadable = [], [], []

    def note_unreadable(step, path, problem):
        unreadable.append({"step": step, "file": os.path.basename(path), "problem": problem})
        print(f"{step}: {os.path.basename(path)}: {problem}")

    for spec in args.bench:
        step, _, path = spec.partition("=")
        if not path:
            step, path = os.path.splitext(os.path.basename(spec))[0], spec
        entries, problem = read_benchmarks(path)
        if problem:
            note_unreadable(step, path, problem)
        for e in entries:
            if e.get("error_occurred"):
                errors.append({"step": step, "name": e.get("name", "?"),
                               "message": e.get("error_message", "")})
                print(f"{step}: ERROR in {e.get('name', '?')}: {e.get('error_message', '')}")
            else:
                figures.append(dict(figure(e), step=step))
        print(f"{step}: {sum(1 for f in figures if f['step'] == step)} figures")

    botorch = None
    if args.botorch:
        botorch, problem = read_json(args.botorch)
        if problem:
            note_unreadable("botorch", args.botorch, problem)

    cold_ask = []
    if args.cold_ask:
        cold_ask, problem = read_json_lines(args.cold_ask)
        if problem:
            note_unreadable("cold_ask", args.cold_ask, problem)
        print(f"cold_ask: {sum(1 for c in cold_ask if c.get('event') == 'ask')} asks")

    steps = []
    if args.steps and os.path.exists(args.steps):
        with open(args.steps, encoding="utf-8", errors="replace") as f:
            for line in f:
                step, _, status = line.rstrip("\n").partition("\t")
                if step:
                    steps.append({"step": step, "status": status})
    measured = []
    if args.measured and os.path.exists(args.measured):
        with open(args.measured, encoding="utf-8", errors="replace") as f:
            measured = f.read().splitlines()

    doc = {"card": args.card, "driver": args.driver, "date": args.date, "commit": args.commit,
           "fp64_rate_tflops": float(os.environ.get("GPBO_FP64_TFLOPS", "67")),
           "steps": steps, "figures": figures, "errors": errors, "unreadable": unreadable,
           "test_measurements": measured, "botorch": botorch, "cold_ask": cold_ask}

    lines = [table_line(f) for f in figures]
    lines += [cold_ask_line(c) for c in cold_ask]
    lines += [f"ERROR {e['name']}: {e['message']}" for e in errors]
    for r in (botorch or {}).get("cases", []) if isinstance(botorch, dict) else []:
        if isinstance(r, dict) and isinstance(r.get("median_ms"), (int, float)):
            lines.append(f"botorch {r.get('case', '?'):<36} {r['median_ms']:>10.2f} ms")
    try:
        write_atomically(args.table, "".join(line + "\n" for line in lines))
    except OSError as e:
        print(f"table not written: {e}", file=sys.stderr)
    try:
        write_atomically(args.out, json.dumps(doc, indent=1) + "\n")
    except OSError as e:
        print(f"NOT written: {args.out}: {e}")
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
