#!/usr/bin/env bash
# Cold asks on a long history: a SQLite store with an imported history of N trials of a
# 20-float study (values of a smooth function of the points), then asks, each its own
# `gpbo ask` process (the CLI on a store: no warm model), with a tell between them. The first
# ask fits (no stored hyperparameters); the next ones condition on the stored ones (README,
# "Large studies"). bench/device_check.sh runs it on a GPU (its cold_ask step).
#
#   bash bench/cold_ask.sh [OPTIONS] GPBO [N ...] [-- CREATE_STUDY_ARGS ...]
#                                                        (default N: 5000 10000)
#   --device NAME    create the studies with --device NAME (auto, cpu, cuda, cuda:N); an ask
#                    logged on another device is a failure (default: auto, any device)
#   --asks K         asks at each N (default 3)
#   --refused N      N (one of the sizes) must be refused by the memory limit: its first ask
#                    exits 2 within 30 s (the trials are read, nothing is allocated) with an
#                    error naming N and gp.memory_limit_gb; one ask there
#   --time-limit S   start nothing after S seconds: the ask running then is stopped (its line
#                    says exit 124), the asks finished keep their lines (default: no limit)
#   --out FILE       append the JSON lines to FILE too
#   after --         more create-study arguments (e.g. --gp-memory-limit-gb 0.5)
#
# One history of the largest N is written (CSV, plain python); its first N rows are the
# history at N (the same points and values at every N). The stores are created and imported
# in parallel, all before the first ask. Prints one JSON line per import and per ask:
#   {"event": "import", "n", "d", "seconds" (create-study + import), "exit", "ok"}
#   {"event": "ask", "n", "d", "ask", "device", "expect" ("exact" or "refused"), "exit",
#    "seconds", "ok", "split" ({"load", "fit", "factor", "acquisition"} from the ask's log
#    entry; the rest of the wall time is the process: start, store, output),
#    "stored_hyperparameters" (fit 0), "load_average", "error" (stderr's last line, if any)}
# and on stderr one digest line per N ("cold_ask n=N: 1.52 s, 0.91 s, 0.90 s", "cold_ask
# n=N: refused (exit 2) in 1.9 s") and one line per problem ("cold_ask problem: n=N ...").
# Exit: 0 every import and ask went as expected, 1 not, 2 bad usage.
set -uo pipefail

usage() {
  echo "usage: $0 [--device NAME] [--asks K] [--refused N] [--time-limit S] [--out FILE] GPBO [N ...] [-- CREATE_STUDY_ARGS ...]" >&2
  exit 2
}
device=auto asks=3 limit="" out="" gpbo=""
declare -a sizes=() refused=() create_args=()
while (($# > 0)); do
  case $1 in
    --device | --asks | --refused | --time-limit | --out) (($# >= 2)) || usage ;;&
    --device) device=$2; shift 2 ;;
    --asks) asks=$2; shift 2 ;;
    --refused) refused+=("$2"); shift 2 ;;
    --time-limit) limit=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; create_args=("$@"); break ;;
    -*) usage ;;
    *) if [[ -z $gpbo ]]; then gpbo=$1; else sizes+=("$1"); fi; shift ;;
  esac
done
[[ -n $gpbo ]] || usage
[[ -x $gpbo ]] || { echo "cold_ask: '$gpbo' is not an executable" >&2; exit 2; }
((${#sizes[@]} > 0)) || sizes=(5000 10000)
for v in "${sizes[@]}" "${refused[@]}" "$asks" ${limit:+"$limit"}; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "cold_ask: '$v' is not a positive whole number" >&2; exit 2; }
done
for r in "${refused[@]}"; do
  [[ " ${sizes[*]} " == *" $r "* ]] || { echo "cold_ask: --refused $r is not one of the sizes" >&2; exit 2; }
done
is_refused() { [[ " ${refused[*]} " == *" $1 "* ]]; }

readonly d=20
start=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# limited CMD...: CMD under what the time limit leaves (exit 124 when it is spent).
limited() {
  [[ -n $limit ]] || { "$@"; return; }
  local left=$((start + limit - $(date +%s)))
  ((left >= 1)) || return 124
  timeout --kill-after=5 "$left" "$@"
}
now() { date +%s.%N; }
emit() {  # emit JSON_LINE...
  local line
  for line in "$@"; do
    echo "$line"
    [[ -z $out ]] || echo "$line" >> "$out"
  done
}

max=0
for n in "${sizes[@]}"; do ((n > max)) && max=$n; done
python3 - "$tmp/history.csv" "$max" "$d" << 'PY'
import math, random, sys
path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
rows = [",".join([f"x{i}" for i in range(d)] + ["value"])]
for _ in range(n):
    x = [random.random() for _ in range(d)]
    value = sum((v - 0.3) ** 2 for v in x) + 0.1 * math.sin(10 * x[0])
    rows.append(",".join(map(repr, x + [value])))
with open(path, "w") as f:
    f.write("\n".join(rows) + "\n")
PY
python3 -c 'import json, sys; d = int(sys.argv[1]); print(json.dumps({"params": [
  {"name": f"x{i}", "type": "float", "low": 0, "high": 1} for i in range(d)]}))' "$d" \
  > "$tmp/space.json"

# The stores, in parallel.
for n in "${sizes[@]}"; do
  (
    head -n $((n + 1)) "$tmp/history.csv" > "$tmp/h$n.csv"
    db="sqlite://$tmp/s$n.db"
    t0=$(now)
    limited "$gpbo" create-study --storage "$db" --study s --space "$tmp/space.json" --seed 1 \
      --device "$device" "${create_args[@]}" > /dev/null 2> "$tmp/import$n.err" &&
      limited "$gpbo" import --storage "$db" --study s -i "$tmp/h$n.csv" > /dev/null 2>> "$tmp/import$n.err"
    echo "$? $t0 $(now)" > "$tmp/import$n.rc"
  ) &
done
wait

status=0
for n in "${sizes[@]}"; do
  read -r rc t0 t1 < "$tmp/import$n.rc"
  emit "$(python3 -c 'import json, sys
n, d, rc, t0, t1 = sys.argv[1:6]
line = {"event": "import", "n": int(n), "d": int(d), "seconds": round(float(t1) - float(t0), 2),
        "exit": int(rc), "ok": rc == "0"}
err = sys.argv[6].strip().splitlines()
if err:
    line["error"] = err[-1][:300]
print(json.dumps(line))' "$n" "$d" "$rc" "$t0" "$t1" "$(cat "$tmp/import$n.err")")"
  ((rc == 0)) || { echo "cold_ask problem: n=$n the import failed (exit $rc): $(tail -n 1 "$tmp/import$n.err")" >&2; status=1; }
done

# The asks, N by N in the order given; an ask that fails ends its N (the next would fail alike).
for n in "${sizes[@]}"; do
  read -r rc _ < "$tmp/import$n.rc"
  ((rc == 0)) || continue
  db="sqlite://$tmp/s$n.db"
  expect=exact k=$asks
  is_refused "$n" && expect=refused k=1
  : > "$tmp/asks$n.tsv"
  for ((i = 1; i <= k; i++)); do
    t0=$(now)
    limited "$gpbo" ask --storage "$db" --study s > "$tmp/ask.out" 2> "$tmp/ask.err"
    rc=$?
    t1=$(now)
    err=$(sed -n '/[^[:space:]]/p' "$tmp/ask.err" | tail -n 1 | tr '\t' ' ' | cut -c1-300)
    ((rc == 124)) && err="stopped by the time limit (${limit} s)${err:+: $err}"
    seconds=$(python3 -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))' "$t0" "$t1")
    printf '%s\t%s\t%s\t%s\t%s\n' "$i" "$rc" "$seconds" "$(cut -d' ' -f1 /proc/loadavg)" "$err" \
      >> "$tmp/asks$n.tsv"
    ((rc == 0 && i < k)) || break
    # A tell before the next ask, as a worker would (none after the last: it measures nothing).
    id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["trials"][0]["id"])' < "$tmp/ask.out")
    limited "$gpbo" tell --storage "$db" --study s --trial "$id" --value 1.0 > /dev/null 2> "$tmp/tell.err"
    rc=$?
    if ((rc != 0)); then
      echo "cold_ask problem: n=$n the tell after ask $i failed (exit $rc): $(tail -n 1 "$tmp/tell.err")" >&2
      status=1
      break
    fi
  done
  # The engine's split of each ask that ran, from its log entry (detail.model.seconds): one
  # read of the log per N, allowed past the time limit (seconds, even at 100,000 trials).
  : > "$tmp/log.json"
  if grep -q $'^[0-9]*\t0\t' "$tmp/asks$n.tsv"; then
    timeout 60 "$gpbo" log --storage "$db" --study s > "$tmp/log.json" 2> /dev/null ||
      echo "cold_ask problem: n=$n the log could not be read: no split" >&2
  fi
  python3 - "$tmp/asks$n.tsv" "$tmp/log.json" "$n" "$d" "$device" "$expect" > "$tmp/lines$n" \
    << 'PY' || status=1
import json, re, sys
tsv, log_path, n, d, device, expect = sys.argv[1:7]
n, d = int(n), int(d)
asks = [line.rstrip("\n").split("\t", 4) for line in open(tsv) if line.strip()]
try:
    log = json.load(open(log_path))["log"]
    entries = [e["detail"]["model"] for e in log if e.get("event") == "ask"]
except (OSError, ValueError, KeyError, TypeError):
    entries = []
ran = [a for a in asks if a[1] == "0"]
# The store is this script's own: its ask entries are these asks, in order (one stopped by the
# time limit may have logged after the others, never before).
entries = entries[:len(ran)]
problems, digest = [], []
for i, rc, seconds, load, err in asks:
    line = {"event": "ask", "n": n, "d": d, "ask": int(i), "device": device, "expect": expect,
            "exit": int(rc), "seconds": float(seconds), "load_average": float(load)}
    if rc == "0" and entries:
        model = entries.pop(0)
        line["device"] = model.get("device", device)
        split = model.get("seconds", {})
        line["split"] = {k: round(v, 2) for k, v in split.items()}
        line["stored_hyperparameters"] = split.get("fit") == 0
    if err:
        line["error"] = err
    if expect == "refused":
        names_n = re.search(rf"\b({n}|{n:,})\b", err) is not None
        ok = rc == "2" and names_n and "gp.memory_limit_gb" in err and float(seconds) <= 30
        if not ok:
            problems.append(f"ask {i}: not a clean refusal (exit {rc} in {seconds} s, the "
                            f"error naming n and gp.memory_limit_gb): {err or 'no error'}")
        digest.append(f"refused (exit 2) in {seconds} s" if ok else f"exit {rc} in {seconds} s")
    else:
        on_device = device in ("auto", line["device"]) or (
            device == "cuda" and line["device"].startswith("cuda:"))
        ok = rc == "0" and on_device and "split" in line
        if rc != "0":
            problems.append(f"ask {i}: exit {rc}: {err or 'no error'}")
        elif not ok:
            problems.append(f"ask {i}: ran on {line['device']} (asked for {device}) or no split")
        digest.append(f"{seconds} s" if rc == "0" else f"exit {rc}")
    line["ok"] = ok
    print(json.dumps(line))
if not asks:
    problems.append("no ask ran")
print(f"cold_ask n={n}: " + ", ".join(digest), file=sys.stderr)
for p in problems:
    print(f"cold_ask problem: n={n} {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
  mapfile -t lines < "$tmp/lines$n"
  emit "${lines[@]}"
done
exit $status
