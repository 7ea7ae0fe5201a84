#include "model/priors.hpp"

namespace gpbo {

double LogNormalPrior::log_density(double t, double* d_dt) const {
  constexpr double kLogSqrt2Pi = 0.91893853320467274178;
  const double u = (t - mu) / sigma;
  // The -t term is the Jacobian 1/x of a density on x.
  if (d_dt) *d_dt = -1.0 - u / sigma;
  return -t - std::log(sigma) - kLogSqrt2Pi - 0.5 * u * u;
}

LogNormalPrior lengthscale_prior(int d) {
  return {std::sqrt(2.0) + 0.5 * std::log(static_cast<double>(d > 0 ? d : 1)), std::sqrt(3.0)};
}

LogNormalPrior time_lengthscale_prior() { return {std::log(4.0), 1.0}; }

LogNormalPrior noise_prior() { return {-4.0, 1.0}; }

LogNormalPrior outputscale_prior() { return {0.0, 1.0}; }

}  // namespace gpbo
