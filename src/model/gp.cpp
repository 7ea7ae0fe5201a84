#include "gpbo/gp.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "backend/backend.hpp"
#include "common/clock.hpp"
#include "gpbo/error.hpp"
#include "model/fit_subset.hpp"
#include "model/priors.hpp"
#include "numerics/lbfgsb.hpp"

namespace gpbo {
namespace {

/// Packing of the hyperparameters for the optimizer: [log l (d), log s, log noise, mean].
Eigen::VectorXd pack(const GpHyperparameters& h) {
  const Eigen::Index d = h.lengthscales.size();
  Eigen::VectorXd t(d + 3);
  t.head(d) = h.lengthscales.array().log();
  t(d) = std::log(h.outputscale);
  t(d + 1) = std::log(h.noise);
  t(d + 2) = h.mean;
  return t;
}

GpHyperparameters unpack(const Eigen::VectorXd& t) {
  const Eigen::Index d = t.size() - 3;
  GpHyperparameters h;
  h.lengthscales = t.head(d).array().exp();
  h.outputscale = std::exp(t(d));
  h.noise = std::exp(t(d + 1));
  h.mean = t(d + 2);
  return h;
}

constexpr double kMeanBound = 10.0;  // |constant mean| on the standardized scale
constexpr double kBytesPerGiB = 1073741824.0;

}  // namespace

GaussianProcess::GaussianProcess(GpOptions options, Device device, ScorePrecision scoring)
    : options_(options), backend_(make_backend(device, scoring)) {}
GaussianProcess::~GaussianProcess() = default;
GaussianProcess::GaussianProcess(GaussianProcess&&) noexcept = default;
GaussianProcess& GaussianProcess::operator=(GaussianProcess&&) noexcept = default;

void GaussianProcess::standardize(const Eigen::VectorXd& y) {
  // In units of a power of two near max |y|, so that no sum or square overflows for any finite
  // y (values near 1e300 once made the variance infinite and every fit fail).
  const double big = y.cwiseAbs().maxCoeff();
  const int e = big > 0.0 ? std::ilogb(big) : 0;
  const Eigen::ArrayXd z = y.array().unaryExpr([e](double v) { return std::ldexp(v, -e); });
  const double mean = z.mean();
  const double var = y.size() > 1 ? (z - mean).square().sum() / (y.size() - 1) : 0.0;
  // Constant y (or one point, or differences at the rounding level of the mean): the unit
  // scale rather than a division by (almost) zero.
  double sd = std::sqrt(var);
  const bool constant = !(sd > 64 * std::numeric_limits<double>::epsilon() * std::abs(mean)) ||
                        !(sd > std::ldexp(1.0, -900));
  y_mean_ = std::ldexp(mean, e);
  if (constant) {
    y_scale_ = 1.0;
    y_std_ = Eigen::VectorXd::Zero(y.size());
    return;
  }
  y_scale_ = std::min(std::ldexp(sd, e), std::numeric_limits<double>::max());
  y_std_ = ((z - mean) / sd).matrix();
}

std::size_t GaussianProcess::memory_limit_bytes() const {
  if (options_.memory_limit_gb > 0.0) {
    return static_cast<std::size_t>(std::min(options_.memory_limit_gb * kBytesPerGiB, 1e18));
  }
  return backend_->memory_bytes() / 4 * 3;
}

bool GaussianProcess::fits_on_subset(Eigen::Index n) const {
  return options_.subset_above > 0 && n > options_.subset_above && options_.subset_size < n;
}

bool GaussianProcess::refines_on_all(Eigen::Index n) const {
  if (!fits_on_subset(n) || options_.subset_refine_iterations <= 0) return false;
  // Beside one factor of all n: a warm model keeps its resident factor while it refits in the
  // background. Where the steps do not fit, the subset's answer stands (a study of 100,000
  // observations on an H200: its likelihood alone is 160 GB).
  const Backend::MemoryNeed all = backend_->memory_need(n);
  return held_bytes_ + all.factor + all.likelihood <= static_cast<double>(memory_limit_bytes());
}

Eigen::Index GaussianProcess::likelihood_rows(Eigen::Index n) const {
  if (!fits_on_subset(n) || refines_on_all(n)) return n;
  return options_.subset_size;
}

double GaussianProcess::memory_need(Eigen::Index n, bool fitting) const {
  const Backend::MemoryNeed all = backend_->memory_need(n);
  if (!fitting) return all.factor;
  const Eigen::Index m = likelihood_rows(n);
  const double likelihood = m == n ? all.likelihood : backend_->memory_need(m).likelihood;
  return std::max(all.factor, likelihood);
}

void GaussianProcess::require_memory(Eigen::Index n, double need, const char* what) const {
  const double limit = static_cast<double>(memory_limit_bytes());
  if (need <= limit) return;
  const bool gpu = backend_->device().kind() == Device::Kind::kCuda;
  char text[400];
  std::snprintf(text, sizeof text,
                "GP: %lld observations need about %.3g GiB of the %s's memory to %s, over the "
                "limit of %.3g GiB (option gp.memory_limit_gb; 0 is three quarters of the %s's "
                "memory)",
                static_cast<long long>(n), need / kBytesPerGiB, gpu ? "GPU" : "host", what,
                limit / kBytesPerGiB, gpu ? "GPU" : "host");
  throw InvalidArgument(text);
}

void GaussianProcess::set_data(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, bool fitting) {
  if (X.rows() == 0 || X.rows() != y.size()) {
    throw InvalidArgument("GP: X has " + std::to_string(X.rows()) + " rows but y has " +
                          std::to_string(y.size()) + " values (need at least one)");
  }
  if (!X.allFinite() || !y.allFinite()) throw InvalidArgument("GP: X and y must be finite");
  require_memory(X.rows(), memory_need(X.rows(), fitting),
                 fitting ? "fit and factor them" : "factor them");
  X_ = X;
  standardize(y);
}

void GaussianProcess::condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                const GpHyperparameters& h) {
  if (h.lengthscales.size() != X.cols()) {
    throw InvalidArgument(
        "GP: hyperparameters are for d = " + std::to_string(h.lengthscales.size()) + ", X has " +
        std::to_string(X.cols()) + " columns");
  }
  set_data(X, y, false);
  hyper_ = h;
  reused_ = false;
  const Stopwatch watch;
  factor_ = backend_->factor(options_.kernel, hyper_, X_, y_std_);
  seconds_ = {0.0, watch.seconds()};
}

void GaussianProcess::condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                const GpHyperparameters& h, std::unique_ptr<PosteriorFactor> kept) {
  if (!kept) {
    condition(X, y, h);
    return;
  }
  if (h.lengthscales.size() != X.cols() || kept->size() > X.rows()) {
    throw InvalidArgument("GP: a kept factor of " + std::to_string(kept->size()) +
                          " rows does not fit " + std::to_string(X.rows()) + " x " +
                          std::to_string(X.cols()) + " data");
  }
  factor_.reset();
  set_data(X, y, false);
  hyper_ = h;
  reused_ = false;
  const Stopwatch watch;
  const Eigen::Index k = kept->size();
  try {
    kept->extend(X_.bottomRows(X_.rows() - k), y_std_);
    factor_ = std::move(kept);
    reused_ = true;
  } catch (const Error&) {
    // A kept factor that cannot take the new rows (not positive definite with the jitter it
    // was made with, or no memory left to grow into) is dropped first; a fresh factorization
    // decides, with its own jitter ladder.
    kept.reset();
    factor_ = backend_->factor(options_.kernel, hyper_, X_, y_std_);
  }
  seconds_ = {0.0, watch.seconds()};
}

std::unique_ptr<PosteriorFactor> GaussianProcess::release_factor() {
  if (!factor_) throw InvalidArgument("GP: no posterior before fit()");
  return std::move(factor_);
}

void GaussianProcess::fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, std::uint64_t seed,
                          const GpHyperparameters* warm_start) {
  const int d = static_cast<int>(X.cols());
  GpHyperparameters defaults;
  // With a time input the last column has its own prior; the others keep that of d - 1.
  const bool timed = time_input_ && d > 1;
  const LogNormalPrior ls_prior = lengthscale_prior(timed ? d - 1 : d), noise_pr = noise_prior(),
                       scale_pr = outputscale_prior(), time_pr = time_lengthscale_prior();
  const auto prior_of = [&](int j) -> const LogNormalPrior& {
    return timed && j == d - 1 ? time_pr : ls_prior;
  };
  defaults.lengthscales = Eigen::VectorXd::Constant(d, ls_prior.mode());
  if (timed) defaults.lengthscales(d - 1) = time_pr.mode();
  defaults.noise = noise_pr.mode();
  defaults.outputscale = 1.0;
  Stopwatch watch;
  set_data(X, y, true);  // validates shapes and memory, standardizes y
  factor_.reset();
  reused_ = false;

  Eigen::VectorXd lb(d + 3), ub(d + 3);
  lb.head(d).setConstant(std::log(options_.min_lengthscale));
  ub.head(d).setConstant(std::log(options_.max_lengthscale));
  lb(d) = std::log(options_.min_outputscale);
  ub(d) = std::log(options_.max_outputscale);
  lb(d + 1) = std::log(options_.min_noise);
  ub(d + 1) = std::log(options_.max_noise);
  lb(d + 2) = -kMeanBound;
  ub(d + 2) = kMeanBound;

  // Above subset_above observations the search runs on a subset (model/fit_subset.hpp).
  const Eigen::Index n = X_.rows();
  const bool subset = fits_on_subset(n);
  Eigen::MatrixXd X_sub;
  Eigen::VectorXd y_sub;
  if (subset) {
    const std::vector<Eigen::Index> rows = select_fit_subset(y_std_, options_.subset_size, seed);
    X_sub.resize(static_cast<Eigen::Index>(rows.size()), d);
    y_sub.resize(static_cast<Eigen::Index>(rows.size()));
    for (std::size_t k = 0; k < rows.size(); ++k) {
      X_sub.row(static_cast<Eigen::Index>(k)) = X_.row(rows[k]);
      y_sub(static_cast<Eigen::Index>(k)) = y_std_(rows[k]);
    }
  }
  const Eigen::MatrixXd* X_fit = subset ? &X_sub : &X_;
  const Eigen::VectorXd* y_fit = subset ? &y_sub : &y_std_;

  // Negative log posterior: -(LML + log priors) on the standardized scale. The evaluations
  // reuse one scratch, dropped before the final factorization (backend/backend.hpp).
  std::unique_ptr<LikelihoodScratch> scratch = backend_->likelihood_scratch();
  const BoxObjective objective = [&](const Eigen::VectorXd& t, Eigen::VectorXd& g) {
    const GpHyperparameters h = unpack(t);
    double lp;
    try {
      lp = backend_->log_marginal_likelihood(options_.kernel, h, *X_fit, *y_fit, &g, scratch.get());
    } catch (const NumericalError&) {
      return std::numeric_limits<double>::infinity();
    }
    double dp;
    for (int j = 0; j < d; ++j) {
      lp += prior_of(j).log_density(t(j), &dp);
      g(j) += dp;
    }
    lp += scale_pr.log_density(t(d), &dp);
    g(d) += dp;
    lp += noise_pr.log_density(t(d + 1), &dp);
    g(d + 1) += dp;
    g = -g;
    return -lp;
  };

  std::vector<Eigen::VectorXd> starts;
  const bool warm = warm_start && warm_start->lengthscales.size() == d;
  // Without a warm start on a long history, the starts are compared on a subset of
  // warm_only_above points (the basin a start falls into shows on a fair sample, at a fraction
  // of the cost), and only the winner goes on, as a warm start would, on the data to fit.
  const bool screen =
      !warm && options_.warm_only_above > 0 && X_fit->rows() > options_.warm_only_above;
  if (warm) starts.push_back(pack(*warm_start));
  BoxOptions box;
  box.max_iterations = options_.max_iterations;
  if (warm && X_fit->rows() >= options_.warm_only_above) {
    box.max_iterations = options_.warm_max_iterations;
  } else {
    starts.push_back(pack(defaults));
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    while (static_cast<int>(starts.size()) < options_.n_starts + (warm ? 1 : 0)) {
      Eigen::VectorXd t = pack(defaults);
      for (int j = 0; j < d; ++j)
        t(j) = prior_of(j).mu - prior_of(j).sigma * prior_of(j).sigma +
               prior_of(j).sigma * normal(rng);
      t(d + 1) = noise_pr.mu - noise_pr.sigma * noise_pr.sigma + noise_pr.sigma * normal(rng);
      starts.push_back(t);
    }
  }

  const Eigen::MatrixXd* X_data = X_fit;
  const Eigen::VectorXd* y_data = y_fit;
  Eigen::MatrixXd X_screen;
  Eigen::VectorXd y_screen;
  if (screen) {
    const std::vector<Eigen::Index> rows =
        select_fit_subset(*y_fit, options_.warm_only_above, seed ^ 0x5c4ee9ULL);
    X_screen.resize(static_cast<Eigen::Index>(rows.size()), d);
    y_screen.resize(static_cast<Eigen::Index>(rows.size()));
    for (std::size_t k = 0; k < rows.size(); ++k) {
      X_screen.row(static_cast<Eigen::Index>(k)) = X_fit->row(rows[k]);
      y_screen(static_cast<Eigen::Index>(k)) = (*y_fit)(rows[k]);
    }
    X_fit = &X_screen;
    y_fit = &y_screen;
  }
  BoxResult best{pack(defaults), std::numeric_limits<double>::infinity(), 0};
  for (const Eigen::VectorXd& t0 : starts) {
    BoxResult r = minimize_in_box(objective, t0.cwiseMax(lb).cwiseMin(ub), lb, ub, box);
    if (r.value < best.value) best = std::move(r);
  }
  if (screen) {
    X_fit = X_data;
    y_fit = y_data;
    BoxOptions go_on = box;
    go_on.max_iterations = options_.warm_max_iterations;
    const Eigen::VectorXd t0 = std::isfinite(best.value) ? best.x : pack(defaults);
    best = minimize_in_box(objective, t0, lb, ub, go_on);
  }
  if (!std::isfinite(best.value)) {
    throw NumericalError("GP fit: no hyperparameters give a positive-definite covariance");
  }
  if (subset && refines_on_all(n)) {
    // A few steps on the whole data from the subset's answer; kept only if they succeed.
    X_fit = &X_;
    y_fit = &y_std_;
    BoxOptions refine = box;
    refine.max_iterations = options_.subset_refine_iterations;
    BoxResult r = minimize_in_box(objective, best.x, lb, ub, refine);
    if (std::isfinite(r.value)) best = std::move(r);
  }
  hyper_ = unpack(best.x);
  log_posterior_ = -best.value;
  scratch.reset();
  seconds_.search = watch.seconds();
  watch.restart();
  factor_ = backend_->factor(options_.kernel, hyper_, X_, y_std_);
  seconds_.factor = watch.seconds();
}

Prediction GaussianProcess::predict(const Eigen::MatrixXd& Xc) const {
  if (!factor_) throw InvalidArgument("GP: predict() before fit()");
  if (Xc.cols() != X_.cols()) {
    throw InvalidArgument("GP: predict() needs " + std::to_string(X_.cols()) + " columns, got " +
                          std::to_string(Xc.cols()));
  }
  Eigen::VectorXd mean, var;
  factor_->predict(Xc, &mean, &var);
  return {(mean.array() * y_scale_ + y_mean_).matrix(), var.array().sqrt() * y_scale_};
}

const PosteriorFactor& GaussianProcess::factor() const {
  if (!factor_) throw InvalidArgument("GP: no posterior before fit()");
  return *factor_;
}

}  // namespace gpbo
