#pragma once
// The jitter ladder both backends factor a covariance matrix with, and how both read the info
// of a LAPACK-style factorization (LAPACK's dpotrf on the CPU, cuSOLVER's on the GPU).

#include <cmath>
#include <string>

#include "gpbo/error.hpp"

namespace gpbo::detail {

/// Rung 0 adds nothing; rungs 1 .. 8 add 1e-10, 1e-9, ..., 1e-3 times the mean diagonal
/// (duplicate points and tiny noise need a rung or two).
constexpr int kJitterRungs = 9;

/// The jitter of `rung` for a matrix whose mean diagonal is `scale`.
inline double jitter_for_rung(int rung, double scale) {
  return rung == 0 ? 0.0 : scale * std::pow(10.0, rung - 11);
}

/// Climbs the ladder: calls `factor(rung, jitter)` for each rung until it returns true, and
/// returns the jitter that succeeded. `factor` refills the matrix itself before a retry (a
/// failed factorization overwrites it). Throws NumericalError, naming `what`, when `scale` is
/// not finite or no rung succeeds; lets what `factor` throws through.
template <typename Factor>
double climb_jitter_ladder(double scale, const std::string& what, Factor&& factor) {
  if (!std::isfinite(scale)) throw NumericalError(what + ": non-finite covariance");
  double jitter = 0.0;
  for (int rung = 0; rung < kJitterRungs; ++rung) {
    jitter = jitter_for_rung(rung, scale);
    if (factor(rung, jitter)) return jitter;
  }
  throw NumericalError(what + ": covariance not positive definite even with jitter " +
                       std::to_string(jitter));
}

/// The info of a factorization or inversion (`call`: "LAPACKE_dpotrf_work",
/// "cusolverDnXpotrf", ...): true for 0, false for i > 0 (a minor that is not positive definite,
/// or a zero pivot: a property of the matrix). info = -i means argument i was illegal, a bug in
/// gpbo rather than a numerical condition: throws the base Error (an internal error) naming the
/// call and the argument, never NumericalError (which the fit reads as an infeasible point) nor
/// BackendUnavailable (the device is fine).
inline bool factorization_succeeded(int info, const char* call, const std::string& what) {
  if (info < 0) {
    throw Error(what + ": internal error: " + call + " rejected argument " + std::to_string(-info));
  }
  return info == 0;
}

}  // namespace gpbo::detail
