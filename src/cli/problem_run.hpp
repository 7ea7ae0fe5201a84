#pragma once
// Runs a whole study on a test problem with several metrics (gpbo/test_problems.hpp): shared
// by `gpbo optimize --problem` and `gpbo bench --problems`.

#include <cstdint>
#include <string>

#include "gpbo/study.hpp"
#include "gpbo/test_problems.hpp"

namespace gpbo::cli {

struct ProblemRun {
  std::string method;  // "gpbo" or "sobol"
  /// Several objectives: the hypervolume of the feasible evaluations w.r.t. the problem's
  /// reference point. One objective: the best feasible value (NaN when none was feasible).
  double result = 0.0;
  /// best_known() - hypervolume, or best feasible value - best_known() (NaN when unknown).
  double regret = 0.0;
  int feasible = 0;
  double seconds_total = 0.0;
  /// Median of the last 10 ask calls (seconds).
  double seconds_per_ask = 0.0;
  std::string device;
};

/// Runs `budget` evaluations of `p` with gpbo (the problem's metrics declared, StudyOptions as
/// given, seed overridden; rounds of ask(q)) or with scrambled Sobol points ("sobol").
ProblemRun run_on_problem(const TestProblem& p, const std::string& method, int budget,
                          std::uint64_t seed, StudyOptions options, int q = 1);

/// The evaluations of the multi-objective benchmark (issue 16's budgets), or 50.
int default_problem_budget(const std::string& problem);

}  // namespace gpbo::cli
