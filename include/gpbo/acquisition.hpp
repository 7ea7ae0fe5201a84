#pragma once
/// Acquisition functions (maximized) and the settings of their optimizer. LogEI is the default:
/// log of expected improvement computed stably far into the tail (Ament et al. 2023,
/// "Unexpected Improvements to Expected Improvement for Bayesian Optimization").

#include <string>

namespace gpbo {

enum class AcquisitionType { kLogEI, kEI, kUCB, kPI };

/// Parses "logei", "ei", "ucb" or "pi" (case-insensitive). Throws InvalidArgument.
AcquisitionType parse_acquisition(const std::string& text);
std::string to_string(AcquisitionType type);

/// Settings of the acquisition optimizer (scrambled Sobol raw samples and perturbations of the
/// best points, scored in batches, the best few refined by L-BFGS-B).
struct AcquisitionOptimizerOptions {
  /// Scrambled Sobol points scored per ask.
  int raw_samples = 1024;
  /// Perturbations scored around each of the best observed points.
  int perturbations_per_anchor = 64;
  /// Best observed points used as anchors.
  int anchors = 5;
  /// Best raw candidates refined by L-BFGS-B.
  int restarts = 8;
  int refine_iterations = 100;
};

/// log h(z) with h(z) = phi(z) + z Phi(z), finite for every finite z.
double log_h(double z);
/// log Phi(z), the log of the standard normal CDF, finite for every finite z.
double log_ndtr(double z);

}  // namespace gpbo
