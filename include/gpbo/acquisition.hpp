#pragma once
/// Acquisition functions (maximized). LogEI is the default: log of expected improvement computed
/// stably far into the tail (Ament et al. 2023, "Unexpected Improvements to Expected
/// Improvement for Bayesian Optimization").

#include <string>

namespace gpbo {

enum class AcquisitionType { kLogEI, kEI, kUCB, kPI };

/// Parses "logei", "ei", "ucb" or "pi" (case-insensitive). Throws InvalidArgument.
AcquisitionType parse_acquisition(const std::string& text);
std::string to_string(AcquisitionType type);

/// log h(z) with h(z) = phi(z) + z Phi(z), finite for every finite z.
double log_h(double z);
/// log Phi(z), the log of the standard normal CDF, finite for every finite z.
double log_ndtr(double z);

}  // namespace gpbo
