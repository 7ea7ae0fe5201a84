#!/usr/bin/env python3
"""Summarizes `gpbo bench --jsonl` runs: median [Q1, Q3] of the reported regret per problem and
strategy, as a Markdown table (stdout) and optionally as JSON (--json FILE).

Quartiles use linear interpolation between order statistics, as `gpbo bench` prints them.
Rosenbrock's reported regret is log10 regret (the protocol of shared/benchmarks.md). A run that
appears twice (same problem, strategy, number of regions and seed) counts once: the last line.

    bench/regret_table.py bench/results/cpu-trust-region-100d-2026-11-26.jsonl --json summary.json
"""
import argparse
import json
import sys


def quantile(sorted_values, p):
    """Linear interpolation between order statistics (numpy's default)."""
    if not sorted_values:
        raise ValueError("no values")
    pos = p * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def strategy_of(run):
    """'sobol', 'global', 'trust-region' or 'trust-region x M' (M regions)."""
    if run.get("method") == "sobol":
        return "sobol"
    # Lines written before the strategy field existed ran the global GP.
    strategy = run.get("strategy", "global")
    regions = run.get("trust_regions", 1)
    if strategy == "trust-region" and regions > 1:
        return "trust-region x %d" % regions
    return strategy


def summarize(runs):
    latest = {}
    for run in runs:
        key = (run["function"], run["dim"], run["q"], run["budget"], strategy_of(run), run["seed"])
        latest[key] = run
    groups = {}
    for (function, dim, q, budget, strategy, seed), run in sorted(latest.items()):
        groups.setdefault((function, dim, q, budget, strategy), []).append(run)
    rows = []
    for (function, dim, q, budget, strategy), group in sorted(groups.items()):
        values = sorted(r["reported_regret"] for r in group)
        per_ask = sorted(r["seconds_per_ask"] for r in group)
        rows.append({
            "function": function,
            "dim": dim,
            "q": q,
            "budget": budget,
            "strategy": strategy,
            "seeds": sorted(r["seed"] for r in group),
            "n_seeds": len(group),
            "log10": bool(group[0].get("log10", False)),
            "median": quantile(values, 0.5),
            "q1": quantile(values, 0.25),
            "q3": quantile(values, 0.75),
            "median_seconds_per_ask": quantile(per_ask, 0.5),
        })
    return rows


def markdown(rows):
    order = {"trust-region": 0, "global": 2, "sobol": 3}  # several regions sort in between
    strategies = sorted({r["strategy"] for r in rows}, key=lambda s: (order.get(s, 1), s))
    problems = []
    for r in rows:
        p = (r["function"], r["dim"], r["q"], r["budget"], r["log10"])
        if p not in problems:
            problems.append(p)
    lines = ["| problem | " + " | ".join(strategies) + " |",
             "|---" * (len(strategies) + 1) + "|"]
    for function, dim, q, budget, log10 in problems:
        name = "%s-%d%s, q = %d, %d evaluations" % (function.capitalize(), dim,
                                                    " (log10)" if log10 else "", q, budget)
        cells = []
        for s in strategies:
            match = [r for r in rows if (r["function"], r["dim"], r["q"], r["budget"],
                                         r["strategy"]) == (function, dim, q, budget, s)]
            if not match:
                cells.append("")
                continue
            r = match[0]
            cells.append("%.3g [%.3g, %.3g] (%d)" % (r["median"], r["q1"], r["q3"], r["n_seeds"]))
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jsonl", nargs="+", help="files written by gpbo bench --jsonl")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    runs = []
    for path in args.jsonl:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    runs.append(json.loads(line))
                except json.JSONDecodeError as e:
                    sys.exit("%s:%d: not JSON: %s" % (path, n, e))
    if not runs:
        sys.exit("no runs in " + ", ".join(args.jsonl))
    rows = summarize(runs)
    print(markdown(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
