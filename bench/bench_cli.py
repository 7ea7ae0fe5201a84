"""The command line the Python benchmark drivers share (robust_bench, conditional_bench,
constrained_bench, warm_start_bench): --seeds and --first-seed, --jsonl (append every run's row
to a file) and --summary (print the summary of such a file and exit)."""
from __future__ import annotations

import argparse
import json
from typing import Callable, Iterable


def parser(seeds: int = 10) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=seeds)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--jsonl", help="append every run's row (JSON) to this file")
    p.add_argument("--summary", help="print the summary of this JSON-lines file and exit")
    return p


def seeds(args: argparse.Namespace) -> range:
    return range(args.first_seed, args.first_seed + args.seeds)


def print_summary(args: argparse.Namespace, summary: Callable[[str], Iterable[dict]]) -> bool:
    """With --summary: prints summary(path) a row per line and returns True."""
    if not args.summary:
        return False
    for row in summary(args.summary):
        print(json.dumps(row))
    return True


class Rows:
    """Prints each row as a JSON line, and appends it to --jsonl when given (flushed at once,
    so an interrupted run keeps what it measured)."""

    def __init__(self, args: argparse.Namespace):
        self._out = open(args.jsonl, "a") if args.jsonl else None

    def emit(self, row: dict) -> None:
        line = json.dumps(row)
        print(line, flush=True)
        if self._out:
            self._out.write(line + "\n")
            self._out.flush()
