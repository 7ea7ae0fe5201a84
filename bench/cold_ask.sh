#!/usr/bin/env bash
# Cold asks on a long history: a SQLite store with an imported history of N trials of a
# 20-float study (values of a smooth function of the points), then three asks, each its own
# `gpbo ask` process (the CLI on a store: no warm model), with a tell after each. Prints one
# JSON line per ask with its seconds and the engine's split (load, fit, factor, acquisition;
# the rest of the wall time is the process: start, store, output). The first ask fits (no
# stored hyperparameters); the next two condition on the stored ones (README, "Large
# studies").
#
#   bash bench/cold_ask.sh <gpbo binary> [N ...]        (default: 5000 10000)
set -euo pipefail
GPBO=$1
shift
sizes=${*:-5000 10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in $sizes; do
  python3 - "$tmp" "$n" <<'PY'
import json, math, random, sys
tmp, n, d = sys.argv[1], int(sys.argv[2]), 20
random.seed(1)
json.dump({"params": [{"name": f"x{i}", "type": "float", "low": 0, "high": 1} for i in range(d)]},
          open(f"{tmp}/space.json", "w"))
trials = []
for _ in range(n):
    x = [random.random() for _ in range(d)]
    value = sum((v - 0.3) ** 2 for v in x) + 0.1 * math.sin(10 * x[0])
    trials.append({"params": {f"x{i}": x[i] for i in range(d)}, "value": value})
json.dump({"trials": trials}, open(f"{tmp}/history.json", "w"))
PY
  db="sqlite://$tmp/s$n.db"
  "$GPBO" create-study --storage "$db" --study s --space "$tmp/space.json" --seed 1 >/dev/null
  "$GPBO" import --storage "$db" --study s -i "$tmp/history.json" >/dev/null
  for i in 1 2 3; do
    start=$(date +%s.%N)
    out=$("$GPBO" ask --storage "$db" --study s)
    end=$(date +%s.%N)
    id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["trials"][0]["id"])' <<<"$out")
    "$GPBO" tell --storage "$db" --study s --trial "$id" --value 1.0 >/dev/null
    # The engine's split of this ask, from its log entry (detail.model.seconds).
    split=$("$GPBO" log --storage "$db" --study s | python3 -c '
import json, sys
asks = [e for e in json.load(sys.stdin)["log"] if e["event"] == "ask"]
print(json.dumps({k: round(v, 2) for k, v in asks[-1]["detail"]["model"]["seconds"].items()}))')
    python3 -c "import json,sys; print(json.dumps({'n': $n, 'd': 20, 'ask': $i, 'seconds': round($end - $start, 2), 'split': $split, 'stored_hyperparameters': $i > 1, 'load_average': float(open('/proc/loadavg').read().split()[0])}))"
  done
done
