#pragma once
/// The vocabulary of the GP surrogate: its covariance function, its hyperparameters and the
/// options of their fit. Shared by the backend (which evaluates kernels) and the model (which
/// fits them).

#include <Eigen/Core>
#include <string>

namespace gpbo {

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
  /// Without one (a first fit on a long history), the n_starts starts are compared on
  /// `warm_only_above` of the observations (the best quarter and a random rest) and only the
  /// winner is refined on all of them, for at most `warm_max_iterations` iterations.
  int warm_only_above = 200;
  int warm_max_iterations = 40;
  /// Above `subset_above` observations (0: never) the hyperparameters are fitted on
  /// `subset_size` of them (the best quarter and a random sample of the rest), and the
  /// whole data is factored once with them: a likelihood evaluation costs O(subset_size^3)
  /// instead of O(n^3). Then `subset_refine_iterations` L-BFGS-B steps on the full likelihood
  /// start from the subset's answer, where its memory fits beside one factor of all n (see
  /// `memory_limit_gb`; else the subset's answer stands). Two steps brought the held-out
  /// density of the subset fit to within 0.02 nats of the full fit at n = 5,000, where the
  /// subset alone lost up to 0.64 (README, "Large studies"); each costs one or two O(n^3)
  /// evaluations.
  int subset_above = 2000;
  int subset_size = 1000;
  int subset_refine_iterations = 2;
  /// The most memory the model may take, in GiB; 0: three quarters of the backend's memory
  /// (the host's RAM, or the GPU's). The need is the backend's (GaussianProcess::memory_need):
  /// the factor of all n observations (8 n^2 bytes on a GPU; with the covariance and spare rows
  /// about 2.1 x 8 n^2 on the CPU), or a likelihood on all of them when the search runs on all
  /// (3 x 8 n^2 on the CPU); more is refused with InvalidArgument naming n and the limit, before
  /// anything is allocated.
  double memory_limit_gb = 0.0;
  /// Box of the fit (standardized scale): lengthscales, noise variance and outputscale.
  double min_lengthscale = 5e-3;
  double max_lengthscale = 1e3;
  double min_noise = 1e-6;
  double max_noise = 1.0;
  double min_outputscale = 1e-2;
  double max_outputscale = 1e2;
};

/// Throws InvalidArgument unless every count is >= 1 (n_starts, max_iterations,
/// warm_max_iterations; warm_only_above >= 0) and every box is 0 < min <= max < inf.
void check_gp_options(const GpOptions& options);

}  // namespace gpbo
