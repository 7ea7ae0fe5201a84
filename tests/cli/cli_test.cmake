# End-to-end tests of the gpbo command line: JSON output, determinism, exit codes (0 ok, 2 usage
# or invalid input, 3 not found or conflict, 4 internal) and the bench JSONL file.
#
#   cmake -DGPBO=<path to the gpbo binary> -P tests/cli/cli_test.cmake
#
# Every case runs; failures are collected and reported together at the end.
cmake_minimum_required(VERSION 3.19)  # string(JSON ...)

if(NOT DEFINED GPBO OR NOT EXISTS "${GPBO}")
  message(FATAL_ERROR "cli_test: pass -DGPBO=<path to the gpbo binary> (got '${GPBO}')")
endif()

set(failures "")
macro(fail what)
  string(APPEND failures "\n  - ${what}")
  message(STATUS "FAIL: ${what}")
endmacro()

# run_gpbo(<prefix> args...): runs the binary; sets <prefix>_rc, <prefix>_out, <prefix>_err.
function(run_gpbo prefix)
  execute_process(
    COMMAND "${GPBO}" ${ARGN}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err
    TIMEOUT 120)
  set(${prefix}_rc "${rc}" PARENT_SCOPE)
  set(${prefix}_out "${out}" PARENT_SCOPE)
  set(${prefix}_err "${err}" PARENT_SCOPE)
  string(JOIN " " cmdline ${ARGN})
  message(STATUS "gpbo ${cmdline} -> exit ${rc}")
endfunction()

# expect_exit(<prefix> <code> <description>): exact exit code.
macro(expect_exit prefix code what)
  if(NOT "${${prefix}_rc}" STREQUAL "${code}")
    fail("${what}: expected exit ${code}, got '${${prefix}_rc}'; stderr: ${${prefix}_err}")
  endif()
endmacro()

# expect_error_message(<prefix> <description>): something was written to stderr, and the process
# exited with a non-zero *number* (a crash gives a text such as "Segmentation fault").
macro(expect_error_message prefix what)
  if(NOT "${${prefix}_rc}" MATCHES "^[1-9][0-9]*$")
    fail("${what}: expected a non-zero exit code, got '${${prefix}_rc}'")
  endif()
  string(STRIP "${${prefix}_err}" _stripped)
  if(_stripped STREQUAL "")
    fail("${what}: nothing on stderr")
  endif()
endmacro()

# ------------------------------------------------------------ optimize --json: keys and types
set(optimize_args optimize --function branin --budget 12 --seed 1 --json)
run_gpbo(opt1 ${optimize_args})
expect_exit(opt1 0 "optimize --json")
string(STRIP "${opt1_out}" opt1_json)
string(JSON opt1_type ERROR_VARIABLE opt1_json_error TYPE "${opt1_json}")
if(opt1_json_error OR NOT opt1_type STREQUAL "OBJECT")
  fail("optimize --json: stdout is not one JSON object: '${opt1_out}' (${opt1_json_error})")
else()
  foreach(key best_value regret seconds_total seconds_per_ask optimal_value)
    string(JSON t ERROR_VARIABLE e TYPE "${opt1_json}" ${key})
    if(e OR NOT t STREQUAL "NUMBER")
      fail("optimize --json: key '${key}' missing or not a number (${e}) in ${opt1_json}")
    endif()
  endforeach()
  foreach(key seconds_total seconds_per_ask regret)
    string(JSON v ERROR_VARIABLE e GET "${opt1_json}" ${key})
    if(NOT e AND v MATCHES "^-")
      fail("optimize --json: '${key}' is negative (${v})")
    endif()
  endforeach()
  string(JSON fn ERROR_VARIABLE e GET "${opt1_json}" function)
  if(e OR NOT fn STREQUAL "branin")
    fail("optimize --json: function is '${fn}', expected branin")
  endif()
  string(JSON budget ERROR_VARIABLE e GET "${opt1_json}" budget)
  if(e OR NOT budget EQUAL 12)
    fail("optimize --json: budget is '${budget}', expected 12")
  endif()
  string(JSON seed ERROR_VARIABLE e GET "${opt1_json}" seed)
  if(e OR NOT seed EQUAL 1)
    fail("optimize --json: seed is '${seed}', expected 1")
  endif()
  string(JSON best1 ERROR_VARIABLE e GET "${opt1_json}" best_value)
endif()

# ------------------------------------------------------------ determinism: same command twice
run_gpbo(opt2 ${optimize_args})
expect_exit(opt2 0 "optimize --json (second run)")
string(STRIP "${opt2_out}" opt2_json)
string(JSON best2 ERROR_VARIABLE e GET "${opt2_json}" best_value)
if(e)
  fail("optimize --json (second run): no best_value in '${opt2_out}'")
elseif(NOT DEFINED best1 OR NOT "${best1}" STREQUAL "${best2}")
  fail("optimize is not deterministic: best_value '${best1}' then '${best2}' with the same seed")
endif()

# A different seed runs too (and is free to give another value).
run_gpbo(opt3 optimize --function branin --budget 12 --seed 2 --json)
expect_exit(opt3 0 "optimize --seed 2")

# ------------------------------------------------------------ plain-text output
run_gpbo(text optimize --function branin --budget 6 --seed 0)
expect_exit(text 0 "optimize (text output)")
if(NOT text_out MATCHES "regret" OR NOT text_out MATCHES "best value")
  fail("optimize (text output): no 'best value'/'regret' lines in: ${text_out}")
endif()

# ------------------------------------------------------------ invalid input: exit 2
run_gpbo(nosuch optimize --function nosuch --budget 5)
expect_exit(nosuch 2 "--function nosuch")
expect_error_message(nosuch "--function nosuch")
if(NOT nosuch_err MATCHES "nosuch")
  fail("--function nosuch: the error message does not name the function: ${nosuch_err}")
endif()
if(NOT "${nosuch_out}" STREQUAL "")
  fail("--function nosuch: unexpected stdout: ${nosuch_out}")
endif()

run_gpbo(negbudget optimize --function branin --budget -3)
expect_exit(negbudget 2 "--budget -3")
expect_error_message(negbudget "--budget -3")

run_gpbo(nofunc optimize --budget 5)
expect_exit(nofunc 2 "optimize without --function")
expect_error_message(nofunc "optimize without --function")

run_gpbo(badwarp optimize --function branin --budget 5 --output-warping sqrt)
expect_exit(badwarp 2 "--output-warping sqrt")
expect_error_message(badwarp "--output-warping sqrt")

run_gpbo(badacq optimize --function branin --budget 5 --acquisition qei)
expect_exit(badacq 2 "--acquisition qei")
expect_error_message(badacq "--acquisition qei")

run_gpbo(baddev optimize --function branin --budget 5 --device bogus)
expect_exit(baddev 2 "--device bogus")
expect_error_message(baddev "--device bogus")

run_gpbo(nosub)
expect_exit(nosub 2 "no subcommand")
expect_error_message(nosub "no subcommand")

run_gpbo(version --version)
expect_exit(version 0 "--version")
if(NOT version_out MATCHES "gpbo")
  fail("--version: no version on stdout: ${version_out}")
endif()

# ------------------------------------------------------------ --device cuda without a GPU build
# This configuration has no CUDA backend (and no GPU): the command must fail cleanly with a
# message, whatever the exact non-zero code.
run_gpbo(cuda optimize --function branin --budget 5 --device cuda)
expect_error_message(cuda "--device cuda")
string(TOLOWER "${cuda_err}" cuda_err_lower)
if(NOT cuda_err_lower MATCHES "cuda")
  fail("--device cuda: the error message does not mention CUDA: ${cuda_err}")
endif()
if(cuda_out MATCHES "best_value|regret")
  fail("--device cuda: printed a result although the device is unavailable: ${cuda_out}")
endif()

# ------------------------------------------------------------ bench --jsonl
string(RANDOM LENGTH 8 tag)
set(jsonl "${CMAKE_CURRENT_BINARY_DIR}/cli_test_bench_${tag}.jsonl")
file(REMOVE "${jsonl}")
run_gpbo(bench bench --functions branin --seeds 2 --budget 8 --jsonl "${jsonl}")
expect_exit(bench 0 "bench --jsonl")
if(NOT EXISTS "${jsonl}")
  fail("bench --jsonl: '${jsonl}' was not written")
else()
  file(STRINGS "${jsonl}" lines)
  list(LENGTH lines n_lines)
  if(NOT n_lines EQUAL 4)
    fail("bench --jsonl: expected 4 lines (gpbo and sobol x 2 seeds), got ${n_lines}")
  endif()
  set(runs "")
  foreach(line IN LISTS lines)
    string(JSON t ERROR_VARIABLE e TYPE "${line}")
    if(e OR NOT t STREQUAL "OBJECT")
      fail("bench --jsonl: line is not a JSON object: ${line}")
      continue()
    endif()
    string(JSON t ERROR_VARIABLE e TYPE "${line}" final_regret)
    if(e OR NOT t STREQUAL "NUMBER")
      fail("bench --jsonl: final_regret missing or not a number: ${line}")
    endif()
    string(JSON method ERROR_VARIABLE e1 GET "${line}" method)
    string(JSON seed ERROR_VARIABLE e2 GET "${line}" seed)
    string(JSON fn ERROR_VARIABLE e3 GET "${line}" function)
    string(JSON budget ERROR_VARIABLE e4 GET "${line}" budget)
    if(e1 OR e2 OR e3 OR e4)
      fail("bench --jsonl: method/seed/function/budget missing: ${line}")
      continue()
    endif()
    if(NOT fn STREQUAL "branin" OR NOT budget EQUAL 8)
      fail("bench --jsonl: expected function branin, budget 8: ${line}")
    endif()
    list(APPEND runs "${method}:${seed}")
  endforeach()
  list(SORT runs)
  if(NOT "${runs}" STREQUAL "gpbo:0;gpbo:1;sobol:0;sobol:1")
    fail("bench --jsonl: expected runs gpbo:0;gpbo:1;sobol:0;sobol:1, got ${runs}")
  endif()
  file(REMOVE "${jsonl}")
endif()

# bench: invalid input exits 2.
run_gpbo(bench_method bench --functions branin --methods random --seeds 1 --budget 3)
expect_exit(bench_method 2 "bench --methods random")
expect_error_message(bench_method "bench --methods random")

run_gpbo(bench_fn bench --functions nosuch --seeds 1 --budget 3)
expect_exit(bench_fn 2 "bench --functions nosuch")
expect_error_message(bench_fn "bench --functions nosuch")

run_gpbo(bench_path bench --functions branin --seeds 1 --budget 3
         --jsonl "${CMAKE_CURRENT_BINARY_DIR}/no_such_dir_${tag}/out.jsonl")
expect_exit(bench_path 2 "bench --jsonl into a missing directory")
expect_error_message(bench_path "bench --jsonl into a missing directory")

run_gpbo(bench_seeds bench --functions branin --seeds 0 --budget 3)
expect_exit(bench_seeds 2 "bench --seeds 0")

# ------------------------------------------------------------ --strategy
run_gpbo(tr1 optimize --function ackley --dim 6 --budget 14 --batch 4 --seed 2
         --strategy trust-region --json)
expect_exit(tr1 0 "optimize --strategy trust-region")
string(JSON tr1_strategy ERROR_VARIABLE tr1_err GET "${tr1_out}" strategy)
if(NOT tr1_strategy STREQUAL "trust-region")
  fail("optimize --strategy trust-region: strategy is '${tr1_strategy}' (${tr1_err})")
endif()
run_gpbo(tr2 optimize --function ackley --dim 6 --budget 8 --strategy auto --json)
string(JSON tr2_strategy ERROR_VARIABLE tr2_err GET "${tr2_out}" strategy)
if(NOT tr2_strategy STREQUAL "global")
  fail("optimize --strategy auto at d = 6: strategy is '${tr2_strategy}' (${tr2_err})")
endif()
run_gpbo(tr3 optimize --function ackley --dim 6 --budget 8 --strategy local)
expect_exit(tr3 2 "optimize --strategy local")
expect_error_message(tr3 "optimize --strategy local")

# ------------------------------------------------------------ --trust-regions, --score-precision
run_gpbo(trm optimize --function ackley --dim 6 --budget 24 --batch 6 --seed 3
         --strategy trust-region --trust-regions 3 --json)
expect_exit(trm 0 "optimize --trust-regions 3")
string(JSON trm_strategy ERROR_VARIABLE trm_err GET "${trm_out}" strategy)
if(NOT trm_strategy STREQUAL "trust-region")
  fail("optimize --trust-regions 3: strategy is '${trm_strategy}' (${trm_err})")
endif()
run_gpbo(trm0 optimize --function ackley --dim 6 --budget 8 --trust-regions 0)
expect_exit(trm0 2 "optimize --trust-regions 0")
expect_error_message(trm0 "optimize --trust-regions 0")
run_gpbo(trmq optimize --function ackley --dim 6 --budget 8 --trust-regions 2 --batch-method qlognei)
expect_exit(trmq 2 "optimize --trust-regions 2 --batch-method qlognei")
expect_error_message(trmq "optimize --trust-regions 2 --batch-method qlognei")
run_gpbo(sp1 optimize --function branin --budget 8 --score-precision float --json)
expect_exit(sp1 0 "optimize --score-precision float (the CPU scores in double)")
run_gpbo(sp2 optimize --function branin --budget 8 --score-precision half)
expect_exit(sp2 2 "optimize --score-precision half")
expect_error_message(sp2 "optimize --score-precision half")

# ------------------------------------------------------------ verdict
if(failures)
  message(FATAL_ERROR "cli_test failed:${failures}")
endif()
message(STATUS "cli_test: all cases passed")
