#!/usr/bin/env bash
# bench/cold_ask.sh on this CPU with small histories (ctest: bench.cold_ask, seconds):
#   1. n = 300 three times and n = 1,000 refused by a memory limit of 4 MB: exit 0, an import
#      line per n, the first ask fits and the next two use the stored hyperparameters, each
#      with the engine's split, and the refusal names n and gp.memory_limit_gb;
#   2. --device cuda on this build without CUDA: the ask fails (exit 2), its line says so, exit 1;
#   3. --refused on a size that fits: the ask runs, which is not a refusal: exit 1;
#   4. --time-limit on a gpbo whose ask hangs: the ask is stopped (exit 124) at the limit, exit 1;
#   5. bad usage: exit 2.
# Usage: cold_ask_test.sh GPBO
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../bench/cold_ask.sh"
[[ $# -eq 1 ]] || { echo "usage: $0 GPBO" >&2; exit 2; }
gpbo=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
run() {  # run NAME ARGS...: cold_ask.sh's stdout, stderr and exit status under $work/NAME.*
  local name=$1
  shift
  bash "$script" "$@" > "$work/$name.out" 2> "$work/$name.err"
  echo $? > "$work/$name.rc"
  echo "-- $name: exit $(cat "$work/$name.rc")"
  cat "$work/$name.err"
}
rc() { cat "$work/$1.rc"; }

# 1. As on a GPU, on the CPU.
run ok --device cpu --refused 1000 --out "$work/ok.jsonl" "$gpbo" 300 1000 -- --gp-memory-limit-gb 0.004
(($(rc ok) == 0)) || fail "ok: exit $(rc ok)"
cmp -s "$work/ok.out" "$work/ok.jsonl" || fail "ok: --out differs from stdout"
python3 - "$work/ok.jsonl" << 'PY' || fail "ok: the JSON lines are not as expected"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
imports = [l for l in lines if l["event"] == "import"]
asks = [l for l in lines if l["event"] == "ask"]
assert [(l["n"], l["exit"], l["ok"]) for l in imports] == [(300, 0, True), (1000, 0, True)], imports
assert [(l["n"], l["ask"], l["expect"], l["exit"], l["ok"]) for l in asks] == [
    (300, 1, "exact", 0, True), (300, 2, "exact", 0, True), (300, 3, "exact", 0, True),
    (1000, 1, "refused", 2, True)], asks
for a in asks[:3]:
    assert a["device"] == "cpu" and a["d"] == 20, a
    assert set(a["split"]) == {"load", "fit", "factor", "acquisition"}, a
    assert 0 < sum(a["split"].values()) <= a["seconds"] + 0.05, a
assert asks[0]["split"]["fit"] > 0 and not asks[0]["stored_hyperparameters"], asks[0]
assert all(a["split"]["fit"] == 0 and a["stored_hyperparameters"] for a in asks[1:3]), asks
refusal = asks[3]
assert "1000 observations" in refusal["error"] and "gp.memory_limit_gb" in refusal["error"], refusal
assert "split" not in refusal and refusal["seconds"] < 30, refusal
PY
grep -qE '^cold_ask n=300: [0-9.]+ s, [0-9.]+ s, [0-9.]+ s$' "$work/ok.err" || fail "ok: no digest of n = 300"
grep -qE '^cold_ask n=1000: refused \(exit 2\) in [0-9.]+ s$' "$work/ok.err" ||
  fail "ok: no digest of the refusal"
grep -q 'problem' "$work/ok.err" && fail "ok: a problem was reported"

# 2. A device this build does not have.
run cuda --device cuda "$gpbo" 300
(($(rc cuda) == 1)) || fail "cuda: exit $(rc cuda), expected 1"
python3 - "$work/cuda.out" << 'PY' || fail "cuda: the ask's line is not as expected"
import json, sys
asks = [l for l in map(json.loads, open(sys.argv[1])) if l["event"] == "ask"]
assert len(asks) == 1 and asks[0]["exit"] == 2 and not asks[0]["ok"], asks
assert "device unavailable" in asks[0]["error"] and asks[0]["device"] == "cuda", asks
PY
grep -q '^cold_ask problem: n=300 ask 1: exit 2: .*device unavailable' "$work/cuda.err" ||
  fail "cuda: the problem is not named"

# 3. A refusal expected where the ask fits.
run not_refused --device cpu --refused 300 "$gpbo" 300
(($(rc not_refused) == 1)) || fail "not_refused: exit $(rc not_refused), expected 1"
grep -q '^cold_ask problem: n=300 ask 1: not a clean refusal (exit 0' "$work/not_refused.err" ||
  fail "not_refused: the problem is not named"

# 4. An ask that hangs, under a time limit of 4 s.
cat > "$work/hanging_gpbo" << EOF
#!/usr/bin/env bash
[[ \$1 == ask ]] && exec sleep 60
exec "$gpbo" "\$@"
EOF
chmod +x "$work/hanging_gpbo"
t0=$SECONDS
run hang --time-limit 4 "$work/hanging_gpbo" 300 400
((SECONDS - t0 <= 15)) || fail "hang: took $((SECONDS - t0)) s with a limit of 4 s"
(($(rc hang) == 1)) || fail "hang: exit $(rc hang), expected 1"
python3 - "$work/hang.out" << 'PY' || fail "hang: the lines are not as expected"
import json, sys
asks = [l for l in map(json.loads, open(sys.argv[1])) if l["event"] == "ask"]
assert [(a["n"], a["exit"]) for a in asks] == [(300, 124), (400, 124)], asks
assert all(a["error"].startswith("stopped by the time limit (4 s)") for a in asks), asks
PY

# 5. Bad usage.
run no_such_size --refused 500 "$gpbo" 300
(($(rc no_such_size) == 2)) || fail "no_such_size: exit $(rc no_such_size), expected 2"
run bad_size "$gpbo" 3e5
(($(rc bad_size) == 2)) || fail "bad_size: exit $(rc bad_size), expected 2"
run no_binary "$work/none" 300
(($(rc no_binary) == 2)) || fail "no_binary: exit $(rc no_binary), expected 2"

if ((failures > 0)); then
  for f in "$work"/*.out; do
    echo "==== $(basename "$f")"
    tail -n 20 "$f"
  done
  echo "$failures failure(s)"
  exit 1
fi
echo "cold_ask.sh: all passed"
