#pragma once
// Hyperparameter priors of the GP. The densities are on the value itself (as GPyTorch evaluates
// them), written as functions of its log, the variable the optimizer moves.

#include <cmath>

namespace gpbo {

struct LogNormalPrior {
  double mu = 0.0;
  double sigma = 1.0;
  /// log p(x) at x = exp(t), and d log p / dt.
  double log_density(double t, double* d_dt) const;
  /// argmax_x p(x) = exp(mu - sigma^2).
  double mode() const { return std::exp(mu - sigma * sigma); }
};

/// Lengthscale prior for d encoded dimensions: LogNormal(sqrt(2) + ln(d) / 2, sqrt(3))
/// (Hvarfner, Hellsten & Nardi 2024, "Vanilla Bayesian Optimization Performs Great in High
/// Dimensions"; BoTorch's default since v0.12).
LogNormalPrior lengthscale_prior(int d);
/// Lengthscale prior of a time input scaled to [0, 1] over the data's span (StudyOptions::drift):
/// LogNormal(ln 4, 1), median 4 and mode 1.5 spans. At one span a Matern-5/2 kernel still
/// correlates the oldest observation with now at 0.52, at 4 spans at 0.95: the prior says the
/// function keeps still over the whole study, and a lengthscale of a tenth of the span (a
/// change every tenth of the trials) costs 5.5 nats of log prior, which a real change in the
/// data outweighs many times over while noise on a static function does not.
LogNormalPrior time_lengthscale_prior();
/// Noise-variance prior LogNormal(-4, 1) (BoTorch's default since v0.12).
LogNormalPrior noise_prior();
/// Outputscale prior: weak, centred on the unit variance of standardized y.
LogNormalPrior outputscale_prior();

}  // namespace gpbo
