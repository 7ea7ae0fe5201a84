#include "cli/function_run.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "gpbo/error.hpp"
#include "numerics/sobol.hpp"

namespace gpbo::cli {

double median_of_last(std::vector<double> v, std::size_t k) {
  if (v.empty()) return 0.0;
  v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(std::min(k, v.size())));
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

FunctionRun run_on_function(const TestFunction& f, const std::string& method, int budget,
                            std::uint64_t seed, StudyOptions options, int q) {
  if (budget < 1) throw InvalidArgument("budget must be >= 1");
  if (q < 1) throw InvalidArgument("batch size must be >= 1");
  FunctionRun run;
  run.method = method;
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> ask_seconds;
  if (method == "gpbo") {
    options.seed = seed;
    options.direction = Direction::kMinimize;
    Study study(f.space(), options);
    run.device = study.device().to_string();
    run.strategy = to_string(study.strategy());
    for (int done = 0; done < budget;) {
      const std::vector<Trial> round = study.ask(std::min(q, budget - done));
      for (const Trial& t : round) study.tell(t.id, f(f.to_vector(t.params)));
      done += static_cast<int>(round.size());
    }
    run.best_value = *study.best()->value;
    ask_seconds = study.ask_seconds();
  } else if (method == "sobol") {
    SobolSampler sobol(f.dim(), seed);
    run.device = "cpu";
    run.strategy = "sobol";
    run.best_value = std::numeric_limits<double>::infinity();
    const Eigen::VectorXd width = f.upper() - f.lower();
    for (int i = 0; i < budget; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const Eigen::VectorXd x =
          f.lower().array() + width.array() * sobol.draw(1).row(0).transpose().array();
      ask_seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      run.best_value = std::min(run.best_value, f(x));
    }
  } else {
    throw InvalidArgument("method '" + method + "': expected gpbo or sobol");
  }
  run.seconds_total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.seconds_per_ask = median_of_last(ask_seconds, 10);
  run.regret = run.best_value - f.optimal_value();
  return run;
}

}  // namespace gpbo::cli
