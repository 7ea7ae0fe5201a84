// A Study's model-based suggestions when it has outcome constraints or several objectives: one
// GP per metric (engine/metric_model.hpp), running trials as fantasies, and the batch by
// sequential greedy maximization of the acquisition or by Thompson sampling over all metrics.
#include <algorithm>

#include "common/clock.hpp"
#include "engine/metric_model.hpp"
#include "gpbo/error.hpp"
#include "gpbo/study.hpp"
#include "optim/acquisition_optimizer.hpp"
#include "optim/trust_region.hpp"

namespace gpbo {
namespace {

/// Auto batch method: sequential greedy up to this q, Thompson above (the classic rule).
constexpr int kMaxGreedyBatch = 16;
/// More objectives than this: every batch is chosen by Thompson draws compared through random
/// Chebyshev scalarizations (the exact box decomposition grows like n^(m-1)).
constexpr std::size_t kMaxEhviObjectives = 3;

}  // namespace

bool Study::uses_metric_model() const {
  const Metrics& m = options_.metrics;
  return m.multi_objective() || !m.constraints.empty();
}

std::map<std::string, GpHyperparameters> Study::metric_warm_starts() const {
  return metric_model_ ? metric_model_->hyperparameters() : metric_warm_;
}

void Study::set_metric_warm_starts(const std::map<std::string, GpHyperparameters>& hyper) {
  metric_warm_ = hyper;
  if (metric_model_) metric_model_->set_warm_starts(hyper);
}

Eigen::MatrixXd Study::running_inputs() const {
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < trials_.size(); ++i) {
    if (trials_[i].state == TrialState::kRunning) rows.push_back(i);
  }
  Eigen::MatrixXd Xr(static_cast<Eigen::Index>(rows.size()), space_.encoded_dim());
  for (std::size_t j = 0; j < rows.size(); ++j) {
    Xr.row(static_cast<Eigen::Index>(j)) = encoded_[rows[j]].transpose();
  }
  return Xr;
}

Eigen::MatrixXd Study::fit_metric_model(const Eigen::VectorXd* center) {
  std::vector<Eigen::Index> rows;
  for (std::size_t i = 0; i < trials_.size(); ++i) {
    if (trials_[i].state == TrialState::kComplete) rows.push_back(static_cast<Eigen::Index>(i));
  }
  if (center) keep_nearest(&rows, *center);
  std::vector<const Trial*> done;
  Eigen::MatrixXd X(static_cast<Eigen::Index>(rows.size()), space_.encoded_dim());
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const std::size_t i = static_cast<std::size_t>(rows[j]);
    done.push_back(&trials_[i]);
    X.row(static_cast<Eigen::Index>(j)) = encoded_[i].transpose();
  }
  const Stopwatch watch;
  metric_model_->fit(X, done, rng_());
  last_split_.factor += metric_model_->factor_seconds();
  last_split_.fit += std::max(0.0, watch.seconds() - metric_model_->factor_seconds());
  return X;
}

void Study::suggest_from_constrained_trust_region(int k) {
  // SCBO (Eriksson and Poloczek 2021): one GP per metric on the trials nearest the centre, a
  // box shaped by the objective's lengthscales, and k Thompson draws of every metric jointly:
  // each pick is the best sampled objective among the sampled-feasible candidates, or the
  // smallest sampled violation where none is.
  last_batch_method_ = BatchMethod::kThompson;
  MetricModel& model = *metric_model_;
  TrustRegionState& s = regions_[0];
  fit_metric_model(&s.center);
  model.fantasize(running_inputs());
  const GpHyperparameters& h = model.hyperparameters().at(options_.metrics.objectives[0].name);
  tr_boxes_.assign(1, trust_region_bounds(space_, s.center, h.lengthscales, s.length));
  const Eigen::MatrixXd C = free_rows(trust_region_candidates(
      space_, s.center, tr_boxes_[0], trust_region_candidate_count(k), rng_));
  const std::vector<Eigen::Index> pick =
      model.thompson(C, k, std::vector<bool>(static_cast<std::size_t>(C.rows()), false), rng_);
  for (Eigen::Index i : pick) push_trial(C.row(i).transpose(), "model");
  for (int i = static_cast<int>(pick.size()); i < k; ++i) push_trial(suggest_initial(), "model");
}

void Study::suggest_with_metrics(int k) {
  if (!metric_model_) {
    metric_model_ = std::make_unique<MetricModel>(options_);
    metric_model_->set_warm_starts(metric_warm_);
  }
  if (strategy() == Strategy::kTrustRegion) {
    update_trust_regions(k);
    suggest_from_constrained_trust_region(k);
    return;
  }
  MetricModel& model = *metric_model_;
  const Eigen::MatrixXd X = fit_metric_model(nullptr);
  const int D = space_.encoded_dim();
  model.fantasize(running_inputs());

  const std::vector<Eigen::Index> order = model.ranking();
  const int n_anchor = std::min<int>(options_.optimizer.anchors, static_cast<int>(order.size()));
  Eigen::MatrixXd anchors(n_anchor, D);
  for (int a = 0; a < n_anchor; ++a) anchors.row(a) = X.row(order[static_cast<std::size_t>(a)]);

  const bool many_objectives = options_.metrics.objectives.size() > kMaxEhviObjectives;
  last_batch_method_ = options_.batch_method == BatchMethod::kThompson || many_objectives ||
                               (options_.batch_method == BatchMethod::kAuto && k > kMaxGreedyBatch)
                           ? BatchMethod::kThompson
                           : BatchMethod::kGreedy;
  if (last_batch_method_ == BatchMethod::kThompson) {
    AcquisitionOptimizerOptions o = options_.optimizer;
    o.raw_samples = std::clamp(4 * k, 2048, 5000);
    const Eigen::MatrixXd C = free_rows(candidate_set(space_, anchors, o, rng_));
    const std::vector<Eigen::Index> pick =
        model.thompson(C, k, std::vector<bool>(static_cast<std::size_t>(C.rows()), false), rng_);
    for (Eigen::Index i : pick) push_trial(C.row(i).transpose(), "model");
    for (int i = static_cast<int>(pick.size()); i < k; ++i) push_trial(suggest_initial(), "model");
    return;
  }
  const AcquisitionFunction f = [&model](const Eigen::MatrixXd& Xc, Eigen::VectorXd* values,
                                         Eigen::MatrixXd* grad) { model.score(Xc, values, grad); };
  for (int i = 0; i < k; ++i) {
    const AcquisitionCandidates cand = optimize_function_in_box(
        f, space_, candidate_set(space_, anchors, options_.optimizer, rng_), unit_box(D),
        options_.optimizer);
    Eigen::VectorXd u = first_free(cand.X);
    if (u.size() == 0) u = suggest_initial();  // every candidate taken (throws if none left)
    push_trial(u, "model");
    if (i + 1 < k) model.fantasize(u.transpose());
  }
}

}  // namespace gpbo
