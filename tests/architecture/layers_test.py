#!/usr/bin/env python3
"""The layers of gpbo's code stack: every #include "..." in include/, src/, cuda/ and python/src/
goes down the layer table of docs/architecture.md (or stays in its own layer), never up or
across.

    python3 tests/architecture/layers_test.py [REPO]           # exit 1 on a violation
    python3 tests/architecture/layers_test.py [REPO] --table   # print the table
"""
import os
import re
import sys

# Bottom to top: each layer and the layers it includes directly (what those include follows).
LAYERS = [
    ("vocabulary", "include/gpbo: error, device, kernel, acquisition, trust_region, metrics, "
                   "options, trial, space, warm_start", []),
    ("common", "names of the vocabulary's enums, clock, text and JSON helpers", ["vocabulary"]),
    ("numerics", "Sobol sequences, L-BFGS-B", ["common"]),
    ("space", "parameters, encoding, the params codec", ["common"]),
    ("codec", "the option table and the JSON forms of options, trials, trust regions",
     ["space"]),
    ("storage", "Storage; SQL stores over a connection interface; memory", ["codec"]),
    ("backend", "Backend, CPU backend, kernels and acquisition functors for scoring",
     ["numerics"]),
    ("cuda", "the CUDA backend (cuda/)", ["backend"]),
    ("model", "GP fit and posterior (gpbo/gp.hpp)", ["backend"]),
    ("acquisition", "LogEI helpers, qLogNEI, Thompson sampling", ["model"]),
    ("optim", "initial designs, acquisition optimizer, trust-region geometry",
     ["acquisition", "space"]),
    ("engine", "Study, PersistentStudy (gpbo/study.hpp, gpbo/persistent_study.hpp)",
     ["optim", "storage", "codec"]),
    ("functions", "test functions and problems (gpbo/test_functions.hpp, "
                  "gpbo/test_problems.hpp)", ["space"]),
    ("report", "the HTML report of a study (gpbo/report.hpp)", ["engine"]),
    ("service", "the study service under the CLI and the server, the error table",
     ["engine", "report"]),
    ("capi", "the C API (gpbo/gpbo.h)", ["service"]),
    ("server", "gpbo serve", ["service"]),
    ("cli", "the gpbo command line (it hosts gpbo serve)", ["server", "functions"]),
    ("python", "the Python extension (python/src)", ["service"]),
    ("umbrella", "gpbo/gpbo.hpp: every public header", ["capi", "report", "functions"]),
]

# Public headers that are not vocabulary belong to the layer that implements them.
PUBLIC = {
    "gp.hpp": "model",
    "study.hpp": "engine",
    "persistent_study.hpp": "engine",
    "storage.hpp": "storage",
    "verify.hpp": "storage",
    "test_functions.hpp": "functions",
    "test_problems.hpp": "functions",
    "gpbo.h": "capi",
    "gpbo.hpp": "umbrella",
    "report.hpp": "report",
}
FOLDERS = {name for name, _, _ in LAYERS} - {"vocabulary", "umbrella"}


def closure():
    direct = {name: set(uses) for name, _, uses in LAYERS}
    out = {}
    for name in direct:
        seen, todo = set(), list(direct[name])
        while todo:
            layer = todo.pop()
            if layer not in seen:
                seen.add(layer)
                todo.extend(direct[layer])
        out[name] = seen
    return out


def layer_of(path):
    """The layer of a repository path or an include path ("gpbo/x.hpp", "engine/x.hpp")."""
    parts = path.split("/")
    if parts[0] == "include":
        parts = parts[1:]
    if parts[0] == "src":
        parts = parts[1:]
    if parts[0] == "python":
        return "python"
    if parts[0] == "gpbo":
        return PUBLIC.get(parts[1], "vocabulary")
    if parts[0] in FOLDERS:
        return parts[0]
    return None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    repo = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "..")
    if "--table" in sys.argv:
        print("| layer | holds | includes directly |")
        print("|---|---|---|")
        for name, holds, uses in LAYERS:
            print(f"| {name} | {holds} | {', '.join(uses) or '-'} |")
        return 0
    allowed = closure()
    include = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    bad, checked = [], 0
    for top in ("include", "src", "cuda", "python/src"):
        for root, _, files in os.walk(os.path.join(repo, top)):
            for f in sorted(files):
                if not f.endswith((".hpp", ".cpp", ".h", ".cu", ".cuh")):
                    continue
                rel = os.path.relpath(os.path.join(root, f), repo)
                src_layer = layer_of(rel)
                if src_layer is None:
                    bad.append(f"{rel}: in no layer (add its folder to the table)")
                    continue
                with open(os.path.join(root, f), encoding="utf-8") as text:
                    for number, line in enumerate(text, 1):
                        m = include.match(line)
                        if not m:
                            continue
                        checked += 1
                        target = layer_of(m.group(1))
                        if target is None:
                            bad.append(f"{rel}:{number}: includes {m.group(1)}, in no layer")
                        elif target != src_layer and target not in allowed[src_layer]:
                            bad.append(f"{rel}:{number}: {src_layer} includes {m.group(1)} "
                                       f"({target}), which is not below it")
    for line in bad:
        print(line)
    print(f"{checked} includes checked, {len(bad)} against the layers")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
