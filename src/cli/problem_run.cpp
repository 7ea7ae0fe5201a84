#include "cli/problem_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "acquisition/pareto.hpp"
#include "cli/function_run.hpp"
#include "gpbo/error.hpp"
#include "numerics/sobol.hpp"

namespace gpbo::cli {
namespace {

/// The hypervolume (several objectives) or the best value (one) of the feasible evaluations.
double result_of(const TestProblem& p, const std::vector<MetricValues>& evaluations,
                 int* feasible_count) {
  const Metrics& m = p.metrics();
  std::vector<const MetricValues*> ok;
  for (const MetricValues& v : evaluations) {
    if (feasible(m, v)) ok.push_back(&v);
  }
  *feasible_count = static_cast<int>(ok.size());
  if (!m.multi_objective()) {
    double best = std::numeric_limits<double>::quiet_NaN();
    for (const MetricValues* v : ok) {
      const double y = v->at(m.objectives[0].name);
      if (std::isnan(best) || y < best) best = y;  // every objective of a problem is minimized
    }
    return best;
  }
  const Eigen::Index k = static_cast<Eigen::Index>(m.objectives.size());
  Eigen::MatrixXd Y(static_cast<Eigen::Index>(ok.size()), k);
  for (std::size_t i = 0; i < ok.size(); ++i) {
    for (Eigen::Index j = 0; j < k; ++j) {
      Y(static_cast<Eigen::Index>(i), j) =
          -ok[i]->at(m.objectives[static_cast<std::size_t>(j)].name);
    }
  }
  return ok.empty() ? 0.0 : hypervolume(Y, -p.reference_point());
}

}  // namespace

int default_problem_budget(const std::string& problem) {
  const std::string name = TestProblem::make(problem).name();
  if (name == "zdt1" || name == "dtlz2" || name == "c2dtlz2") return 100;
  if (name == "constrained-hartmann6") return 60;
  return 50;
}

ProblemRun run_on_problem(const TestProblem& p, const std::string& method, int budget,
                          std::uint64_t seed, StudyOptions options, int q) {
  if (budget < 1) throw InvalidArgument("budget must be >= 1");
  if (q < 1) throw InvalidArgument("batch size must be >= 1");
  ProblemRun run;
  run.method = method;
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> ask_seconds;
  std::vector<MetricValues> evaluations;
  if (method == "gpbo") {
    options.seed = seed;
    options.metrics = p.metrics();
    Study study(p.space(), options);
    run.device = study.device().to_string();
    for (int done = 0; done < budget;) {
      const std::vector<Trial> round = study.ask(std::min(q, budget - done));
      for (const Trial& t : round) {
        evaluations.push_back(p(p.to_vector(t.params)));
        study.tell(t.id, evaluations.back());
      }
      done += static_cast<int>(round.size());
    }
    ask_seconds = study.ask_seconds();
  } else if (method == "sobol") {
    SobolSampler sobol(p.dim(), seed);
    run.device = "cpu";
    const Eigen::VectorXd width = p.upper() - p.lower();
    for (int i = 0; i < budget; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const Eigen::VectorXd x =
          p.lower().array() + width.array() * sobol.draw(1).row(0).transpose().array();
      ask_seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      evaluations.push_back(p(x));
    }
  } else {
    throw InvalidArgument("method '" + method + "': expected gpbo or sobol");
  }
  run.seconds_total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.seconds_per_ask = median_of_last(ask_seconds, 10);
  run.result = result_of(p, evaluations, &run.feasible);
  run.regret =
      p.metrics().multi_objective() ? p.best_known() - run.result : run.result - p.best_known();
  return run;
}

}  // namespace gpbo::cli
