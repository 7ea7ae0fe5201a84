#!/usr/bin/env bash
# gpbo report in a real browser: reports of awkward studies (a normal one with failures, an empty
# one, only failed trials, one parameter, 200 parameters, categoricals only, and names with
# <script> and non-ASCII text; 10,000 trials), written by the CLI on a store and one served by gpbo serve, each
# loaded in headless Chromium with the network blocked: every section in the DOM, the summary's
# sentences, the <script> names as text, no console errors, no request leaving the page; and
# screenshots at 1280 px and 390 px wide kept as artifacts.
#
#   bash tests/report/report_browser_test.sh <gpbo binary> <artifacts folder>
set -euo pipefail
GPBO="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
artifacts=$2
mkdir -p "$artifacts"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
unset GPBO_STORAGE GPBO_SERVER GPBO_SERVER_TOKEN
source "$(dirname "$0")/../server/serve_common.sh"

chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chromium && $(id -u) == 0 ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null 2>&1 || true
  chromium=$(command -v chromium || true)
fi
if [[ -z $chromium ]]; then
  echo "report_browser_test: SKIP: Debian's chromium is not installed and cannot be installed here"
  exit 77
fi

failures=()
fail() {
  failures+=("$*")
  echo "FAIL: $*" >&2
}
S="--storage sqlite://$tmp/r.db"
space() { printf '%s' "$2" > "$tmp/$1.json"; }

# ---------------------------------------------------------------- the studies
space branin '{"params": [{"name": "x0", "type": "float", "low": -5, "high": 10},
                          {"name": "x1", "type": "float", "low": 0, "high": 15}]}'
"$GPBO" create-study $S --study normal --space "$tmp/branin.json" --seed 1 > /dev/null
"$GPBO" worker $S --study normal --function branin -n 24 --worker-id w1 > /dev/null 2>&1
for _ in 1 2; do
  id=$("$GPBO" ask $S --study normal | python3 -c 'import json,sys; print(json.load(sys.stdin)["trials"][0]["id"])')
  "$GPBO" tell $S --study normal --trial "$id" --state fail > /dev/null
done
"$GPBO" worker $S --study normal --function branin -n 6 --worker-id w2 > /dev/null 2>&1

"$GPBO" create-study $S --study empty --space "$tmp/branin.json" > /dev/null

"$GPBO" create-study $S --study failed --space "$tmp/branin.json" > /dev/null
for i in 0 1 2 3; do
  "$GPBO" ask $S --study failed > /dev/null
  "$GPBO" tell $S --study failed --trial $i --state fail > /dev/null
done

space one '{"params": [{"name": "x", "type": "float", "low": -1, "high": 1}]}'
"$GPBO" create-study $S --study one --space "$tmp/one.json" > /dev/null
python3 -c 'print("x,value"); [print(f"{-1 + 0.2*i},{(0.2*i - 1.3)**2}") for i in range(11)]' > "$tmp/one.csv"
"$GPBO" import $S --study one -i "$tmp/one.csv" > /dev/null

python3 -c 'import json; print(json.dumps({"params": [{"name": f"p{i}", "type": "float", "low": 0, "high": 1} for i in range(200)]}))' > "$tmp/wide.json"
"$GPBO" create-study $S --study wide --space "$tmp/wide.json" > /dev/null
python3 - "$tmp/wide.csv" << 'PY'
import random, sys
random.seed(0)
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"p{i}" for i in range(200)) + ",value\n")
    for _ in range(30):
        x = [random.random() for _ in range(200)]
        f.write(",".join(repr(v) for v in x) + f",{sum((v - 0.5) ** 2 for v in x[:5])}\n")
PY
"$GPBO" import $S --study wide -i "$tmp/wide.csv" > /dev/null

space cats '{"params": [{"name": "optimizer", "type": "categorical", "choices": ["sgd", "adam", "adamw"]},
                        {"name": "act", "type": "categorical", "choices": ["relu", "gelu"]}]}'
"$GPBO" create-study $S --study cats --space "$tmp/cats.json" > /dev/null
printf 'optimizer,act,value\nsgd,relu,0.5\nadam,relu,0.3\nadamw,gelu,0.2\nsgd,gelu,0.6\nadam,gelu,0.25\n' > "$tmp/cats.csv"
"$GPBO" import $S --study cats -i "$tmp/cats.csv" > /dev/null

space script '{"params": [{"name": "<script>alert(1)</script>", "type": "float", "low": 0, "high": 1},
                          {"name": "λ-température", "type": "categorical", "choices": ["naïve", "<b>bold</b>"]}]}'
"$GPBO" create-study $S --study "étude <script>x</script>" --space "$tmp/script.json" > /dev/null
printf '"<script>alert(1)</script>",λ-température,value\n0.1,naïve,1.5\n0.5,"<b>bold</b>",0.5\n0.9,naïve,0.9\n0.3,"<b>bold</b>",0.7\n' > "$tmp/script.csv"
"$GPBO" import $S --study "étude <script>x</script>" -i "$tmp/script.csv" > /dev/null

# A large one: 10,000 imported trials of 6 parameters.
python3 -c 'import json; print(json.dumps({"params": [{"name": f"x{i}", "type": "float", "low": 0, "high": 1} for i in range(6)]}))' > "$tmp/large.json"
"$GPBO" create-study $S --study large --space "$tmp/large.json" > /dev/null
python3 - "$tmp/large.csv" << 'PY'
import random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"x{i}" for i in range(6)) + ",value\n")
    for _ in range(10000):
        x = [random.random() for _ in range(6)]
        f.write(",".join(map(repr, x)) + f",{sum((v - 0.3) ** 2 * (i + 1) for i, v in enumerate(x))}\n")
PY
"$GPBO" import $S --study large -i "$tmp/large.csv" > /dev/null

# ---------------------------------------------------------------- the reports
for c in normal empty failed one wide cats large; do
  "$GPBO" report $S --study "$c" -o "$tmp/$c.html" > /dev/null
done
"$GPBO" report $S --study "étude <script>x</script>" -o "$tmp/script.html" > /dev/null
# One more served by gpbo serve (GET /v1/studies/{s}/report), as a browser would fetch it.
start_server serve "sqlite://$tmp/r.db"
curl -s -D "$tmp/served.headers" -o "$tmp/served.html" "$SERVER_URL/v1/studies/normal/report"
grep -qi '^content-type: text/html' "$tmp/served.headers" || fail "served report: $(cat "$tmp/served.headers")"
"$GPBO" report --server "$SERVER_URL" --study cats -o "$tmp/remote.html" > /dev/null
stop_server "$SERVER_PID"
cmp -s <(sed 's/Report written [^.]*\.//' "$tmp/remote.html") <(sed 's/Report written [^.]*\.//' "$tmp/cats.html") ||
  fail "the report through gpbo serve differs from the one on the store"

# ---------------------------------------------------------------- in the browser
browse() {  # browse FILE OUT [extra flags]: Chromium headless with every request blocked
  local file=$1 out=$2
  shift 2
  "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
    --host-resolver-rules="MAP * ~NOTFOUND" --proxy-server="http://127.0.0.1:9" \
    --enable-logging=stderr --v=0 --virtual-time-budget=2000 "$@" "file://$file" \
    > "$out" 2> "$out.console" || true
}
for c in normal empty failed one wide cats large script served; do
  browse "$tmp/$c.html" "$tmp/$c.dom" --dump-dom
  for id in summary progress importance slices parallel provenance top; do
    grep -q "<section id=\"$id\">" "$tmp/$c.dom" || fail "$c: no section '$id' in the DOM"
  done
  grep -q '<code id="digest">[0-9a-f]\{64\}</code>' "$tmp/$c.dom" || fail "$c: no digest"
  if grep -E "CONSOLE|Uncaught|Failed to load resource|net::ERR" "$tmp/$c.dom.console" > /dev/null; then
    fail "$c: console: $(grep -E 'CONSOLE|Uncaught|Failed to load|net::ERR' "$tmp/$c.dom.console" | head -3)"
  fi
  for width in 1280 390; do
    browse "$tmp/$c.html" "$tmp/$c-$width.log" --window-size="$width,2400" \
      --screenshot="$artifacts/$c-$width.png"
    [[ $(stat -c %s "$artifacts/$c-$width.png" 2> /dev/null || echo 0) -gt 5000 ]] ||
      fail "$c: no screenshot at $width px"
  done
done
grep -q "The best configuration so far is trial" "$tmp/normal.dom" || fail "normal: no best"
grep -q "32 trials ran: 30 complete, 2 failed" "$tmp/normal.dom" || fail "normal: the counts"
grep -Eq "The study (is still improving|has stopped improving)" "$tmp/normal.dom" ||
  fail "normal: no improving sentence"
grep -q "10000 trials ran: 10000 complete" "$tmp/large.dom" || fail "large: the counts"
[[ $(grep -o '<tr><td>' "$tmp/large.dom" | wc -l) -ge 10020 ]] || fail "large: a table dropped trials"
[[ $(stat -c %s "$tmp/large.html") -lt 5242880 ]] || fail "large: over 5 MB"
grep -q "This study has no trials yet" "$tmp/empty.dom" || fail "empty: not said"
grep -q "No trial has completed yet" "$tmp/failed.dom" || fail "failed: not said"
grep -q "The 12 most relevant of the 200 parameters" "$tmp/wide.dom" || fail "wide: axes"
grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" "$tmp/script.dom" || fail "script: not as text"
grep -q "étude &lt;script&gt;x&lt;/script&gt;" "$tmp/script.dom" || fail "script: the study name"
grep -q "λ-température" "$tmp/script.dom" || fail "script: non-ASCII lost"
grep -q "<script" "$tmp/script.dom" && fail "script: a <script> element in the DOM"

if ((${#failures[@]})); then
  printf 'FAILED: %s\n' "${failures[@]}"
  exit 1
fi
echo "all checks passed; screenshots in $artifacts"
