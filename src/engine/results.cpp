// What a study found: the best (feasible) trial of one objective, and the Pareto front of
// several with its hypervolume. Study, PersistentStudy and the front doors all answer `best`
// and `pareto` through these two functions.
#include <Eigen/Core>
#include <cmath>
#include <optional>
#include <string>

#include "acquisition/pareto.hpp"
#include "gpbo/error.hpp"
#include "gpbo/study.hpp"

namespace gpbo {
namespace {

/// Whether a complete trial counts as a result: feasible under the study's constraints.
bool counts(const StudyOptions& options, const Trial& t) {
  return t.state == TrialState::kComplete && feasible(options.metrics, t.values);
}

}  // namespace

std::optional<Trial> best_trial(const StudyOptions& options, const std::vector<Trial>& trials) {
  if (options.metrics.multi_objective()) {
    throw InvalidArgument(
        "best: the study has several objectives and no one best trial; ask for its Pareto front "
        "(pareto)");
  }
  const bool maximize = options.direction == Direction::kMaximize;
  const Trial* best = nullptr;
  for (const Trial& t : trials) {
    if (!counts(options, t) || !t.value) continue;
    if (!best || (maximize ? *t.value > *best->value : *t.value < *best->value)) best = &t;
  }
  if (!best) return std::nullopt;
  return *best;
}

ParetoFront pareto_front(const StudyOptions& options, const std::vector<Trial>& trials) {
  ParetoFront out;
  if (!options.metrics.multi_objective()) {
    const std::optional<Trial> best = best_trial(options, trials);
    if (!best) return out;
    for (const Trial& t : trials) {
      if (counts(options, t) && t.value && *t.value == *best->value) out.trials.push_back(t);
    }
    return out;
  }
  const std::vector<Objective>& objectives = options.metrics.objectives;
  const Eigen::Index m = static_cast<Eigen::Index>(objectives.size());
  std::vector<const Trial*> candidates;
  for (const Trial& t : trials) {
    if (counts(options, t)) candidates.push_back(&t);
  }
  // Every objective maximized: y = sign * value.
  Eigen::VectorXd sign(m);
  for (Eigen::Index j = 0; j < m; ++j) {
    sign(j) = objectives[static_cast<std::size_t>(j)].direction == Direction::kMaximize ? 1 : -1;
  }
  Eigen::MatrixXd Y(static_cast<Eigen::Index>(candidates.size()), m);
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    for (Eigen::Index j = 0; j < m; ++j) {
      Y(static_cast<Eigen::Index>(i), j) =
          sign(j) * candidates[i]->values.at(objectives[static_cast<std::size_t>(j)].name);
    }
  }
  const std::vector<Eigen::Index> front = pareto_indices(Y);
  Eigen::MatrixXd F(static_cast<Eigen::Index>(front.size()), m);
  for (std::size_t i = 0; i < front.size(); ++i) {
    out.trials.push_back(*candidates[static_cast<std::size_t>(front[i])]);
    F.row(static_cast<Eigen::Index>(i)) = Y.row(front[i]);
  }
  std::vector<std::optional<double>> stated(static_cast<std::size_t>(m));
  for (Eigen::Index j = 0; j < m; ++j) {
    stated[static_cast<std::size_t>(j)] =
        reference_of(options.metrics, static_cast<std::size_t>(j));
    // An empty front leaves nothing to infer a reference point from.
    if (front.empty() && !stated[static_cast<std::size_t>(j)]) return out;
  }
  const Eigen::VectorXd inferred =
      front.empty() ? Eigen::VectorXd::Zero(m) : front_reference_point(Y);
  Eigen::VectorXd ref(m);
  for (Eigen::Index j = 0; j < m; ++j) {
    const std::optional<double>& r = stated[static_cast<std::size_t>(j)];
    ref(j) = r ? sign(j) * *r : inferred(j);
    out.reference_point.push_back(sign(j) * ref(j));
  }
  out.hypervolume = front.empty() ? 0.0 : hypervolume(F, ref);
  return out;
}

}  // namespace gpbo
