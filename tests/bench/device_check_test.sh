#!/usr/bin/env bash
# bench/device_check.sh without a GPU, in seconds (ctest: device_check.dry_runs):
#   1. this machine as it is, with the real binaries and no nvidia-smi: the preamble's line and
#      exit 77, before any step; the gpbo CLI is found and ldd-checked like the others (in a
#      build with or without CUDA);
#   2. a fake nvidia-smi that fails: the same, and its error text names no card or file;
#   3. the GPU steps forced (DEVICE_CHECK_FORCE=1) on binaries built without CUDA, with a fake
#      nvidia-smi that lists a card: every step says "not a GPU build", none fails or runs a
#      binary, and the exit code is the preamble's 78; a stage without the gpbo CLI: 78, named;
#      cold_ask's sizes for an H100 (80,000, and 100,000 refused) and an H200 (100,000);
#   4. the GPU filter (--print-filter) on the real gpbo_tests: here, where no device is
#      visible, every test it selects skips, and the tests beside them in the same suites
#      never skip;
#   5. a whole run on a simulated GPU machine (fake nvidia-smi, ldd and compute-sanitizer,
#      stand-in binaries that leave what real ones leave when capped or failing, and a gpbo
#      CLI that refuses 100,000 trials as the memory limit would): every step runs, each
#      status is what happened, and the results file keeps every figure that parsed, the cold
#      asks among them, and names what did not.
# Usage: device_check_test.sh GPBO_TESTS GP_BENCH ASK_BENCH GPBO   (KEEP=1 keeps its scratch folder)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../bench/device_check.sh"
[[ $# -eq 4 ]] || { echo "usage: $0 GPBO_TESTS GP_BENCH ASK_BENCH GPBO" >&2; exit 2; }
work=$(mktemp -d)
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# A stage folder whose bin/ holds the given binaries, under the names device_check.sh expects.
stage() {  # stage DIR GPBO_TESTS GP_BENCH ASK_BENCH GPBO
  mkdir -p "$1/bin"
  ln -s "$(realpath "$2")" "$1/bin/gpbo_tests"
  ln -s "$(realpath "$3")" "$1/bin/gp_bench"
  ln -s "$(realpath "$4")" "$1/bin/ask_bench"
  ln -s "$(realpath "$5")" "$1/bin/gpbo"
  echo test > "$1/COMMIT"
}
# PATH without any folder that holds an nvidia-smi (this machine may have a driver).
path_without_nvidia_smi() {
  local out="" d
  local IFS=:
  for d in $PATH; do
    [[ -x $d/nvidia-smi ]] || out+="${out:+:}$d"
  done
  echo "$out"
}
# check_run NAME EXPECTED_EXIT LAST_LINE_PATTERN: the run's exit code and last line.
check_run() {
  local name=$1 expected=$2 pattern=$3 rc last
  rc=$(cat "$work/$name.rc")
  last=$(tail -n 1 "$work/$name.log")
  ((rc == expected)) || fail "$name: exit $rc, expected $expected"
  [[ $last =~ $pattern ]] || fail "$name: last line '$last' does not match '$pattern'"
  if [[ -n $(find "$work/$name.out" -type f 2> /dev/null) ]]; then
    fail "$name: wrote files: $(find "$work/$name.out" -type f)"
  fi
  echo "-- $name: exit $rc, last line: $last"
}
run_check() {  # run_check NAME PATH [VAR=VALUE...] -- DIR
  local name=$1 path=$2
  shift 2
  mkdir -p "$work/$name.out"
  local t0=$SECONDS
  env PATH="$path" OUT="$work/$name.out" "$@" bash "$script" "$stage_dir" > "$work/$name.log" 2>&1
  echo $? > "$work/$name.rc"
  ((SECONDS - t0 <= 30)) || fail "$name: took $((SECONDS - t0)) s (the preamble must be quick)"
}

stage_dir="$work/device"
stage "$stage_dir" "$1" "$2" "$3" "$4"
clean_path=$(path_without_nvidia_smi)

# 1. This machine, no driver.
run_check no_driver "$clean_path"
check_run no_driver 77 '^NOT USABLE \(machine, exit 77\): nvidia-smi not found'
grep -q '^== lml_small' "$work/no_driver.log" && fail "no_driver: a step ran after the preamble"
for b in gpbo_tests gp_bench ask_bench gpbo; do
  grep -qE "^$b: no library missing \([0-9]+ resolved\)$" "$work/no_driver.log" ||
    fail "no_driver: $b was not ldd-checked"
done

# 2. A failing nvidia-smi, as on a machine whose driver is not loaded.
mkdir -p "$work/failing"
cat > "$work/failing/nvidia-smi" << 'EOF'
#!/bin/sh
echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."
exit 9
EOF
chmod +x "$work/failing/nvidia-smi"
run_check failing_smi "$work/failing:$clean_path"
check_run failing_smi 77 '^NOT USABLE \(machine, exit 77\): nvidia-smi failed \(exit 9\): NVIDIA-SMI has failed'
grep -q '^card:' "$work/failing_smi.log" && fail "failing_smi: its error text was taken for a card"

# 3. The GPU steps forced on binaries without CUDA (copies of false: a dynamic executable
#    that links no cuBLAS, and fails if a step runs it), beside a card.
mkdir -p "$work/card" "$work/cpu/bin"
cat > "$work/card/nvidia-smi" << 'EOF'
#!/bin/sh
case "$*" in
  *--query-gpu*) echo "NVIDIA H100 80GB HBM3, 580.65.06, 81559 MiB" ;;
  *) echo "| NVIDIA-SMI 580.65.06   Driver Version: 580.65.06   CUDA Version: 13.0 |" ;;
esac
EOF
chmod +x "$work/card/nvidia-smi"
false_bin=$(type -P false)
for b in gpbo_tests gp_bench ask_bench gpbo; do cp "$false_bin" "$work/cpu/bin/$b"; done
echo test > "$work/cpu/COMMIT"
saved_stage=$stage_dir
stage_dir="$work/cpu"
run_check forced_cpu_build "$work/card:$clean_path" DEVICE_CHECK_FORCE=1
stage_dir=$saved_stage
check_run forced_cpu_build 78 '^NOT USABLE \(carried folder, exit 78\): .*not a GPU build'
for step in lml_small score ask cold_ask tests lml_large botorch trust_region memcheck; do
  grep -qE "^$step +not run: not a GPU build$" "$work/forced_cpu_build.log" ||
    fail "forced_cpu_build: step $step does not say 'not run: not a GPU build'"
done
grep -E '^[a-z_]+ +FAILED' "$work/forced_cpu_build.log" && fail "forced_cpu_build: a step failed"
grep -q 'card: NVIDIA H100 80GB HBM3, driver 580.65.06' "$work/forced_cpu_build.log" ||
  fail "forced_cpu_build: the fake card was not read"

# A stage without the gpbo CLI (as collect_libs.sh staged before it carried one); the others
# are the copies of false, so that no CUDA runtime is probed whatever this build is.
mkdir -p "$work/no_cli/bin"
for b in gpbo_tests gp_bench ask_bench; do cp "$false_bin" "$work/no_cli/bin/$b"; done
stage_dir="$work/no_cli"
run_check no_cli "$work/card:$clean_path"
stage_dir=$saved_stage
check_run no_cli 78 "^NOT USABLE \(carried folder, exit 78\): no gpbo \(the CLI\) under $work/no_cli"

# cold_ask's sizes from the card's memory (nvidia-smi's memory.total, MiB).
sizes() {
  local got
  got=$(bash "$script" --print-cold-sizes "$1")
  [[ $got == "$2" ]] || fail "--print-cold-sizes $1: '$got', expected '$2'"
}
sizes 81559 '--refused 100000 10000 100000 80000'  # H100 80GB: 100,000 needs 92 GB > 64 GB
sizes 143771 '10000 100000'                        # H200: 92 GB <= 113 GB
sizes 49152 '--refused 100000 10000 100000 50000'  # 48 GiB: 70,000 needs 45 GB > 38.7 GB
sizes 16384 '--refused 100000 10000 100000'        # 16 GiB: none of them
bash "$script" --print-cold-sizes 80GB > /dev/null 2>&1
(($? == 2)) || fail "--print-cold-sizes 80GB: not a usage error"

# 4. The GPU filter selects exactly the tests that need a device.
filter=$(bash "$script" --print-filter)
counts() {  # counts LOG: "passed failed skipped"
  local p f s
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
  echo "${p:-0} ${f:-0} ${s:-0}"
}
env PATH="$clean_path" "$1" --gtest_filter="$filter" > "$work/filter.log" 2>&1
read -r passed failed skipped <<< "$(counts "$work/filter.log")"
echo "-- GPU filter '$filter': passed=$passed failed=$failed skipped=$skipped"
((failed == 0)) || fail "GPU filter: $failed tests failed"
if ((passed > 0)); then
  ((skipped == 0)) || fail "GPU filter: some tests ran and $skipped skipped: one needs no device"
else
  ((skipped >= 20)) || fail "GPU filter: only $skipped tests selected"
  grep -A1 '^\[ RUN' "$work/filter.log" | grep -q 'Skipped' || true
  others=$(grep -c 'no CUDA device' "$work/filter.log")
  ((others >= skipped)) || fail "GPU filter: $skipped skips but $others say 'no CUDA device'"
fi
beside='DeviceResolve.*:BackendFactory.*:BackendTopK.*:GpKernelsHost.*:JitterLadder.*'
beside+=':PosteriorFactor.*:LmlTest.*:GpCondition.*:AcquisitionScore.*'
env PATH="$clean_path" "$1" --gtest_filter="$beside-$filter" > "$work/beside.log" 2>&1
read -r passed failed skipped <<< "$(counts "$work/beside.log")"
echo "-- beside the filter: passed=$passed failed=$failed skipped=$skipped"
((failed == 0 && skipped == 0 && passed > 0)) ||
  fail "beside the filter: passed=$passed failed=$failed skipped=$skipped (none may skip)"

# 5. A simulated GPU machine.
sim="$work/sim"
mkdir -p "$sim/path" "$sim/device/bin"
cp "$work/card/nvidia-smi" "$sim/path/nvidia-smi"
cat > "$sim/path/ldd" << 'EOF'
#!/bin/sh
echo "	libcublas.so.13 => /opt/cuda/lib64/libcublas.so.13 (0x1)"
echo "	libcusolver.so.12 => /opt/cuda/lib64/libcusolver.so.12 (0x2)"
echo "	libc.so.6 => /lib/libc.so.6 (0x3)"
EOF
cat > "$sim/path/compute-sanitizer" << 'EOF'
#!/bin/sh
echo "========= COMPUTE-SANITIZER"
echo "========= Error: Device not supported"
exit 1
EOF
# One stand-in for the four binaries: what each step's call leaves behind.
cat > "$sim/device/bin/gpbo_tests" << 'EOF'
#!/bin/bash
if [[ $(basename "$0") == gpbo ]]; then
  # The CLI on a store, its state in files beside the store: 100,000 trials are refused as
  # the memory limit refuses them; every other ask logs its split and the study's device.
  cmd=$1 db="" file="" device=auto
  shift
  while (($# > 0)); do
    case $1 in
      --storage) db=${2#sqlite://}; shift 2 ;;
      -i) file=$2; shift 2 ;;
      --device) device=$2; shift 2 ;;
      *) shift ;;
    esac
  done
  case $cmd in
    create-study)
      [[ $device == cuda ]] && device=cuda:0
      [[ $device == auto ]] && device=cpu
      echo "$device" > "$db.device"
      : > "$db.asks"
      echo '{"study":"s"}' ;;
    import)
      n=$(($(wc -l < "$file") - 1))
      echo "$n" > "$db.n"
      echo "{\"imported\":$n,\"skipped_running\":0}" ;;
    ask)
      n=$(cat "$db.n")
      if ((n >= 100000)); then
        echo "gpbo: error: GP: $n observations need about 85 GiB for the factor, over the limit of 59.7 GiB (option gp.memory_limit_gb; 0 is three quarters of the GPU's memory)" >&2
        exit 2
      fi
      k=$(wc -l < "$db.asks")
      fit=$( ((k == 0)) && echo 2.5 || echo 0)
      printf '{"event": "ask", "detail": {"model": {"device": "%s", "seconds": {"load": 0.1, "fit": %s, "factor": 0.4, "acquisition": 0.3}}}}\n' "$(cat "$db.device")" "$fit" >> "$db.asks"
      echo "{\"trials\": [{\"id\": $((n + k)), \"state\": \"running\"}]}" ;;
    tell) echo '{}' ;;
    log) echo "{\"log\": [{\"event\": \"create\", \"detail\": {}}, $(paste -sd, "$db.asks")]}" ;;
    *) echo "stand-in gpbo: unexpected call $cmd" >&2; exit 99 ;;
  esac
  exit 0
fi
out="" filter=""
for a in "$@"; do
  case $a in
    --benchmark_out=*) out=${a#*=} ;;
    --benchmark_filter=* | --gtest_filter=*) filter=${a#*=} ;;
  esac
done
entry() { printf '  {"name": "%s", "run_type": "iteration", "iterations": 3, "real_time": %s, "time_unit": "ms", "n": 1000}' "$1" "$2"; }
whole() {  # whole NAME...: a complete Google Benchmark file
  { echo '{"context": {"device": "cuda:0"}, "benchmarks": ['
    local sep="" t=1
    for n in "$@"; do printf '%s' "$sep"; entry "$n" $t; sep=$',\n'; t=$((t + 1)); done
    printf '\n]}\n'; } > "$out"
}
case "$(basename "$0"):$filter" in
  gpbo_tests:BackendFactory.ReportsDeviceCuda)
    echo "[       OK ] BackendFactory.ReportsDeviceCuda (1 ms)" ;;
  gpbo_tests:CudaBackend.SmallFitAndScore) echo "[  PASSED  ] 1 test." ;;
  gpbo_tests:*)
    echo "[       OK ] CudaAgreement.LogMarginalLikelihoodAndGradient (5 ms)"
    echo "measured: float32 scoring |dmean| 1e-4"
    echo "[  PASSED  ] 29 tests." ;;
  gp_bench:BM_LmlGrad/*) whole BM_LmlGrad/1000/10 BM_LmlGrad/10000/10 ;;
  gp_bench:BM_ScoreTopK)  # stopped by its cap in the middle of the third entry
    whole BM_ScoreTopK/1000/10000/0 BM_ScoreTopK/1000/100000/0 BM_ScoreTopK/1000/1000000/0
    head -c "$(($(wc -c < "$out") - 40))" "$out" > "$out.cut" && mv "$out.cut" "$out"
    exit 124 ;;
  gp_bench:BM_LmlGradCheck*)
    printf '{"benchmarks": [{"name": "BM_LmlGradCheck/50000/10/5", "error_occurred": true, "error_message": "wrong value at n = 50000"}]}\n' > "$out"
    echo "ERROR OCCURRED: 'wrong value at n = 50000'"
    exit 3 ;;
  ask_bench:BM_Ask/) : > "$out"; exit 137 ;;
  ask_bench:BM_AskTrustRegion) whole BM_AskTrustRegion/5000/300/100/1000 ;;
  *) echo "stand-in: unexpected call $0 $*" >&2; exit 99 ;;
esac
EOF
chmod +x "$sim/path/"* "$sim/device/bin/gpbo_tests"
ln -s gpbo_tests "$sim/device/bin/gp_bench"
ln -s gpbo_tests "$sim/device/bin/ask_bench"
ln -s gpbo_tests "$sim/device/bin/gpbo"
echo simulated > "$sim/device/COMMIT"
mkdir -p "$sim/out"
env PATH="$sim/path:$clean_path" OUT="$sim/out" bash "$script" "$sim/device" > "$work/simulated_gpu.log" 2>&1
rc=$?
echo "-- simulated_gpu: exit $rc, last line: $(tail -n 1 "$work/simulated_gpu.log")"
((rc == 1)) || fail "simulated_gpu: exit $rc, expected 1"
expect_row() {  # expect_row STEP STATUS_REGEX
  grep -qE "^$1 +$2" "$work/simulated_gpu.log" || fail "simulated_gpu: no row '$1 $2'"
}
expect_row preamble 'ok: NVIDIA H100 80GB HBM3, driver 580.65.06'
expect_row lml_small 'ran'
expect_row score 'FAILED: cap hit'
expect_row ask 'FAILED: cap hit'
expect_row cold_ask 'ran: n=10000: [0-9.]+ s, [0-9.]+ s, [0-9.]+ s; n=100000: refused \(exit 2\) in [0-9.]+ s; n=80000: [0-9.]+ s, [0-9.]+ s, [0-9.]+ s$'
grep -q '^card memory: 81559 MiB: sizes --refused 100000 10000 100000 80000$' "$work/simulated_gpu.log" ||
  fail "simulated_gpu: cold_ask's sizes are not those of the card's memory"
expect_row tests 'passed=29 failed=0 skipped=0'
expect_row lml_large 'FAILED: a value check failed'
expect_row botorch 'not run: '
expect_row trust_region 'ran'
expect_row memcheck 'NO VERDICT: not supported here'
grep -q '^device_check: FAILED: score ask lml_large$' "$work/simulated_gpu.log" ||
  fail "simulated_gpu: the last line does not name the failed steps"
result=$(find "$sim/out/bench/results" -name 'nvidia-h100-80gb-hbm3-*.json' 2> /dev/null | head -n 1)
if [[ -z $result ]]; then
  fail "simulated_gpu: no results file"
else
  grep -q "^wrote $result$" "$work/simulated_gpu.log" || fail "simulated_gpu: no 'wrote $result'"
  python3 - "$result" << 'EOF' || fail "simulated_gpu: the results file is not as expected"
import json, sys
doc = json.load(open(sys.argv[1]))
names = [f["name"] for f in doc["figures"]]
assert names == ["BM_LmlGrad/1000/10", "BM_LmlGrad/10000/10", "BM_ScoreTopK/1000/10000/0",
                 "BM_ScoreTopK/1000/100000/0", "BM_AskTrustRegion/5000/300/100/1000"], names
bad = {u["step"]: u["problem"] for u in doc["unreadable"]}
assert set(bad) == {"score", "ask"} and bad["ask"] == "empty file", bad
assert [e["name"] for e in doc["errors"]] == ["BM_LmlGradCheck/50000/10/5"], doc["errors"]
steps = {s["step"]: s["status"] for s in doc["steps"]}
assert steps["tests"].startswith("passed=29") and steps["memcheck"].startswith("NO VERDICT"), steps
assert doc["card"] == "NVIDIA H100 80GB HBM3" and doc["driver"] == "580.65.06", doc
assert doc["commit"] == "simulated" and doc["test_measurements"], doc
cold = doc["cold_ask"]
assert [c["n"] for c in cold if c["event"] == "import"] == [10000, 100000, 80000], cold
asks = [(c["n"], c["ask"], c["exit"], c["ok"]) for c in cold if c["event"] == "ask"]
assert asks == [(10000, 1, 0, True), (10000, 2, 0, True), (10000, 3, 0, True),
                (100000, 1, 2, True), (80000, 1, 0, True), (80000, 2, 0, True),
                (80000, 3, 0, True)], asks
ran = [c for c in cold if c["event"] == "ask" and c["exit"] == 0]
assert all(c["device"] == "cuda:0" and c["split"]["factor"] == 0.4 for c in ran), ran
assert [c["stored_hyperparameters"] for c in ran] == [False, True, True] * 2, ran
assert "gp.memory_limit_gb" in cold[6]["error"] and steps["cold_ask"].startswith("ran: "), cold
EOF
  [[ -f ${result%.json}-raw.tar.gz ]] || fail "simulated_gpu: no raw tarball"
fi

if ((failures > 0)); then
  for f in "$work"/*.log; do
    echo "==== $(basename "$f")"
    tail -n 40 "$f"
  done
  echo "$failures failure(s)"
  exit 1
fi
echo "device_check dry runs: all passed"
