#include "model/prior_mean.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

/// The ridge pull of the weight towards 1, in observations' worth (p has unit scale).
constexpr double kWeightPrior = 1.0;
constexpr double kMaxWeight = 3.0;

/// log p(z) of the data the GP was last fitted to: its log posterior on the standardized scale,
/// less the Jacobian of the standardization.
double log_density(const GaussianProcess& gp, Eigen::Index n) {
  return gp.log_posterior() - static_cast<double>(n) * std::log(gp.y_scale());
}

}  // namespace

PriorFit fit_on_prior(GaussianProcess* gp, const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                      const Eigen::VectorXd& p, double sd_hint, std::uint64_t seed,
                      const GpHyperparameters* warm, const GpHyperparameters* fixed) {
  const Eigen::Index n = y.size();
  if (n == 0 || p.size() != n || X.rows() != n) {
    throw InvalidArgument("prior mean: " + std::to_string(X.rows()) + " points, " +
                          std::to_string(n) + " values and " + std::to_string(p.size()) +
                          " prior values (need the same, at least one)");
  }
  PriorFit f;
  const double hint = sd_hint > 0.0 && std::isfinite(sd_hint) ? sd_hint : 1.0;
  f.mu = y.mean();
  f.sd = hint;
  if (n >= kMinGateObservations) {
    const double sd = std::sqrt((y.array() - f.mu).square().sum() / static_cast<double>(n - 1));
    if (sd > 0.0 && std::isfinite(sd)) f.sd = sd;
  }
  const Eigen::VectorXd z = (y.array() - f.mu) / f.sd;
  f.weight = 1.0;
  if (n >= 2) {
    const Eigen::ArrayXd zc = z.array() - z.mean(), pc = p.array() - p.mean();
    f.weight = ((zc * pc).sum() + kWeightPrior) / ((pc * pc).sum() + kWeightPrior);
    f.weight = std::clamp(f.weight, 0.0, kMaxWeight);
  }
  f.residuals = z - f.weight * p;
  if (fixed) {
    gp->condition(X, f.residuals, *fixed);
    return f;
  }
  gp->fit(X, f.residuals, seed, warm);
  if (n < kMinGateObservations || f.weight == 0.0) return f;
  // The marginal likelihood decides whether the earlier studies help (both fits start from the
  // same warm start and seed).
  f.compared = true;
  const double with_prior = log_density(*gp, n);
  const GpHyperparameters h = gp->hyperparameters();
  gp->fit(X, z, seed, warm);
  if (log_density(*gp, n) >= with_prior) {
    f.weight = 0.0;
    f.residuals = z;
    return f;
  }
  gp->condition(X, f.residuals, h);
  return f;
}

StackedPrior::StackedPrior(GpOptions options, Device device, ScorePrecision scoring)
    : options_(options), device_(device), scoring_(scoring) {}
StackedPrior::~StackedPrior() = default;

void StackedPrior::add_level(const Eigen::MatrixXd& X, std::vector<int> columns,
                             const Eigen::VectorXd& y, std::uint64_t seed,
                             const GpHyperparameters* fixed) {
  if (columns.empty()) throw InvalidArgument("prior mean: a level needs at least one column");
  for (int c : columns) {
    if (c < 0 || c >= X.cols()) throw InvalidArgument("prior mean: a column is out of range");
  }
  Eigen::VectorXd below;
  predict(X, &below, nullptr);
  Eigen::MatrixXd Xs(X.rows(), static_cast<Eigen::Index>(columns.size()));
  for (std::size_t j = 0; j < columns.size(); ++j) Xs.col(j) = X.col(columns[j]);
  Level level;
  level.gp = std::make_unique<GaussianProcess>(options_, device_, scoring_);
  const bool use_fixed = fixed && fixed->lengthscales.size() == Xs.cols();
  level.fit = fit_on_prior(level.gp.get(), Xs, y, below, top_sd(), seed, nullptr,
                           use_fixed ? fixed : nullptr);
  level.fit.residuals.resize(0);  // not needed after the fit
  level.columns = std::move(columns);
  levels_.push_back(std::move(level));
}

double StackedPrior::top_sd() const { return levels_.empty() ? 1.0 : levels_.back().fit.sd; }

std::vector<GpHyperparameters> StackedPrior::hyperparameters() const {
  std::vector<GpHyperparameters> out;
  for (const Level& l : levels_) out.push_back(l.gp->hyperparameters());
  return out;
}

std::vector<PriorFit> StackedPrior::fits() const {
  std::vector<PriorFit> out;
  for (const Level& l : levels_) out.push_back(l.fit);
  return out;
}

void StackedPrior::predict(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean, Eigen::MatrixXd* dmean,
                           Eigen::VectorXd* var, Eigen::MatrixXd* dvar) const {
  predict_below(levels_.size(), Xc, mean, dmean, var, dvar);
}

namespace {

Eigen::MatrixXd columns_of(const Eigen::MatrixXd& X, const std::vector<int>& columns) {
  Eigen::MatrixXd Xs(X.rows(), static_cast<Eigen::Index>(columns.size()));
  for (std::size_t j = 0; j < columns.size(); ++j) Xs.col(j) = X.col(columns[j]);
  return Xs;
}

}  // namespace

void StackedPrior::predict_below(std::size_t top, const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                                 Eigen::MatrixXd* dmean, Eigen::VectorXd* var,
                                 Eigen::MatrixXd* dvar) const {
  const Eigen::Index m = Xc.rows();
  *mean = Eigen::VectorXd::Zero(m);
  if (dmean) *dmean = Eigen::MatrixXd::Zero(m, Xc.cols());
  if (var) *var = Eigen::VectorXd::Zero(m);
  if (dvar) *dvar = Eigen::MatrixXd::Zero(m, Xc.cols());
  // Level k in its standardized units: weight_k * (level below) + its residual GP, a sum of
  // independent GPs: means add, variances add with the weight squared.
  for (std::size_t k = 0; k < top; ++k) {
    const Level& l = levels_[k];
    const double w = l.fit.weight, s = l.gp->y_scale();
    *mean *= w;
    if (dmean) *dmean *= w;
    if (var) *var *= w * w;
    if (dvar) *dvar *= w * w;
    const Eigen::MatrixXd Xs = columns_of(Xc, l.columns);
    Eigen::VectorXd f, v;
    Eigen::MatrixXd df, dv;
    l.gp->factor().predict(Xs, &f, var ? &v : nullptr, dmean ? &df : nullptr, dvar ? &dv : nullptr);
    *mean += ((f.array() * s) + l.gp->y_mean()).matrix();
    if (var) *var += s * s * v;
    for (std::size_t j = 0; j < l.columns.size(); ++j) {
      const auto J = static_cast<Eigen::Index>(j);
      if (dmean) dmean->col(l.columns[j]) += s * df.col(J);
      if (dvar) dvar->col(l.columns[j]) += s * s * dv.col(J);
    }
  }
}

Eigen::MatrixXd StackedPrior::covariance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const {
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(A.rows(), B.rows());
  for (const Level& l : levels_) {
    const double w = l.fit.weight, s = l.gp->y_scale();
    C *= w * w;
    const Eigen::MatrixXd As = columns_of(A, l.columns);
    // The same object twice for A == B: the backend then returns an exactly symmetric matrix.
    C += s * s *
         (&A == &B ? l.gp->factor().covariance(As, As)
                   : l.gp->factor().covariance(As, columns_of(B, l.columns)));
  }
  return C;
}

PriorMeanFactor::PriorMeanFactor(std::unique_ptr<PosteriorFactor> inner,
                                 std::shared_ptr<const StackedPrior> prior, double scale)
    : inner_(std::move(inner)), prior_(std::move(prior)), scale_(scale) {}

void PriorMeanFactor::predict(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                              Eigen::VectorXd* var, Eigen::MatrixXd* dmean,
                              Eigen::MatrixXd* dvar) const {
  inner_->predict(Xc, mean, var, dmean, dvar);
  Eigen::VectorXd p, pv;
  Eigen::MatrixXd dp, dpv;
  prior_->predict(Xc, &p, dmean ? &dp : nullptr, var ? &pv : nullptr, dvar ? &dpv : nullptr);
  const double s2 = scale_ * scale_;
  if (mean) *mean += scale_ * p;
  if (dmean) *dmean += scale_ * dp;
  if (var) *var += s2 * pv;
  if (dvar) *dvar += s2 * dpv;
}

void PriorMeanFactor::predict_bound(const Eigen::MatrixXd& Xc, Eigen::VectorXd* mean,
                                    Eigen::VectorXd* var_bound) const {
  inner_->predict_bound(Xc, mean, var_bound);
  Eigen::VectorXd p, pv;
  prior_->predict(Xc, &p, nullptr, var_bound ? &pv : nullptr, nullptr);
  if (mean) *mean += scale_ * p;
  if (var_bound) *var_bound += scale_ * scale_ * pv;
}

Eigen::MatrixXd PriorMeanFactor::covariance(const Eigen::MatrixXd& A,
                                            const Eigen::MatrixXd& B) const {
  return inner_->covariance(A, B) + scale_ * scale_ * prior_->covariance(A, B);
}

void PriorMeanFactor::append(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& ynew) {
  Eigen::VectorXd p;
  prior_->predict(Xnew, &p, nullptr);
  inner_->append(Xnew, ynew - scale_ * p);
}

void PriorMeanFactor::extend(const Eigen::MatrixXd& Xnew, const Eigen::VectorXd& y) {
  const Eigen::MatrixXd old = inner_->inputs();
  if (y.size() != old.rows() + Xnew.rows() || (Xnew.rows() > 0 && Xnew.cols() != old.cols())) {
    throw InvalidArgument("posterior factor: extend needs one value per row and d columns");
  }
  Eigen::MatrixXd X(y.size(), old.cols());
  X.topRows(old.rows()) = old;
  X.bottomRows(Xnew.rows()) = Xnew;
  Eigen::VectorXd p;
  prior_->predict(X, &p, nullptr);
  inner_->extend(Xnew, y - scale_ * p);
}

std::unique_ptr<PosteriorFactor> PriorMeanFactor::clone() const {
  return std::make_unique<PriorMeanFactor>(inner_->clone(), prior_, scale_);
}

}  // namespace gpbo
