#!/usr/bin/env bash
# Ask-plus-tell round trips through the CLI (one process per command, as a Slurm task would do)
# on a SQLite study that already holds 1,000 complete trials. Two studies: one still in its
# initial design (the store and process overhead alone) and one whose asks fit the GP.
# Usage: bench/cli_roundtrip.sh path/to/gpbo [rounds]
set -euo pipefail
gpbo=$(readlink -f "$1")
rounds=${2:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GPBO_STORAGE="sqlite:///$tmp/bench.db"
space=$(dirname "$0")/../examples/spaces/branin.json
"$gpbo" create-study --study design --space "$space" --n-initial 100000 >/dev/null
"$gpbo" create-study --study model --space "$space" --n-initial 1000 >/dev/null
for s in design model; do
  "$gpbo" worker --study "$s" --function branin --trials 1000 >/dev/null 2>&1
done
for s in design model; do
  times=()
  for _ in $(seq "$rounds"); do
    start=$(date +%s.%N)
    id=$("$gpbo" ask --study "$s" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["trials"][0]["id"])')
    "$gpbo" tell --study "$s" --trial "$id" --value 1.0 >/dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  echo "{\"study\": \"$s\", \"trials_stored\": 1000, \"rounds\": $rounds, \"median_seconds_per_round_trip\": $median, \"round_trips_per_second\": $(echo "1/$median" | bc -l | xargs printf "%.2f")}"
done
