#pragma once
// The gpbo command-line front door: each subcommand parses into a plain struct and runs here.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "cli/option_flags.hpp"
#include "gpbo/study.hpp"

namespace gpbo::cli {

/// Exit codes: 0 success, 2 a usage error (CLI11's), 7 `gpbo verify` found the study's log or
/// trials tampered with. Every other exit code is an error's, from the table of
/// service/error_table.hpp (2 invalid input or an unusable device, 3 not found or conflict, 4
/// internal, 5 storage, 6 numerical).
enum ExitCode { kOk = 0, kUsage = 2, kNotIntact = 7 };

/// Writes "gpbo: <label>: <message>" on one line of stderr and returns the exit code of `e`
/// (service/error_table.hpp).
int report_error(const std::exception& e);

struct OptimizeArgs {
  std::string function;
  /// A test problem with several metrics (gpbo/test_problems.hpp), instead of a function.
  std::string problem;
  int dim = 0;
  int budget = 0;
  std::uint64_t seed = 0;
  int batch = 1;
  bool json = false;
  OptionFlags engine;
};

struct BenchArgs {
  std::vector<std::string> functions;
  /// Test problems with several metrics; with none and no functions, the five functions.
  std::vector<std::string> problems;
  std::vector<std::string> methods{"gpbo", "sobol"};
  int seeds = 10;
  std::uint64_t first_seed = 0;
  int budget = 0;
  int dim = 0;
  int batch = 1;
  std::string jsonl;
  OptionFlags engine;
};

int run_optimize(const OptimizeArgs& args);
/// Adds `gpbo serve` to `app`; the returned function runs it when parsed (else returns -1).
std::function<int()> add_serve_command(CLI::App& app);
/// Adds `gpbo token add`; the returned function runs it when parsed (else returns -1).
std::function<int()> add_token_command(CLI::App& app);
int run_bench(const BenchArgs& args);

/// Budget from the benchmark protocol (shared/benchmarks.md) for a function, or 50.
int default_budget(const std::string& function);

}  // namespace gpbo::cli
