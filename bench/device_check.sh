#!/usr/bin/env bash
# One call on a GPU machine: libraries, card, GPU tests, a compute-sanitizer memcheck, the GPU
# benchmarks, BoTorch on the same cases, a results JSON, and a short table last.
#
#   bench/collect_libs.sh build build/device        # here, after building for sm_90
#   bench/device_check.sh build/device              # there, from the repository root
#
# DIR is a stage folder (bin/, libs.tar.gz, COMMIT) or a build folder (tests/, bench/). Each
# step has a time limit and the whole run a budget (DEVICE_CHECK_BUDGET seconds, default 420),
# so it finishes well under 8 minutes. Results go to $OUT/bench/results/ when $OUT is set (the
# device tool returns that folder), else to bench/results/. Exit: 0 all ran and passed, 1 a
# step failed, 77 no usable GPU (the CPU-side steps still ran).
set -uo pipefail

dir=${1:-build/device}
budget=${DEVICE_CHECK_BUDGET:-420}
start=$(date +%s)
repo=$(cd "$(dirname "$0")/.." && pwd)
results=${OUT:+$OUT/bench/results}
results=${results:-$repo/bench/results}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$results"
declare -a table=()
status=0
gpu=1

note() { printf '\n== %s\n' "$*"; }
row() { table+=("$(printf '%-34s %s' "$1" "$2")"); }
remaining() { echo $((budget - ($(date +%s) - start))); }
# run_step CAP CMD...: runs CMD under `timeout` for min(CAP, what is left of the budget - 10).
run_step() {
  local cap=$1
  shift
  local left=$(($(remaining) - 10))
  local t=$((cap < left ? cap : left))
  if ((t <= 5)); then
    echo "(skipped: time budget spent)"
    return 124
  fi
  timeout --kill-after=5 "$t" "$@"
}

find_bin() {  # find_bin NAME: stage layout, then build layout
  for p in "$dir/bin/$1" "$dir/tests/$1" "$dir/bench/$1"; do
    [[ -x $p ]] && { echo "$p"; return 0; }
  done
  return 1
}

# ---------------------------------------------------------------- (a) shared libraries
note "(a) shared libraries"
libdir=""
if [[ -f $dir/libs.tar.gz ]]; then
  tar -C "$work" -xzf "$dir/libs.tar.gz" && libdir="$work/lib"
elif [[ -d $dir/libs ]]; then
  libdir="$dir/libs"
fi
original_ld_path=${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH="${libdir:+$libdir:}/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}"
# cuBLAS/cuSOLVER from pip's nvidia-* wheels (PyTorch's), after the toolkit's own.
nv_pip=$(python3 -c 'import nvidia; print(list(nvidia.__path__)[0])' 2> /dev/null || true)
if [[ -n $nv_pip ]]; then
  for d in "$nv_pip"/*/lib; do [[ -d $d ]] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"; done
fi
tests_bin=$(find_bin gpbo_tests) || tests_bin=""
gp_bench=$(find_bin gp_bench) || gp_bench=""
ask_bench=$(find_bin ask_bench) || ask_bench=""
missing_total=0
for b in "$tests_bin" "$gp_bench" "$ask_bench"; do
  [[ -n $b ]] || continue
  missing=$(ldd "$b" 2>&1 | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
  if [[ -n $missing ]]; then
    echo "$(basename "$b"): MISSING $missing"
    missing_total=$((missing_total + 1))
  else
    echo "$(basename "$b"): all libraries found"
  fi
done
[[ -n $tests_bin ]] || { echo "no gpbo_tests under $dir"; status=1; }
row "libraries" "$([[ $missing_total == 0 ]] && echo ok || echo "missing in $missing_total binaries")"
# Binaries built without CUDA would skip every GPU test and fail every benchmark: stop early.
cuda_build=1
if [[ -n $tests_bin ]] && ! ldd "$tests_bin" 2>&1 | grep -q libcublas; then
  echo "gpbo_tests does not link cuBLAS: built without CUDA (configure with -DGPBO_CUDA=ON)"
  cuda_build=0
  status=1
fi
row "CUDA build" "$([[ $cuda_build == 1 ]] && echo yes || echo "NO: rebuild with -DGPBO_CUDA=ON")"

# ---------------------------------------------------------------- (b) the card
note "(b) nvidia-smi"
card="none"
if command -v nvidia-smi > /dev/null; then
  run_step 30 nvidia-smi
  card=$(run_step 15 nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  [[ -n $card ]] || { card="none"; gpu=0; }
else
  echo "nvidia-smi not found: no NVIDIA driver on this machine"
  gpu=0
fi
row "card" "$card"
card_slug=$(echo "$card" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')
[[ $gpu == 1 ]] || card_slug="no-gpu"
[[ $cuda_build == 1 ]] || gpu=0

# ---------------------------------------------------------------- (c) GPU tests
note "(c) GPU tests"
filter='*Cuda*:CudaAgreement.*:CudaFloat32.*:CudaBackend.*:GpKernelsHost.*:BackendTopK.*'
if [[ -n $tests_bin ]]; then
  run_step 150 "$tests_bin" --gtest_filter="$filter" --gtest_output="json:$work/tests.json" \
    2>&1 | tee "$work/tests.log" | grep -E '^\[ +(OK|FAILED) |^\[  (PASSED|SKIPPED) +\] [0-9]|measured|Failure' | tail -80
  rc=${PIPESTATUS[0]}
  count() { sed -n "s/^\[  $1 *\] \([0-9]*\) tests\{0,1\}[.,].*/\1/p" "$work/tests.log" | tail -1; }
  skipped=$(count SKIPPED)
  row "gtest (GPU filter)" "rc=$rc passed=$(count PASSED) failed=$(c=$(count FAILED); echo "${c:-0}") skipped=${skipped:-0}"
  ((rc == 0)) || status=1
  # With a GPU nothing in the filter may skip: a skip there means the device was not used.
  if [[ $gpu == 1 && ${skipped:-0} != 0 ]]; then
    grep -A1 '^\[  SKIPPED' "$work/tests.log" | head -20
    status=1
  fi
  grep measured "$work/tests.log" > "$work/measured.txt" || true
fi

# ---------------------------------------------------------------- (d) benchmarks
note "(d) GPU benchmarks: the issue's targets first"
bench_json=()
run_bench() {  # run_bench NAME CAP BINARY FILTER
  local name=$1 cap=$2 bin=$3 filter=$4
  run_step "$cap" "$bin" --device=cuda --benchmark_filter="$filter" \
    --benchmark_out="$work/$name.json" --benchmark_out_format=json 2>&1 | tail -20
  local rc=${PIPESTATUS[0]}
  [[ -s $work/$name.json ]] && bench_json+=("$work/$name.json")
  row "bench $name" "rc=$rc"
}
if [[ $gpu == 1 && -n $gp_bench ]]; then
  run_bench lml_small 90 "$gp_bench" 'BM_LmlGrad/(1000|2000|5000|10000)/'
  run_bench score 120 "$gp_bench" 'BM_ScoreTopK'
  [[ -n $ask_bench ]] && run_bench ask 100 "$ask_bench" 'BM_Ask/'
else
  echo "skipped (gpu=$gpu)"
fi

# ---------------------------------------------------------------- (e) memcheck
note "(e) compute-sanitizer memcheck (small fit and score)"
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
if [[ $gpu == 1 && -n $sanitizer && -n $tests_bin ]]; then
  run_step 90 "$sanitizer" --tool memcheck --error-exitcode 3 --leak-check full "$tests_bin" \
    --gtest_filter='CudaBackend.SmallFitAndScore' 2>&1 | tail -15
  rc=${PIPESTATUS[0]}
  row "memcheck" "$([[ $rc == 0 ]] && echo "clean" || echo "rc=$rc")"
  ((rc == 0)) || status=1
else
  echo "skipped (gpu=$gpu, compute-sanitizer: ${sanitizer:-not found})"
  row "memcheck" "skipped"
fi

# ---------------------------------------------------------------- (f) more benchmarks
note "(f) GPU benchmarks: trust region, large n"
if [[ $gpu == 1 && -n $gp_bench ]]; then
  # Issue 7's target: one trust-region ask(100) at d = 300, n = 5,000 under 10 s.
  [[ -n $ask_bench ]] && run_bench ask_trust_region 60 "$ask_bench" 'BM_AskTrustRegion'
  run_bench lml_large 90 "$gp_bench" 'BM_LmlGrad/(20000|50000)/'
else
  echo "skipped (gpu=$gpu)"
fi

# ---------------------------------------------------------------- (g) BoTorch
note "(g) BoTorch on the same cases"
botorch_json=""
# Python gets the machine's own library path, not our carried libstdc++/OpenBLAS.
py() { LD_LIBRARY_PATH=$original_ld_path python3 "$@"; }
if [[ $gpu == 1 ]] && py -c 'import torch, botorch, gpytorch; assert torch.cuda.is_available()' 2> /dev/null; then
  run_step 80 env LD_LIBRARY_PATH="$original_ld_path" python3 "$repo/bench/botorch_compare.py" --out "$work/botorch.json" 2>&1 | tail -20
  [[ -s $work/botorch.json ]] && botorch_json="$work/botorch.json"
  row "botorch" "$([[ -n $botorch_json ]] && echo ran || echo failed)"
else
  echo "skipped: python3 with torch/botorch/gpytorch on CUDA not available"
  row "botorch" "skipped"
fi

# ---------------------------------------------------------------- (h) results JSON
note "(h) results"
commit=$(cat "$dir/COMMIT" 2> /dev/null || git -C "$repo" rev-parse HEAD 2> /dev/null || echo unknown)
date_utc=$(date -u +%Y-%m-%d)
result_file="$results/$card_slug-$date_utc.json"
if [[ $gpu == 0 ]]; then
  echo "nothing measured on a GPU: no results file"
elif command -v python3 > /dev/null; then
  python3 - "$result_file" "$card" "$date_utc" "$commit" "$work/measured.txt" "$botorch_json" \
    "${bench_json[@]}" << 'PY'
import json, os, sys
out, card, date, commit, measured, botorch = sys.argv[1:7]
figures = []
for path in sys.argv[7:]:
    with open(path) as f:
        data = json.load(f)
    for b in data.get("benchmarks", []):
        keep = {k: b[k] for k in ("name", "real_time", "time_unit", "iterations") if k in b}
        for k in ("n", "d", "m", "q", "float32", "floor_ms", "x_floor", "candidates/s", "GFLOP/s"):
            if k in b:
                keep[k] = b[k]
        figures.append(keep)
doc = {"card": card, "date": date, "commit": commit,
       "fp64_rate_tflops": float(os.environ.get("GPBO_FP64_TFLOPS", "67")),
       "figures": figures,
       "test_measurements": open(measured).read().splitlines() if os.path.exists(measured) else [],
       "botorch": json.load(open(botorch)) if botorch else None}
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
# The short table printed last.
with open(os.path.join(os.path.dirname(out), ".table.txt"), "w") as t:
    for fig in figures:
        extra = ""
        if "floor_ms" in fig:
            extra = f"floor {fig['floor_ms']:.2f} ms  x{fig['x_floor']:.1f}"
        if "candidates/s" in fig:
            extra += f"  {fig['candidates/s']:.3g} cand/s"
        t.write(f"{fig['name']:<44} {fig['real_time']:>10.2f} {fig.get('time_unit', '')}  {extra}\n")
    for r in (doc["botorch"] or {}).get("cases", []):
        t.write(f"botorch {r['case']:<36} {r['median_ms']:>10.2f} ms\n")
PY
  echo "wrote $result_file"
  # The evidence beside it, for a failure to be diagnosed without another GPU session: the
  # whole test log, gtest's JSON and every benchmark's raw JSON (one file: $OUT returns 8).
  tar -C "$work" -czf "${result_file%.json}-raw.tar.gz" \
    $(cd "$work" && ls -- *.log *.json *.txt 2> /dev/null) &&
    echo "wrote ${result_file%.json}-raw.tar.gz"
else
  echo "python3 not found: benchmark JSON left in $work only"
fi

# ---------------------------------------------------------------- table
note "summary ($(($(date +%s) - start)) s)"
printf '%s\n' "${table[@]}"
[[ -f $results/.table.txt ]] && cat "$results/.table.txt" && rm -f "$results/.table.txt"
if [[ $gpu == 0 ]]; then
  echo "no usable GPU: GPU steps skipped"
  exit 77
fi
exit $status
