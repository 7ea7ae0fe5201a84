// `gpbo bench`: the regret benchmark of shared/benchmarks.md (median and quartiles over seeds).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/function_run.hpp"
#include "cli/problem_run.hpp"
#include "gpbo/error.hpp"
#include "gpbo/test_functions.hpp"

namespace gpbo::cli {
namespace {

/// Linear-interpolated quantile of a sorted sample.
double quantile(const std::vector<double>& s, double q) {
  const double pos = q * (s.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (pos - lo) * (s[hi] - s[lo]);
}

/// The problems' rows: the final hypervolume (several objectives) or best feasible value.
void bench_problems(const BenchArgs& args, const StudyOptions& options, std::ofstream& jsonl) {
  std::printf("%-22s %4s %6s %-6s %-12s %-34s %12s\n", "problem", "dim", "budget", "method",
              "measure", "median [Q1, Q3]", "s/ask");
  for (const std::string& name : args.problems) {
    const TestProblem p = TestProblem::make(name, args.dim);
    const bool several = p.metrics().multi_objective();
    const int budget = args.budget > 0 ? args.budget : default_problem_budget(name);
    for (const std::string& method : args.methods) {
      std::vector<double> results, per_ask;
      for (int s = 0; s < args.seeds; ++s) {
        const std::uint64_t seed = args.first_seed + static_cast<std::uint64_t>(s);
        const ProblemRun run = run_on_problem(p, method, budget, seed, options, args.batch);
        // No feasible evaluation: the worst outcome (+inf for a value to minimize).
        results.push_back(std::isnan(run.result) ? std::numeric_limits<double>::infinity()
                                                 : run.result);
        per_ask.push_back(run.seconds_per_ask);
        if (jsonl) {
          const auto number = [](double x) {
            return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
          };
          jsonl << nlohmann::json{{"problem", p.name()},
                                  {"dim", p.dim()},
                                  {"budget", budget},
                                  {"q", args.batch},
                                  {"seed", seed},
                                  {"method", method},
                                  {several ? "hypervolume" : "best_feasible_value",
                                   number(run.result)},
                                  {"best_known", number(p.best_known())},
                                  {"regret", number(run.regret)},
                                  {"feasible", run.feasible},
                                  {"seconds_total", run.seconds_total},
                                  {"seconds_per_ask", run.seconds_per_ask},
                                  {"device", run.device}}
                       .dump()
                << "\n";
          jsonl.flush();
        }
      }
      std::sort(results.begin(), results.end());
      std::sort(per_ask.begin(), per_ask.end());
      char cell[64];
      std::snprintf(cell, sizeof cell, "%.4g [%.4g, %.4g]", quantile(results, 0.5),
                    quantile(results, 0.25), quantile(results, 0.75));
      std::printf("%-22s %4d %6d %-6s %-12s %-34s %12.4f\n", p.name().c_str(), p.dim(), budget,
                  method.c_str(), several ? "hypervolume" : "best value", cell,
                  quantile(per_ask, 0.5));
      std::fflush(stdout);
    }
  }
}

}  // namespace

int run_bench(const BenchArgs& args) {
  if (!args.problems.empty() && args.functions.empty()) {
    OptionValues values;
    args.engine.apply(&values);
    std::ofstream jsonl;
    if (!args.jsonl.empty()) {
      jsonl.open(args.jsonl);
      if (!jsonl) throw InvalidArgument("cannot write '" + args.jsonl + "'");
    }
    bench_problems(args, values.study, jsonl);
    return kOk;
  }
  if (!args.problems.empty()) {
    throw InvalidArgument("bench: give --functions or --problems, not both");
  }
  const std::vector<std::string> functions =
      args.functions.empty()
          ? std::vector<std::string>{"branin", "hartmann6", "ackley", "levy", "rosenbrock"}
          : args.functions;
  OptionValues values;
  args.engine.apply(&values);
  const StudyOptions& options = values.study;
  std::ofstream jsonl;
  if (!args.jsonl.empty()) {
    jsonl.open(args.jsonl);
    if (!jsonl) throw InvalidArgument("cannot write '" + args.jsonl + "'");
  }
  std::printf("%-12s %4s %6s %-6s %-34s %12s\n", "function", "dim", "budget", "method",
              "regret median [Q1, Q3]", "s/ask");
  for (const std::string& name : functions) {
    const TestFunction probe = TestFunction::make(name);
    // --dim applies to the scalable functions; fixed-dimension ones keep their own.
    const TestFunction f = args.dim > 0 && probe.name() != "branin" &&
                                   probe.name() != "hartmann3" && probe.name() != "hartmann6"
                               ? TestFunction::make(name, args.dim)
                               : probe;
    const int budget = args.budget > 0 ? args.budget : default_budget(name);
    // Rosenbrock's regret spans orders of magnitude: the protocol reports log10 regret.
    const bool log10_regret = f.name() == "rosenbrock";
    for (const std::string& method : args.methods) {
      std::vector<double> regrets, per_ask;
      for (int s = 0; s < args.seeds; ++s) {
        const std::uint64_t seed = args.first_seed + static_cast<std::uint64_t>(s);
        const FunctionRun run = run_on_function(f, method, budget, seed, options, args.batch);
        const double r = log10_regret ? std::log10(std::max(run.regret, 1e-300)) : run.regret;
        regrets.push_back(r);
        per_ask.push_back(run.seconds_per_ask);
        if (jsonl) {
          jsonl << nlohmann::json{{"function", f.name()},
                                  {"dim", f.dim()},
                                  {"budget", budget},
                                  {"q", args.batch},
                                  {"batch_method", to_string(options.batch_method)},
                                  {"strategy", run.strategy},
                                  {"trust_regions", options.trust_region.n_regions},
                                  {"seed", seed},
                                  {"method", method},
                                  {"final_regret", run.regret},
                                  {"reported_regret", r},
                                  {"log10", log10_regret},
                                  {"best_value", run.best_value},
                                  {"seconds_total", run.seconds_total},
                                  {"seconds_per_ask", run.seconds_per_ask},
                                  {"device", run.device}}
                       .dump()
                << "\n";
          jsonl.flush();
        }
      }
      std::sort(regrets.begin(), regrets.end());
      std::sort(per_ask.begin(), per_ask.end());
      char cell[64];
      std::snprintf(cell, sizeof cell, "%.3g [%.3g, %.3g]%s", quantile(regrets, 0.5),
                    quantile(regrets, 0.25), quantile(regrets, 0.75),
                    log10_regret ? " (log10)" : "");
      std::printf("%-12s %4d %6d %-6s %-34s %12.4f\n", f.name().c_str(), f.dim(), budget,
                  method.c_str(), cell, quantile(per_ask, 0.5));
      std::fflush(stdout);
    }
  }
  return kOk;
}

}  // namespace gpbo::cli
