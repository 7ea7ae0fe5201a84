#include "engine/metric_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "acquisition/ehvi.hpp"
#include "acquisition/thompson.hpp"
#include "backend/acquisition_functors.hpp"
#include "backend/backend.hpp"
#include "gpbo/error.hpp"
#include "gpbo/study.hpp"

namespace gpbo {
namespace {

/// Auto noise model: noisy when the fitted noise exceeds this share of the signal variance (the
/// classic study's rule).
constexpr double kNoisyShare = 0.05;
/// Augmentation of the Chebyshev scalarization (ParEGO's rho).
constexpr double kChebyshevRho = 0.05;
/// Box decompositions grow like n^(m-1): above this many objectives, Thompson draws are
/// compared by random Chebyshev scalarizations instead of hypervolume improvements.
constexpr std::size_t kMaxHypervolumeObjectives = 3;

/// Weights drawn uniformly from the simplex.
Eigen::VectorXd simplex_weights(Eigen::Index m, std::mt19937_64& rng) {
  std::exponential_distribution<double> e(1.0);
  Eigen::VectorXd w(m);
  for (Eigen::Index j = 0; j < m; ++j) w(j) = e(rng);
  return w / w.sum();
}

}  // namespace

struct MetricModel::Metric {
  std::string name;
  /// Model value = sign * raw value before standardization (objectives maximized).
  double sign = 1.0;
  bool objective = false;
  /// Output-warped (the single objective of a study without a constraint on it).
  bool warped = false;
  std::unique_ptr<GaussianProcess> gp;
  std::unique_ptr<PosteriorFactor> factor;
  std::optional<GpHyperparameters> hyper;
  bool fixed = false;
  /// The values are modelled divided by 2^exponent (value_exponent: any finite double).
  int exponent = 0;

  /// A raw value in the model's space (an unwarped metric: the map is linear).
  double to_model(double raw) const {
    return (sign * std::ldexp(raw, -exponent) - gp->y_mean()) / gp->y_scale();
  }
};

MetricModel::MetricModel(const StudyOptions& options) : options_(options) {
  const Metrics& m = options.metrics;
  const std::vector<std::string> names = m.names();
  std::vector<bool> constrained(names.size(), false);
  for (const OutcomeConstraint& c : m.constraints) {
    constrained[static_cast<std::size_t>(std::find(names.begin(), names.end(), c.metric) -
                                         names.begin())] = true;
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto metric = std::make_unique<Metric>();
    metric->name = names[i];
    metric->gp =
        std::make_unique<GaussianProcess>(options.gp, options.device, options.score_precision);
    if (i < m.objectives.size()) {
      metric->objective = true;
      metric->sign = m.objectives[i].direction == Direction::kMaximize ? 1.0 : -1.0;
      metric->warped = !m.multi_objective() && !constrained[i];
      objective_.push_back(static_cast<int>(i));
    }
    metrics_.push_back(std::move(metric));
  }
}

MetricModel::~MetricModel() = default;

const Backend& MetricModel::backend() const { return metrics_.front()->gp->backend(); }

std::map<std::string, GpHyperparameters> MetricModel::hyperparameters() const {
  std::map<std::string, GpHyperparameters> out;
  for (const auto& m : metrics_) {
    if (m->hyper) out[m->name] = *m->hyper;
  }
  return out;
}

void MetricModel::set_warm_starts(const std::map<std::string, GpHyperparameters>& hyper) {
  for (auto& m : metrics_) {
    const auto it = hyper.find(m->name);
    if (it != hyper.end()) m->hyper = it->second;
  }
}

void MetricModel::fix_hyperparameters(const std::map<std::string, GpHyperparameters>& hyper) {
  for (auto& m : metrics_) {
    const auto it = hyper.find(m->name);
    if (it == hyper.end()) continue;
    m->hyper = it->second;
    m->fixed = true;
  }
}

void MetricModel::fit(const Eigen::MatrixXd& X, const std::vector<const Trial*>& trials,
                      std::uint64_t seed) {
  const Eigen::Index n = X.rows();
  const Eigen::Index M = static_cast<Eigen::Index>(metrics_.size());
  X_ = X;
  observed_.resize(n, M);
  observed_feasible_.assign(static_cast<std::size_t>(n), false);
  for (Eigen::Index i = 0; i < n; ++i) {
    observed_feasible_[static_cast<std::size_t>(i)] =
        feasible(options_.metrics, trials[static_cast<std::size_t>(i)]->values);
  }
  noisy_ = options_.noise == NoiseModel::kNoisy;
  // Kept hyperparameters of the same dimension: condition on them; else fit (from them).
  const auto usable_hyper = [&](const Metric& m) {
    return m.hyper && m.hyper->lengthscales.size() == X.cols();
  };
  const auto conditions = [&](const Metric& m) { return m.fixed && usable_hyper(m); };
  // Every metric's factor lives through the ask, and each GP's own check counts one model:
  // the peak is the factors made before the last one and the last one's fit.
  double made = 0.0, peak = 0.0;
  for (const auto& m : metrics_) {
    m->gp->set_memory_held(made);  // a refinement on all n only where it fits beside them
    peak = std::max(peak, made + m->gp->memory_need(n, !conditions(*m)));
    made += m->gp->memory_need(n, false);
  }
  metrics_.front()->gp->require_memory(n, peak, "model every metric");
  std::mt19937_64 seeds(seed);
  factor_seconds_ = 0.0;
  for (Eigen::Index k = 0; k < M; ++k) {
    Metric& m = *metrics_[static_cast<std::size_t>(k)];
    Eigen::VectorXd y(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      y(i) = m.sign * trials[static_cast<std::size_t>(i)]->values.at(m.name);
    }
    m.exponent = value_exponent(y);
    y = to_safe_magnitude(y);
    if (m.warped)
      y = warp_outputs(y, options_.output_warping, options_.warp_strength,
                       options_.robust != RobustMode::kOff);
    if (conditions(m)) {
      m.gp->condition(X, y, *m.hyper);
    } else {
      m.gp->fit(X, y, seeds(), usable_hyper(m) ? &*m.hyper : nullptr);
    }
    m.hyper = m.gp->hyperparameters();
    factor_seconds_ += m.gp->last_seconds().factor;
    m.factor = m.gp->release_factor();  // its own, not a copy: the GP fits again first
    observed_.col(k) = (y.array() - m.gp->y_mean()) / m.gp->y_scale();
    const GpHyperparameters& h = *m.hyper;
    if (m.objective && options_.noise == NoiseModel::kAuto &&
        h.noise > kNoisyShare * (h.noise + h.outputscale)) {
      noisy_ = true;
    }
  }
  if (noisy_) {
    // The incumbent (or the front) of a noisy study: posterior means at the observed points.
    for (int k : objective_) {
      Eigen::VectorXd mean;
      metrics_[static_cast<std::size_t>(k)]->factor->predict(X, &mean, nullptr);
      observed_.col(k) = mean;
    }
  }
  constraints_.clear();
  const std::vector<std::string> names = options_.metrics.names();
  for (const OutcomeConstraint& c : options_.metrics.constraints) {
    const int k = static_cast<int>(std::find(names.begin(), names.end(), c.metric) - names.begin());
    const Metric& m = *metrics_[static_cast<std::size_t>(k)];
    // raw <= b is z <= b' for a metric kept as measured, z >= b' for a minimized objective.
    constraints_.push_back({k, (c.side == Bound::kAtLeast) == (m.sign > 0), m.to_model(c.bound)});
  }
  pending_.resize(0, static_cast<Eigen::Index>(objective_.size()));
  // Several objectives: the reference point, once per fit, in the model's space.
  if (objective_.size() > 1) {
    const Eigen::Index m = static_cast<Eigen::Index>(objective_.size());
    const Eigen::MatrixXd F = front_points(false);
    const Eigen::VectorXd inferred =
        F.rows() > 0 ? front_reference_point(F) : Eigen::VectorXd::Zero(m);
    reference_.resize(m);
    for (Eigen::Index j = 0; j < m; ++j) {
      const std::optional<double> r = reference_of(options_.metrics, static_cast<std::size_t>(j));
      reference_(j) =
          r ? metrics_[static_cast<std::size_t>(objective_[j])]->to_model(*r) : inferred(j);
    }
  }
  update_front();
}

Eigen::MatrixXd MetricModel::front_points(bool with_pending,
                                          std::vector<Eigen::Index>* rows) const {
  const Eigen::Index m = static_cast<Eigen::Index>(objective_.size());
  std::vector<Eigen::Index> feasible;
  for (Eigen::Index i = 0; i < observed_.rows(); ++i) {
    if (observed_feasible_[static_cast<std::size_t>(i)]) feasible.push_back(i);
  }
  const Eigen::Index n_obs = static_cast<Eigen::Index>(feasible.size());
  Eigen::MatrixXd F(n_obs + (with_pending ? pending_.rows() : 0), m);
  for (Eigen::Index r = 0; r < n_obs; ++r) {
    for (Eigen::Index j = 0; j < m; ++j) {
      F(r, j) = observed_(feasible[static_cast<std::size_t>(r)], objective_[j]);
    }
  }
  if (with_pending) F.bottomRows(pending_.rows()) = pending_;
  if (rows) *rows = std::move(feasible);
  return F;
}

void MetricModel::update_front() {
  ehvi_.reset();
  const Eigen::MatrixXd F = front_points(true);
  has_feasible_ = F.rows() > 0;
  if (!has_feasible_) return;
  if (F.cols() == 1) {
    best_f_ = F.col(0).maxCoeff();
    return;
  }
  if (static_cast<std::size_t>(F.cols()) > kMaxHypervolumeObjectives) return;
  boxes_ = non_dominated_boxes(F, reference_);
  ehvi_ = std::make_unique<LogEhvi>(boxes_);
}

void MetricModel::fantasize(const Eigen::MatrixXd& Xp) {
  if (Xp.rows() == 0) return;
  const Eigen::Index M = static_cast<Eigen::Index>(metrics_.size());
  Eigen::MatrixXd mean(Xp.rows(), M);
  for (Eigen::Index k = 0; k < M; ++k) {
    Metric& m = *metrics_[static_cast<std::size_t>(k)];
    Eigen::VectorXd mu;
    m.factor->predict(Xp, &mu, nullptr);
    mean.col(k) = mu;
    try {
      m.factor->append(Xp, mu);
    } catch (const NumericalError&) {
      // Already (numerically) in the model: the duplicate checks keep the batch distinct.
    }
  }
  for (Eigen::Index i = 0; i < Xp.rows(); ++i) {
    bool believed = true;
    for (const ModelConstraint& c : constraints_) {
      const double z = mean(i, c.metric);
      believed = believed && (c.at_least ? z >= c.bound : z <= c.bound);
    }
    if (!believed) continue;
    pending_.conservativeResize(pending_.rows() + 1, Eigen::NoChange);
    for (std::size_t j = 0; j < objective_.size(); ++j) {
      pending_(pending_.rows() - 1, static_cast<Eigen::Index>(j)) = mean(i, objective_[j]);
    }
  }
  update_front();
}

void MetricModel::score(const Eigen::MatrixXd& X, Eigen::VectorXd* values,
                        Eigen::MatrixXd* grad) const {
  const Eigen::Index n = X.rows(), D = X.cols();
  const std::size_t M = metrics_.size();
  std::vector<Eigen::VectorXd> mean(M), var(M);
  std::vector<Eigen::MatrixXd> dmean(M), dvar(M);
  for (std::size_t k = 0; k < M; ++k) {
    metrics_[k]->factor->predict(X, &mean[k], &var[k], grad ? &dmean[k] : nullptr,
                                 grad ? &dvar[k] : nullptr);
  }
  values->resize(n);
  if (grad) grad->setZero(n, D);
  const std::size_t m = objective_.size();
  AcquisitionParams single;
  single.type =
      options_.acquisition == AcquisitionType::kPI ? AcquisitionType::kPI : AcquisitionType::kLogEI;
  single.best_f = best_f_;
  Eigen::VectorXd mu(static_cast<Eigen::Index>(m)), sigma(static_cast<Eigen::Index>(m)), dmu,
      dsigma;
  std::vector<double> d_mean(M), d_var(M);
  for (Eigen::Index i = 0; i < n; ++i) {
    std::fill(d_mean.begin(), d_mean.end(), 0.0);
    std::fill(d_var.begin(), d_var.end(), 0.0);
    std::vector<double> v(M);
    std::vector<bool> floored(M);
    for (std::size_t k = 0; k < M; ++k) {
      floored[k] = !(var[k](i) > kMinAcquisitionVariance);
      v[k] = floored[k] ? kMinAcquisitionVariance : var[k](i);
    }
    double value = 0.0;
    if (has_feasible_ && m == 1) {
      const int k = objective_[0];
      const AcquisitionValue a = evaluate_acquisition(single, mean[k](i), v[k]);
      value += a.value;
      d_mean[k] += a.d_mean;
      d_var[k] += a.d_var;
    } else if (has_feasible_ && ehvi_) {
      for (std::size_t j = 0; j < m; ++j) {
        mu(static_cast<Eigen::Index>(j)) = mean[objective_[j]](i);
        sigma(static_cast<Eigen::Index>(j)) = std::sqrt(v[objective_[j]]);
      }
      value += ehvi_->value(mu, sigma, grad ? &dmu : nullptr, grad ? &dsigma : nullptr);
      if (grad) {
        for (std::size_t j = 0; j < m; ++j) {
          const int k = objective_[j];
          d_mean[k] += dmu(static_cast<Eigen::Index>(j));
          d_var[k] +=
              dsigma(static_cast<Eigen::Index>(j)) / (2.0 * sigma(static_cast<Eigen::Index>(j)));
        }
      }
    }
    for (const ModelConstraint& c : constraints_) {
      const double s = std::sqrt(v[c.metric]);
      const double z =
          c.at_least ? (mean[c.metric](i) - c.bound) / s : (c.bound - mean[c.metric](i)) / s;
      double lc, ratio;
      acq_detail::log_ndtr_and_ratio(z, &lc, &ratio);
      value += lc;
      d_mean[c.metric] += (c.at_least ? ratio : -ratio) / s;
      d_var[c.metric] += -ratio * z / (2.0 * v[c.metric]);
    }
    (*values)(i) = value;
    if (!grad) continue;
    for (std::size_t k = 0; k < M; ++k) {
      grad->row(i) += d_mean[k] * dmean[k].row(i);
      if (!floored[k]) grad->row(i) += d_var[k] * dvar[k].row(i);
    }
  }
}

std::vector<Eigen::Index> MetricModel::thompson(const Eigen::MatrixXd& C, int q,
                                                std::vector<bool> taken,
                                                std::mt19937_64& rng) const {
  const std::size_t M = metrics_.size();
  const std::size_t m = objective_.size();
  std::vector<Eigen::MatrixXd> draws(M);  // |C| x q each, model space
  for (std::size_t k = 0; k < M; ++k) {
    draws[k] = draw_joint_posterior(metrics_[k]->gp->backend(), *metrics_[k]->factor, C, q, rng);
  }
  // The front the picks extend (several objectives): each pick adds its draw.
  Eigen::MatrixXd front = front_points(true);
  const bool by_hypervolume = m > 1 && m <= kMaxHypervolumeObjectives;
  const Eigen::Index mm = static_cast<Eigen::Index>(m);
  std::vector<Eigen::Index> picks;
  for (int j = 0; j < q; ++j) {
    // The rows feasible under this draw (their sampled objectives), or the least violating.
    std::vector<Eigen::Index> feasible_rows;
    std::vector<Eigen::VectorXd> sampled;
    Eigen::Index least_violation = -1;
    double smallest = std::numeric_limits<double>::infinity();
    for (Eigen::Index i = 0; i < C.rows(); ++i) {
      if (taken[static_cast<std::size_t>(i)]) continue;
      double violation = 0.0;
      for (const ModelConstraint& c : constraints_) {
        const double z = draws[static_cast<std::size_t>(c.metric)](i, j);
        violation += std::max(0.0, c.at_least ? c.bound - z : z - c.bound);
      }
      if (violation > 0.0) {
        if (violation < smallest) {
          smallest = violation;
          least_violation = i;
        }
        continue;
      }
      Eigen::VectorXd y(mm);
      for (Eigen::Index t = 0; t < mm; ++t) {
        y(t) = draws[static_cast<std::size_t>(objective_[static_cast<std::size_t>(t)])](i, j);
      }
      feasible_rows.push_back(i);
      sampled.push_back(std::move(y));
    }
    if (feasible_rows.empty()) {
      if (least_violation < 0) break;  // every row is taken
      taken[static_cast<std::size_t>(least_violation)] = true;
      picks.push_back(least_violation);
      continue;
    }
    std::vector<double> score(feasible_rows.size());
    bool improves = false;
    if (m == 1) {
      for (std::size_t r = 0; r < sampled.size(); ++r) score[r] = sampled[r](0);
      improves = true;
    } else if (by_hypervolume) {
      BoxDecomposition boxes;
      if (front.rows() > 0) boxes = non_dominated_boxes(front, reference_);
      for (std::size_t r = 0; r < sampled.size(); ++r) {
        score[r] = front.rows() == 0 ? (sampled[r] - reference_).cwiseMax(0.0).prod()
                                     : hypervolume_improvement(boxes, sampled[r]);
        improves = improves || score[r] > 0.0;
      }
    }
    if (!improves) {
      // No row improves the front under this draw (or more than three objectives): a random
      // augmented Chebyshev scalarization of the standardized objectives (ParEGO's) decides.
      const Eigen::VectorXd w = simplex_weights(mm, rng);
      for (std::size_t r = 0; r < sampled.size(); ++r) {
        score[r] = (w.array() * sampled[r].array()).minCoeff() + kChebyshevRho * w.dot(sampled[r]);
      }
    }
    const std::size_t best =
        static_cast<std::size_t>(std::max_element(score.begin(), score.end()) - score.begin());
    const Eigen::Index pick = feasible_rows[best];
    taken[static_cast<std::size_t>(pick)] = true;
    picks.push_back(pick);
    if (m > 1) {
      front.conservativeResize(front.rows() + 1, Eigen::NoChange);
      front.row(front.rows() - 1) = sampled[best].transpose();
    }
  }
  return picks;
}

std::vector<Eigen::Index> MetricModel::ranking() const {
  const Eigen::Index n = observed_.rows();
  const std::size_t m = objective_.size();
  std::vector<double> key(static_cast<std::size_t>(n));
  std::vector<int> tier(static_cast<std::size_t>(n));
  std::vector<bool> on_front(static_cast<std::size_t>(n), false);
  if (m > 1) {
    std::vector<Eigen::Index> rows;
    const Eigen::MatrixXd F = front_points(false, &rows);
    for (Eigen::Index r : pareto_indices(F)) on_front[static_cast<std::size_t>(rows[r])] = true;
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::size_t s = static_cast<std::size_t>(i);
    if (observed_feasible_[s]) {
      double sum = 0.0;
      for (int k : objective_) sum += observed_(i, k);
      tier[s] = on_front[s] ? 0 : 1;
      key[s] = -sum;
    } else {
      double violation = 0.0;
      for (const ModelConstraint& c : constraints_) {
        const double z = observed_(i, c.metric);
        violation += std::max(0.0, c.at_least ? c.bound - z : z - c.bound);
      }
      tier[s] = 2;
      key[s] = violation;
    }
  }
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
    const std::size_t i = static_cast<std::size_t>(a), k = static_cast<std::size_t>(b);
    return tier[i] != tier[k] ? tier[i] < tier[k] : key[i] < key[k];
  });
  return order;
}

}  // namespace gpbo
