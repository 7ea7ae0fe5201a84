#pragma once
/// Exact Gaussian-process surrogate: ARD Matern-5/2 or RBF kernel, constant mean, Gaussian
/// noise; hyperparameters fitted by MAP with BoTorch's dimension-scaled priors (the options and
/// hyperparameters are in gpbo/kernel.hpp).

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "gpbo/device.hpp"
#include "gpbo/kernel.hpp"

namespace gpbo {

class Backend;
class PosteriorFactor;

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
  /// Whether the last input column is time (StudyOptions::drift): its lengthscale then has its
  /// own prior, which prefers a function that does not change over the span of the data
  /// (model/priors.hpp, time_lengthscale_prior); the other columns keep the prior of d - 1
  /// dimensions. Off by default.
  void set_time_input(bool last_column_is_time) { time_input_ = last_column_is_time; }
  bool time_input() const { return time_input_; }
  /// Conditions on fixed hyperparameters without optimizing them.
  void condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const GpHyperparameters& h);
  /// The same from `kept`, a factor of this GP's backend under `h` whose rows are the first
  /// kept->size() rows of X: the other rows are appended (O(n^2) each) and the weights re-solved
  /// for y (two triangular solves) instead of a new O(n^3) factorization. Throws InvalidArgument
  /// when kept has more rows than X, and what condition() throws.
  void condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const GpHyperparameters& h,
                 std::unique_ptr<PosteriorFactor> kept);
  /// Hands the fitted posterior over to the caller (a warm model keeps it for the next ask);
  /// the GP is unfitted afterwards. Throws InvalidArgument before a fit.
  std::unique_ptr<PosteriorFactor> release_factor();

  /// Peak bytes of the backend's memory (the host's, or the GPU's) that fit() (`fitting`) or
  /// condition() of n observations needs: the larger of the factor of all n and the likelihood
  /// on the points the hyperparameter search runs on (all n, or a subset above
  /// GpOptions::subset_above). fit() and condition() refuse more than memory_limit_bytes().
  double memory_need(Eigen::Index n, bool fitting) const;
  /// GpOptions::memory_limit_gb, or by default three quarters of the backend's memory.
  std::size_t memory_limit_bytes() const;
  /// InvalidArgument naming n, `need` bytes, what they are for ("fit and factor them") and the
  /// limit, when `need` exceeds memory_limit_bytes(): the check fit() and condition() make, for
  /// callers that hold several models at once.
  void require_memory(Eigen::Index n, double need, const char* what) const;
  /// Bytes of the same memory that other models hold while this one fits (the factors of a
  /// study's other metrics; 0 by default). The refinement on all observations after a subset
  /// fit (GpOptions::subset_refine_iterations) runs only where it fits beside them.
  void set_memory_held(double bytes) { held_bytes_ = bytes; }

  /// Posterior of the latent function at the rows of Xc (m x d). Requires a fit.
  Prediction predict(const Eigen::MatrixXd& Xc) const;

  /// Hyperparameters on the standardized scale.
  const GpHyperparameters& hyperparameters() const { return hyper_; }
  /// Log posterior (LML + log priors) of the fitted hyperparameters, standardized scale.
  double log_posterior() const { return log_posterior_; }
  double y_mean() const { return y_mean_; }
  double y_scale() const { return y_scale_; }
  bool fitted() const { return factor_ != nullptr; }

  /// Wall seconds of the last fit() or condition(): the hyperparameter search (0 for
  /// condition()) and the factorization of the whole data with its answer.
  struct Seconds {
    double search = 0.0;
    double factor = 0.0;
  };
  const Seconds& last_seconds() const { return seconds_; }
  /// Whether the last condition() extended a kept factor (false after a fresh factorization).
  bool reused_factor() const { return reused_; }

  /// The fitted posterior on the standardized scale (for acquisition code).
  const PosteriorFactor& factor() const;
  const Backend& backend() const { return *backend_; }
  const GpOptions& options() const { return options_; }

 private:
  void standardize(const Eigen::VectorXd& y);
  /// Validates X and y (shapes, finite values, the memory of a fit or a condition) and keeps
  /// them, y standardized.
  void set_data(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, bool fitting);
  /// Whether a fit of n observations searches its hyperparameters on a subset.
  bool fits_on_subset(Eigen::Index n) const;
  /// Whether a subset fit of n observations goes on with L-BFGS-B steps on all of them: when
  /// GpOptions::subset_refine_iterations asks for them and the likelihood of all n fits the
  /// memory limit beside one factor of all n and the bytes held elsewhere.
  bool refines_on_all(Eigen::Index n) const;
  /// Rows the hyperparameter search of a fit of n observations evaluates the likelihood on.
  Eigen::Index likelihood_rows(Eigen::Index n) const;
  GpOptions options_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<PosteriorFactor> factor_;
  GpHyperparameters hyper_;
  Eigen::MatrixXd X_;
  Eigen::VectorXd y_std_;
  double y_mean_ = 0.0, y_scale_ = 1.0, log_posterior_ = 0.0;
  bool reused_ = false;
  double held_bytes_ = 0.0;
  Seconds seconds_;
  bool time_input_ = false;
};

}  // namespace gpbo
