#pragma once
// The gpbo command-line front door: each subcommand parses into a plain struct and runs here.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gpbo/study.hpp"

namespace gpbo::cli {

/// Exit codes: 0 success, 2 usage or invalid input (including an unavailable device), 3 not
/// found or conflict, 4 internal error, 5 storage error (unreadable, corrupt or locked store).
enum ExitCode { kOk = 0, kUsage = 2, kNotFound = 3, kInternal = 4, kStorage = 5 };

/// Engine flags shared by commands that run studies.
struct EngineArgs {
  std::string device = "auto";
  std::string score_precision = "double";
  std::string acquisition = "logei";
  std::string kernel = "matern52";
  int n_initial = 0;
  std::string warp = "halfrank";
  std::string batch_method = "auto";
  std::string strategy = "auto";
  int trust_regions = 1;
  double warp_strength = 1000.0;
  void add_to(CLI::App& app);
  StudyOptions study_options() const;
};

struct OptimizeArgs {
  std::string function;
  int dim = 0;
  int budget = 0;
  std::uint64_t seed = 0;
  int batch = 1;
  bool json = false;
  EngineArgs engine;
};

struct BenchArgs {
  std::vector<std::string> functions;
  std::vector<std::string> methods{"gpbo", "sobol"};
  int seeds = 10;
  std::uint64_t first_seed = 0;
  int budget = 0;
  int dim = 0;
  int batch = 1;
  std::string jsonl;
  EngineArgs engine;
};

int run_optimize(const OptimizeArgs& args);
/// Adds `gpbo serve` to `app`; the returned function runs it when parsed (else returns -1).
std::function<int()> add_serve_command(CLI::App& app);
int run_bench(const BenchArgs& args);

/// Budget from the benchmark protocol (shared/benchmarks.md) for a function, or 50.
int default_budget(const std::string& function);

}  // namespace gpbo::cli
