#pragma once
// Runs a whole study on a test function: shared by `gpbo optimize` and `gpbo bench`.

#include <cstdint>
#include <string>
#include <vector>

#include "gpbo/study.hpp"
#include "gpbo/test_functions.hpp"

namespace gpbo::cli {

struct FunctionRun {
  std::string method;  // "gpbo" or "sobol"
  double best_value = 0.0;
  double regret = 0.0;
  double seconds_total = 0.0;
  /// Median of the last 10 asks (seconds); with q > 1, of the last 10 ask(q) calls.
  double seconds_per_ask = 0.0;
  std::string device;
  /// The strategy in use ("global" or "trust-region"; "sobol" for the baseline).
  std::string strategy;
};

/// Minimizes `f` for `budget` evaluations with gpbo (StudyOptions as given, seed overridden)
/// or with scrambled Sobol search (method "sobol"). gpbo runs in rounds of `q` evaluations:
/// ask(q), evaluate, tell them all (the last round may be smaller).
FunctionRun run_on_function(const TestFunction& f, const std::string& method, int budget,
                            std::uint64_t seed, StudyOptions options, int q = 1);

/// The median of the last `k` entries of `v` (0 when empty): the time per ask of a run.
double median_of_last(std::vector<double> v, std::size_t k);

}  // namespace gpbo::cli
