#pragma once
/// Exact Gaussian-process surrogate: ARD Matern-5/2 or RBF kernel, constant mean, Gaussian
/// noise; hyperparameters fitted by MAP with BoTorch's dimension-scaled priors.

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>

#include "gpbo/device.hpp"

namespace gpbo {

class Backend;
class PosteriorFactor;

/// Covariance function over unit-cube inputs.
enum class KernelType { kMatern52, kRbf };
/// "matern52" (or "matern") and "rbf", case-insensitive. Throws InvalidArgument.
KernelType parse_kernel(const std::string& text);
std::string to_string(KernelType k);

/// Hyperparameters on the standardized scale of y: k(x, x') = outputscale * rho(r),
/// r^2 = sum_j (x_j - x'_j)^2 / lengthscales_j^2; observations y = mean + f(x) + N(0, noise).
struct GpHyperparameters {
  Eigen::VectorXd lengthscales;
  double outputscale = 1.0;
  double noise = 1e-4;
  double mean = 0.0;
};

/// Fitting options. Defaults follow BoTorch (2024): lengthscale ~ LogNormal(sqrt(2) + ln(d)/2,
/// sqrt(3)), noise variance ~ LogNormal(-4, 1), both as densities on the value itself (as
/// GPyTorch evaluates them).
struct GpOptions {
  KernelType kernel = KernelType::kMatern52;
  /// Starting points of the MAP fit without a warm start: the prior modes plus random draws.
  int n_starts = 3;
  /// L-BFGS-B iteration cap per start.
  int max_iterations = 150;
  /// With a warm start and at least `warm_only_above` observations, only the warm start is
  /// refined, for at most `warm_max_iterations` iterations (the fit is O(n^3) per step).
  int warm_only_above = 200;
  int warm_max_iterations = 40;
  double min_lengthscale = 5e-3;
  double max_lengthscale = 1e3;
  double min_noise = 1e-6;
  double max_noise = 1.0;
  double min_outputscale = 1e-2;
  double max_outputscale = 1e2;
};

/// Mean and standard deviation of the latent function, in the units of the training y.
struct Prediction {
  Eigen::VectorXd mean;
  Eigen::VectorXd stddev;
};

/// A GP fitted to (X, y). X rows are points of the unit cube; y is standardized internally, so
/// any finite scale works (constant y included).
class GaussianProcess {
 public:
  /// Throws BackendUnavailable if the device cannot be used.
  explicit GaussianProcess(GpOptions options = {}, Device device = Device::automatic(),
                           ScorePrecision scoring = ScorePrecision::kDouble);
  ~GaussianProcess();
  GaussianProcess(GaussianProcess&&) noexcept;
  GaussianProcess& operator=(GaussianProcess&&) noexcept;

  /// MAP fit. `warm_start`, if given, is a previous fit's hyperparameters (same d). `seed`
  /// drives the random restarts. Throws InvalidArgument on shape mismatch, empty or non-finite
  /// data, NumericalError if no factorization succeeds.
  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, std::uint64_t seed = 0,
           const GpHyperparameters* warm_start = nullptr);
  /// Conditions on fixed hyperparameters without optimizing them.
  void condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const GpHyperparameters& h);

  /// Posterior of the latent function at the rows of Xc (m x d). Requires a fit.
  Prediction predict(const Eigen::MatrixXd& Xc) const;

  /// Hyperparameters on the standardized scale.
  const GpHyperparameters& hyperparameters() const { return hyper_; }
  /// Log posterior (LML + log priors) of the fitted hyperparameters, standardized scale.
  double log_posterior() const { return log_posterior_; }
  double y_mean() const { return y_mean_; }
  double y_scale() const { return y_scale_; }
  bool fitted() const { return factor_ != nullptr; }

  /// The fitted posterior on the standardized scale (for acquisition code).
  const PosteriorFactor& factor() const;
  const Backend& backend() const { return *backend_; }
  const GpOptions& options() const { return options_; }

 private:
  void standardize(const Eigen::VectorXd& y);
  GpOptions options_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<PosteriorFactor> factor_;
  GpHyperparameters hyper_;
  Eigen::MatrixXd X_;
  Eigen::VectorXd y_std_;
  double y_mean_ = 0.0, y_scale_ = 1.0, log_posterior_ = 0.0;
};

}  // namespace gpbo
