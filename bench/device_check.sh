#!/usr/bin/env bash
# The one command of a lent GPU machine (docs/cuda.md, "Checking on a GPU machine"):
#
#   bench/collect_libs.sh build build/device    # here, after building for the card
#   bench/device_check.sh build/device          # there, from the repository root
#   bench/device_check.sh --print-filter        # the gtest filter of the tests that need a device
#   bench/device_check.sh --print-cold-sizes MIB  # cold_ask's sizes on a card of MIB MiB
#
# DIR is a stage folder (bin/, libs.tar.gz, COMMIT) or a build folder (tests/, bench/, gpbo).
#
# First a preamble of ~10 s: the ldd misses of each carried binary, where cuBLAS and cuSOLVER
# resolve from, where compute-sanitizer is, the driver and card from nvidia-smi (its exit
# status checked), and whether the build's CUDA runtime sees the card. When the machine or the
# carried folder is not usable, the run stops there, before any long step, and its last line
# says why ("NOT USABLE ..."). Then the steps, most valuable first, each under its own cap and
# all within DEVICE_CHECK_BUDGET seconds (default 480; the device call's limit must exceed it):
#
#   step          what                                                  cap    planned
#   lml_small     LML + gradient, n = 1,000 ... 10,000 (issue 3)        60 s    15 s
#   score         posterior + LogEI + top-16, m = 1e4 ... 1e6 (issue 3) 90 s    30 s
#   ask           a whole ask, n = 1,000 d = 10 and n = 10,000 d = 20   120 s   45 s
#   cold_ask      gpbo ask processes on SQLite stores (issue 17): n = 10,000 and the largest
#                 round n the card holds, 3 asks each; 100,000 refused where it does not fit
#                                                                       150 s   100 s
#   tests         the tests that need a device (--print-filter)         120 s   60 s
#   lml_large     n = 20,000 and 50,000: value checked, then timed      120 s   45 s
#   botorch       bench/botorch_compare.py on the same card             90 s    60 s
#   trust_region  a trust-region ask(100), d = 300, n = 5,000 (issue 7) 60 s    30 s
#   memcheck      compute-sanitizer memcheck of CudaBackend.SmallFitAndScore  90 s  45 s
#
# Results go to $OUT/bench/results/ when $OUT is set (the device tool returns that folder),
# else to bench/results/: <card>-<date>.json (bench/device_summary.py: every figure that
# parsed, each step's status) and <card>-<date>-raw.tar.gz (the logs and raw JSON).
#
# Exit: 0 every step ran and passed; 1 a step failed; 2 bad usage; 77 the machine is not
# usable (no driver, nvidia-smi failing, no card, or the build's CUDA runtime sees none); 78
# the carried folder is not usable (a binary or a library missing, binaries built without
# CUDA). DEVICE_CHECK_FORCE=1 runs the steps after a 77/78 preamble anyway (to test this
# script on a CPU machine): each GPU step then says why it does not run, and the exit code
# stays the preamble's.
set -uo pipefail

# Suites starting with Cuda and tests ending in Cuda: exactly the tests that need a device
# (tests/bench/device_check_test.sh checks it).
readonly gpu_filter='Cuda*.*:*.*Cuda'
if [[ ${1:-} == --print-filter ]]; then
  echo "$gpu_filter"
  exit 0
fi

# cold_ask_args MEMORY_MIB: the sizes bench/cold_ask.sh gets on a card of that much memory (as
# nvidia-smi's memory.total gives it). n = 10,000 (issue 17: a whole cold ask under 2 s), then
# the largest of 100,000, 80,000, 70,000, 50,000 whose exact ask fits the default memory limit:
# a GPU ask that factors only needs about 8 n^2 bytes (the factor; x 1.15 here for its spare
# rows, n/16 + 16 of them, and the solver's workspace), and gp.memory_limit_gb defaults to
# three quarters of the card's memory; 100,000 on an H200 (141 GB), 80,000 on an H100 (80 GB).
# Where 100,000 does not fit, it is asked too, once, and must be refused cleanly (exit 2, the
# error naming n and gp.memory_limit_gb, before anything is allocated).
cold_ask_args() {
  local mib=$1 n exact=""
  for n in 100000 80000 70000 50000; do
    if ((8 * n * n * 115 <= 75 * mib * 1048576)); then
      exact=$n
      break
    fi
  done
  if [[ $exact == 100000 ]]; then
    echo "10000 100000"
  else
    echo "--refused 100000 10000 100000${exact:+ $exact}"
  fi
}
if [[ ${1:-} == --print-cold-sizes ]]; then
  [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "usage: $0 --print-cold-sizes MEMORY_MIB" >&2; exit 2; }
  cold_ask_args "$2"
  exit 0
fi

dir=${1:-build/device}
if [[ ! -d $dir ]]; then
  echo "device_check: no folder '$dir' (stage one with bench/collect_libs.sh)" >&2
  exit 2
fi
budget=${DEVICE_CHECK_BUDGET:-480}
force=${DEVICE_CHECK_FORCE:-0}
start=$(date +%s)
repo=$(cd "$(dirname "$0")/.." && pwd)
results=${OUT:+$OUT/bench/results}
results=${results:-$repo/bench/results}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$work/steps.tsv"
declare -a table=() failed_steps=() bench_json=()
status=0

note() { printf '\n== %s\n' "$*"; }
# row STEP STATUS: a line of the table printed last and of the results file.
row() {
  table+=("$(printf '%-13s %s' "$1" "$2")")
  printf '%s\t%s\n' "$1" "$2" >> "$work/steps.tsv"
}
fail_step() {
  row "$1" "FAILED: $2"
  failed_steps+=("$1")
  status=1
}
elapsed() { echo $(($(date +%s) - start)); }
# step_time CAP: the seconds a step may take, min(CAP, what the budget leaves after 15 s for
# the results); fails when under 10.
step_time() {
  local left=$((budget - $(elapsed) - 15))
  local t=$(($1 < left ? $1 : left))
  ((t >= 10)) || return 1
  echo "$t"
}
# The first non-empty line of a text, trimmed, at most 160 characters.
first_line() { sed -n '/[^[:space:]]/{s/^[[:space:]]*//;s/[[:space:]]*$//;p;q}' <<< "$1" | cut -c1-160; }

find_bin() {  # find_bin NAME: stage layout, then build layout
  local p
  for p in "$dir/bin/$1" "$dir/tests/$1" "$dir/bench/$1" "$dir/$1"; do
    [[ -x $p ]] && { echo "$p"; return 0; }
  done
  return 1
}

# ================================================================= preamble
note "preamble: carried binaries and libraries, driver and card"
machine_problem=""
folder_problem=""
add_folder_problem() { folder_problem+="${folder_problem:+; }$*"; }

tests_bin=$(find_bin gpbo_tests) || add_folder_problem "no gpbo_tests under $dir"
gp_bench=$(find_bin gp_bench) || add_folder_problem "no gp_bench under $dir"
ask_bench=$(find_bin ask_bench) || add_folder_problem "no ask_bench under $dir"
gpbo_cli=$(find_bin gpbo) || add_folder_problem "no gpbo (the CLI) under $dir"

libdir=""
if [[ -f $dir/libs.tar.gz ]]; then
  if tar -C "$work" -xzf "$dir/libs.tar.gz"; then
    libdir="$work/lib"
  else
    add_folder_problem "libs.tar.gz does not extract"
  fi
elif [[ -d $dir/libs ]]; then
  libdir="$dir/libs"
fi
original_ld_path=${LD_LIBRARY_PATH:-}
# pip's nvidia-* wheels (PyTorch's cuBLAS/cuSOLVER), probed with the machine's own library
# path (the carried libstdc++ must not break python), and reported whichever way it goes.
nv_pip=""
if command -v python3 > /dev/null; then
  probe=$(timeout 30 python3 -c '
import os, nvidia
dirs = [os.path.join(root, sub, "lib") for root in nvidia.__path__ for sub in sorted(os.listdir(root))]
print(":".join(d for d in dirs if os.path.isdir(d)))' 2>&1)
  if (($? == 0)); then
    nv_pip=$probe
    echo "pip nvidia-* library folders: ${nv_pip:-none}"
  else
    echo "pip nvidia-* wheels: not used ($(tail -n 1 <<< "$probe" | cut -c1-120))"
  fi
else
  echo "python3: not found (no pip libraries, no BoTorch, no results summary)"
fi
toolkit_dirs=""
for d in ${CUDA_HOME:+"$CUDA_HOME/lib64"} /usr/local/cuda/lib64; do
  [[ -d $d ]] && toolkit_dirs+="${toolkit_dirs:+:}$d"
done
# The gpbo binaries (and ldd on them) get the carried libraries first; python, tar and the
# rest keep the machine's own path.
carried_ld_path="${libdir}${toolkit_dirs:+:$toolkit_dirs}${original_ld_path:+:$original_ld_path}"
carried_ld_path="${carried_ld_path#:}${nv_pip:+:$nv_pip}"
with_libs() { LD_LIBRARY_PATH=$carried_ld_path "$@"; }

# Every carried binary: its ldd misses, and whether it links cuBLAS and cuSOLVER.
cuda_build=1
cublas_path=""
for b in "$tests_bin" "$gp_bench" "$ask_bench" "$gpbo_cli"; do
  [[ -n $b ]] || continue
  name=$(basename "$b")
  out=$(with_libs ldd "$b" 2>&1)
  if grep -q "not a dynamic executable" <<< "$out"; then
    echo "$name: not a dynamic executable: not a GPU build"
    cuda_build=0
    continue
  fi
  missing=$(awk '/not found/ {print $1}' <<< "$out" | sort -u | tr '\n' ' ')
  if [[ -n $missing ]]; then
    echo "$name: MISSING ${missing% }"
    add_folder_problem "$name misses ${missing% }"
  else
    echo "$name: no library missing ($(grep -c '=>' <<< "$out") resolved)"
  fi
  cuda_libs=$(awk '$1 ~ /^lib(cublas|cublasLt|cusolver)\.so/ {print "  " $1 " => " $3}' <<< "$out")
  if [[ -z $cuda_libs ]]; then
    echo "$name: links neither cuBLAS nor cuSOLVER: not a GPU build"
    cuda_build=0
  elif [[ $name == gpbo_tests ]]; then
    echo "$cuda_libs"
    cublas_path=$(awk '$1 ~ /^libcublas\.so/ {print $3}' <<< "$out")
  fi
done
((cuda_build == 1)) || add_folder_problem "not a GPU build (configure with -DGPBO_CUDA=ON)"

# compute-sanitizer: on PATH, else beside the toolkit the binaries resolved cuBLAS from.
sanitizer=$(command -v compute-sanitizer || true)
if [[ -z $sanitizer && -n $cublas_path && $cublas_path == /* ]]; then
  for c in "$(dirname "$cublas_path")/../bin/compute-sanitizer" \
    "$(dirname "$cublas_path")/../compute-sanitizer/compute-sanitizer"; do
    [[ -x $c ]] && { sanitizer=$c; break; }
  done
fi
echo "compute-sanitizer: ${sanitizer:-not found (the memcheck step will not run)}"

# The driver and card, from nvidia-smi's exit status and answer, never from its error text.
card=""
driver=""
memory=""
if ! command -v nvidia-smi > /dev/null; then
  machine_problem="nvidia-smi not found: no NVIDIA driver on this machine"
else
  query=$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total \
    --format=csv,noheader 2>&1)
  qrc=$?
  if ((qrc != 0)); then
    machine_problem="nvidia-smi failed (exit $qrc): $(first_line "$query")"
  else
    gpus=$(grep -c . <<< "$query")
    IFS=, read -r card driver memory <<< "$(head -n 1 <<< "$query")"
    card=$(first_line "$card")
    driver=$(first_line "$driver")
    if [[ -z $card ]]; then
      machine_problem="nvidia-smi lists no GPU"
    else
      echo "card: $card, driver $driver, $(first_line "${memory:-}") ($gpus GPU(s) visible)"
      timeout 20 nvidia-smi 2>&1 | head -n 20
    fi
  fi
fi
# The build's own CUDA runtime must see the card (a driver older than the toolkit does not).
if [[ -z $machine_problem && $cuda_build == 1 && -n $tests_bin ]]; then
  probe=$(with_libs timeout 60 "$tests_bin" --gtest_filter=BackendFactory.ReportsDeviceCuda 2>&1)
  prc=$?
  if grep -q '^\[       OK \] BackendFactory.ReportsDeviceCuda' <<< "$probe"; then
    echo "the build's CUDA runtime sees the card"
  elif grep -q '^\[  SKIPPED \] BackendFactory.ReportsDeviceCuda' <<< "$probe"; then
    machine_problem="nvidia-smi lists '$card' (driver $driver) but the build's CUDA runtime sees no device (a CUDA 13 build needs a 580 or later driver)"
  else
    machine_problem="the device probe (gpbo_tests BackendFactory.ReportsDeviceCuda) failed (exit $prc): $(tail -n 1 <<< "$probe" | cut -c1-120)"
  fi
fi

verdict=0
verdict_line=""
if [[ -n $machine_problem ]]; then
  verdict=77
  verdict_line="NOT USABLE (machine, exit 77): $machine_problem"
elif [[ -n $folder_problem ]]; then
  verdict=78
  verdict_line="NOT USABLE (carried folder, exit 78): $folder_problem"
fi
gpu=$([[ -z $machine_problem ]] && echo 1 || echo 0)
if ((verdict == 0)); then
  row preamble "ok: $card, driver $driver ($(elapsed) s)"
else
  row preamble "${verdict_line%%:*} ($(elapsed) s)"
fi
if ((verdict != 0)) && [[ $force != 1 ]]; then
  note "summary ($(elapsed) s)"
  printf '%s\n' "${table[@]}"
  echo "$verdict_line"
  exit $verdict
fi

# ================================================================= steps
# gpu_ready STEP: whether a GPU step can run here; when not, its row says why (not a failure).
gpu_ready() {
  if [[ $cuda_build != 1 ]]; then
    echo "not a GPU build: $1 does not run"
    row "$1" "not run: not a GPU build"
    return 1
  fi
  if [[ $gpu != 1 ]]; then
    echo "no usable GPU: $1 does not run"
    row "$1" "not run: no usable GPU"
    return 1
  fi
  return 0
}

# run_bench STEP CAP BINARY FILTER: a Google Benchmark binary on the device; its JSON goes to
# the summary whatever happens (a capped run leaves the figures finished before the cap).
run_bench() {
  local name=$1 cap=$2 bin=$3 filter=$4 t t0 rc
  note "$name"
  gpu_ready "$name" || return 0
  t=$(step_time "$cap") || { row "$name" "not run: time budget spent"; return 0; }
  t0=$(date +%s)
  with_libs timeout --kill-after=5 "$t" "$bin" --device=cuda --benchmark_filter="$filter" \
    --benchmark_out="$work/$name.json" --benchmark_out_format=json 2>&1 |
    tee "$work/$name.log" | tail -n 25
  rc=${PIPESTATUS[0]}
  bench_json+=("$name=$work/$name.json")
  case $rc in
    0) row "$name" "ran ($(($(date +%s) - t0)) s)" ;;
    124 | 137) fail_step "$name" "cap hit after $t s (the figures finished before it are kept)" ;;
    3) fail_step "$name" "a value check failed (ERROR OCCURRED in the log)" ;;
    *) fail_step "$name" "exit $rc" ;;
  esac
}

run_bench lml_small 60 "$gp_bench" 'BM_LmlGrad/(1000|2000|5000|10000)/'
run_bench score 90 "$gp_bench" 'BM_ScoreTopK'
run_bench ask 120 "$ask_bench" 'BM_Ask/'

note "cold_ask: gpbo ask processes on SQLite stores (bench/cold_ask.sh)"
if gpu_ready cold_ask; then
  if ! command -v python3 > /dev/null; then
    row cold_ask "not run: python3 not found (bench/cold_ask.sh writes its history with it)"
  elif t=$(step_time 150); then
    memory_mib=$(tr -cd '0-9' <<< "${memory%%MiB*}")
    read -ra cold_args <<< "$(cold_ask_args "${memory_mib:-0}")"
    echo "card memory: ${memory_mib:-unknown} MiB: sizes ${cold_args[*]}"
    # The CLI with the carried libraries; cold_ask.sh's python keeps the machine's own path.
    printf '#!/usr/bin/env bash\nLD_LIBRARY_PATH=%q exec %q "$@"\n' "$carried_ld_path" \
      "$gpbo_cli" > "$work/gpbo"
    chmod +x "$work/gpbo"
    # Its own time limit ends the asks before the cap, leaving 20 s to read their split.
    timeout --kill-after=5 "$t" bash "$repo/bench/cold_ask.sh" --device cuda \
      --time-limit $((t > 40 ? t - 20 : t / 2)) --out "$work/cold_ask.jsonl" "$work/gpbo" \
      "${cold_args[@]}" 2>&1 | tee "$work/cold_ask.log"
    rc=${PIPESTATUS[0]}
    digest=$(sed -n 's/^cold_ask \(n=[0-9]*: .*\)/\1/p' "$work/cold_ask.log" | paste -sd ';' |
      sed 's/;/; /g')
    problem=$(sed -n 's/^cold_ask problem: //p' "$work/cold_ask.log" | head -n 1 | cut -c1-200)
    case $rc in
      0) row cold_ask "ran: $digest" ;;
      124 | 137) fail_step cold_ask "cap hit after $t s (${digest:-nothing finished})" ;;
      1) fail_step cold_ask "${problem:-exit 1} (${digest:-nothing finished})" ;;
      *) fail_step cold_ask "exit $rc" ;;
    esac
  else
    row cold_ask "not run: time budget spent"
  fi
fi

note "tests: $gpu_filter"
if gpu_ready tests; then
  if t=$(step_time 120); then
    with_libs timeout --kill-after=5 "$t" "$tests_bin" --gtest_filter="$gpu_filter" \
      --gtest_output="json:$work/tests.json" 2>&1 | tee "$work/tests.log" |
      grep -E '^\[ +(OK|FAILED) |^\[  (PASSED|SKIPPED|FAILED) +\] [0-9]|measured|Failure' | tail -n 60
    rc=${PIPESTATUS[0]}
    count() { sed -n "s/^\[  $1 *\] \([0-9]*\) tests\{0,1\}[.,].*/\1/p" "$work/tests.log" | tail -n 1; }
    passed=$(count PASSED) failed=$(count FAILED) skipped=$(count SKIPPED)
    counts="passed=${passed:-0} failed=${failed:-0} skipped=${skipped:-0}"
    if ((rc == 124 || rc == 137)); then
      fail_step tests "cap hit after $t s ($counts so far)"
    elif ((rc != 0)); then
      fail_step tests "exit $rc, $counts"
    elif [[ ${skipped:-0} != 0 ]]; then
      # Everything in the filter needs a device, and one is there: a skip means it went unused.
      grep -A1 '^\[  SKIPPED \] [A-Z]' "$work/tests.log" | head -n 20
      fail_step tests "$counts: a test that needs a device skipped beside one"
    else
      row tests "$counts"
    fi
    grep measured "$work/tests.log" > "$work/measured.txt" || true
  else
    row tests "not run: time budget spent"
  fi
fi

run_bench lml_large 120 "$gp_bench" 'BM_LmlGradCheck/|BM_LmlGrad/(20000|50000)/'

note "botorch: bench/botorch_compare.py on the same card"
if gpu_ready botorch; then
  if ! probe=$(timeout 60 python3 -c \
    'import torch, botorch, gpytorch; assert torch.cuda.is_available(), "torch sees no CUDA device"' 2>&1); then
    echo "$probe" | tail -n 3
    row botorch "not run: $(tail -n 1 <<< "$probe" | cut -c1-100)"
  elif t=$(step_time 90); then
    timeout --kill-after=5 "$t" python3 \
      "$repo/bench/botorch_compare.py" --out "$work/botorch.json" 2>&1 | tee "$work/botorch.log" |
      tail -n 20
    rc=${PIPESTATUS[0]}
    case $rc in
      0) row botorch "ran" ;;
      124 | 137) fail_step botorch "cap hit after $t s (the cases finished before it are kept)" ;;
      *) fail_step botorch "exit $rc" ;;
    esac
  else
    row botorch "not run: time budget spent"
  fi
fi

run_bench trust_region 60 "$ask_bench" 'BM_AskTrustRegion'

note "memcheck: compute-sanitizer on CudaBackend.SmallFitAndScore"
if gpu_ready memcheck; then
  if [[ -z $sanitizer ]]; then
    row memcheck "not run: compute-sanitizer not found"
  elif t=$(step_time 90); then
    with_libs timeout --kill-after=5 "$t" "$sanitizer" --tool memcheck --leak-check full \
      --error-exitcode 3 "$tests_bin" --gtest_filter='CudaBackend.SmallFitAndScore' \
      > "$work/memcheck.log" 2>&1
    rc=$?
    tail -n 15 "$work/memcheck.log"
    verdict_text=$(grep -E '^=+ ERROR SUMMARY' "$work/memcheck.log" | tail -n 1 | sed 's/^=* *//')
    unsupported=$(grep -iE '^=+ .*(not supported|unsupported)' "$work/memcheck.log" | head -n 1 |
      sed 's/^=* *//' | cut -c1-120)
    if ((rc == 124 || rc == 137)); then
      row memcheck "NO VERDICT: cap hit after $t s (not a finding)"
    elif [[ -n $unsupported ]]; then
      row memcheck "NO VERDICT: not supported here: $unsupported"
    elif ((rc == 3)); then
      fail_step memcheck "${verdict_text:-errors reported}"
    elif ((rc == 0)); then
      row memcheck "clean (${verdict_text:-no summary line})"
    else
      fail_step memcheck "exit $rc: the test failed under the sanitizer (see its log)"
    fi
  else
    row memcheck "NO VERDICT: time budget spent before it"
  fi
fi

# ================================================================= results
note "results"
commit=$(cat "$dir/COMMIT" 2> /dev/null || git -C "$repo" rev-parse HEAD 2> /dev/null || echo unknown)
date_utc=$(date -u +%Y-%m-%d)
measured_anything=0
[[ ${#bench_json[@]} -gt 0 || -s $work/tests.log || -s $work/botorch.json ||
  -s $work/cold_ask.jsonl ]] && measured_anything=1
if ((measured_anything == 0)); then
  echo "nothing ran on a GPU: no results file"
elif ! command -v python3 > /dev/null; then
  fail_step results "python3 not found: the raw JSON is lost with this machine"
else
  mkdir -p "$results"
  # The card's name comes from a successful nvidia-smi only.
  slug=$(tr 'A-Z ' 'a-z-' <<< "$card" | tr -cd 'a-z0-9-')
  result_file="$results/${slug:-unknown-card}-$date_utc.json"
  summary_args=()
  [[ -e $work/botorch.json ]] && summary_args=(--botorch "$work/botorch.json")
  [[ -e $work/cold_ask.jsonl ]] && summary_args+=(--cold-ask "$work/cold_ask.jsonl")
  python3 "$repo/bench/device_summary.py" --out "$result_file" --table "$work/table.txt" \
    --card "$card" --driver "$driver" --date "$date_utc" --commit "$commit" \
    --steps "$work/steps.tsv" --measured "$work/measured.txt" "${summary_args[@]}" \
    "${bench_json[@]}" || fail_step results "bench/device_summary.py wrote no results file"
  # The evidence beside it, for a failure to be diagnosed without another GPU session.
  raw="${result_file%.json}-raw.tar.gz"
  mapfile -t evidence < <(cd "$work" && ls -- *.log *.json *.jsonl *.txt *.tsv 2> /dev/null)
  if tar -C "$work" -czf "$raw" "${evidence[@]}"; then
    echo "wrote $raw"
  else
    echo "raw tarball NOT written"
  fi
fi

note "summary ($(elapsed) s)"
printf '%s\n' "${table[@]}"
[[ -s $work/table.txt ]] && cat "$work/table.txt"
if ((verdict != 0)); then
  echo "$verdict_line"
  exit $verdict
fi
if ((status != 0)); then
  echo "device_check: FAILED: ${failed_steps[*]}"
  exit 1
fi
echo "device_check: every step ran and passed"
exit 0
