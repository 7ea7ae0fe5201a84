// Drift (StudyOptions::drift, README "Drift"): the time input of the model, the re-evaluations
// of the incumbent and their check against the model's prediction.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "engine/pruner.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/study.hpp"
#include "model/outliers.hpp"
#include "model/time_slice.hpp"

namespace gpbo {

Eigen::MatrixXd Study::model_inputs(const Eigen::MatrixXd& X,
                                    const std::vector<Eigen::Index>& rows) const {
  if (!drift_on()) return X;
  // Completion order of every modelled trial (a trust region's local rows keep the study's
  // clock): by finished_at, ties and unknown times (0: imported) by id.
  std::vector<std::size_t> modelled;
  for (std::size_t i = 0; i < trials_.size(); ++i) {
    if (models_value(trials_[i])) modelled.push_back(i);
  }
  std::stable_sort(modelled.begin(), modelled.end(), [&](std::size_t a, std::size_t b) {
    return trials_[a].finished_at < trials_[b].finished_at;
  });
  std::vector<double> t(trials_.size(), 1.0);
  const double n = static_cast<double>(std::max<std::size_t>(modelled.size(), 1));
  for (std::size_t r = 0; r < modelled.size(); ++r) t[modelled[r]] = static_cast<double>(r) / n;
  Eigen::VectorXd col(X.rows());
  for (std::size_t j = 0; j < rows.size(); ++j) {
    col(static_cast<Eigen::Index>(j)) = t[static_cast<std::size_t>(rows[j])];
  }
  return with_time_column(X, col);
}

bool Study::reevaluation_due(int k) const {
  const int every = options_.drift.reevaluate_every;
  if (!drift_on() || every <= 0 || k <= 0) return false;
  // The batch takes ids [first, first + k): due when one of them + 1 is a multiple of `every`.
  const auto first = static_cast<std::int64_t>(trials_.size());
  return (first + k) / every > first / every;
}

bool Study::reevaluate(std::size_t i) {
  const Eigen::VectorXd& u = encoded_[i];
  for (std::size_t r = 0; r < trials_.size(); ++r) {
    // Never two workers on one point: a configuration already running is not re-evaluated.
    if (trials_[r].state == TrialState::kRunning && (encoded_[r] - u).cwiseAbs().maxCoeff() == 0.0)
      return false;
  }
  push_trial(trials_[i].params, u, "reevaluation");
  return true;
}

void Study::judge_reevaluations(const Eigen::MatrixXd& Xg, const Eigen::VectorXd& y,
                                const std::vector<Eigen::Index>& rows) {
  std::vector<std::size_t> pending;  // positions in rows
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const Trial& t = trials_[static_cast<std::size_t>(rows[j])];
    if (t.source != "reevaluation" || t.state != TrialState::kComplete) continue;
    const bool judged = std::any_of(drift_checks_.begin(), drift_checks_.end(),
                                    [&](const DriftCheck& c) { return c.trial_id == t.id; });
    if (!judged) pending.push_back(j);
  }
  if (pending.empty() || rows.size() < 2) return;
  // The prediction had nothing changed: the fitted model with one time for every observation
  // (the time kernel is then 1 between all of them), so that a model that has already
  // followed a change in time does not explain the change away.
  Eigen::MatrixXd same_time = Xg;
  same_time.col(Xg.cols() - 1).setZero();
  Eigen::VectorXd z;
  try {
    z = loo_residuals(*gp_, same_time, y);
  } catch (const NumericalError&) {
    return;  // judged at the next fit
  }
  // The GP's y is internally maximized: the sign back in the study's direction.
  const double sign = options_.direction == Direction::kMaximize ? 1.0 : -1.0;
  for (std::size_t j : pending) {
    DriftCheck c;
    c.trial_id = trials_[static_cast<std::size_t>(rows[j])].id;
    c.z = sign * z(static_cast<Eigen::Index>(j));
    c.shift = std::abs(c.z) > options_.drift.shift_threshold;
    drift_checks_.push_back(c);
  }
}

void Study::restore_finished_at(std::int64_t trial_id, double finished_at) {
  find(trial_id).finished_at = finished_at;
}

}  // namespace gpbo
