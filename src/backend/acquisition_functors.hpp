#pragma once
// Acquisition values as functions of the posterior mean and variance at one point, with their
// partial derivatives. Header-only and GPBO_HD so the same code scores candidates on the CPU,
// in Thrust's host backend, and on the GPU. All acquisitions are maximized.

#include <cmath>

#include "backend/host_device.hpp"
#include "gpbo/acquisition.hpp"

namespace gpbo {

/// What an acquisition needs besides the posterior: the incumbent `best_f` (standardized, for
/// maximization) and UCB's `beta`.
struct AcquisitionParams {
  AcquisitionType type = AcquisitionType::kLogEI;
  double best_f = 0.0;
  double beta = 4.0;
};

/// An acquisition value and its partial derivatives in the posterior mean and variance.
struct AcquisitionValue {
  double value;
  double d_mean;
  double d_var;
};

namespace acq_detail {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kLogSqrt2Pi = 0.91893853320467274178;      // ln(2 pi) / 2
constexpr double kLogSqrtPiOver2 = 0.22579135264472743236;  // ln(pi / 2) / 2
constexpr double kInvSqrtPi = 0.56418958354775628695;
constexpr double kSeriesZ = -100.0;  // below: asymptotic series for log h

/// erfcx(x) = exp(x^2) erfc(x) for x >= 0 without overflow (asymptotic series beyond x = 25).
GPBO_HD inline double erfcx_pos(double x) {
  if (x < 25.0) return exp(x * x) * erfc(x);
  const double t = 1.0 / (x * x);
  return kInvSqrtPi / x * (1.0 + t * (-0.5 + t * (0.75 + t * (-1.875 + t * 6.5625))));
}

/// log(1 - exp(a)) for a < 0 (Maechler 2012).
GPBO_HD inline double log1mexp(double a) {
  return a > -0.6931471805599453 ? log(-expm1(a)) : log1p(-exp(a));
}

/// log h(z) and d/dz log h(z) = Phi(z) / h(z), in three branches after Ament et al. (2023),
/// eq. 9: direct for z > -1; through erfcx for -100 < z <= -1; and below, the asymptotic series
/// h(z) = phi(z) w S(w), w = 1/z^2, S = 1 - 3w + 15w^2 - 105w^3 + 945w^4, which avoids the
/// cancellation in 1 - |z| erfcx(-z/sqrt2) sqrt(pi/2) (truncation error < 1e-16 there).
GPBO_HD inline void log_h_and_grad(double z, double* lh, double* dlh) {
  if (z > -1.0) {
    const double cdf = 0.5 * erfc(-z * kInvSqrt2);
    const double h = exp(-0.5 * z * z - kLogSqrt2Pi) + z * cdf;
    *lh = log(h);
    *dlh = cdf / h;
    return;
  }
  if (z > kSeriesZ) {
    const double ex = erfcx_pos(-z * kInvSqrt2);
    // log h + z^2/2, kept separate so the ratio below avoids exp(-z^2/2) underflow.
    const double rest = -kLogSqrt2Pi + log1mexp(log(ex * -z) + kLogSqrtPiOver2);
    *lh = rest - 0.5 * z * z;
    *dlh = exp(log(0.5 * ex) - rest);
    return;
  }
  const double w = 1.0 / (z * z);
  const double S = 1.0 + w * (-3.0 + w * (15.0 + w * (-105.0 + w * 945.0)));
  const double T = 1.0 + w * (-1.0 + w * (3.0 + w * (-15.0 + w * 105.0)));  // |z| erfcx sqrt(pi/2)
  *lh = -0.5 * z * z - kLogSqrt2Pi + log(w * S);
  *dlh = -z * T / S;
}

/// log Phi(z) and phi(z) / Phi(z).
GPBO_HD inline void log_ndtr_and_ratio(double z, double* lc, double* ratio) {
  const double log_pdf = -0.5 * z * z - kLogSqrt2Pi;
  if (z > -1.0) {
    *lc = log(0.5 * erfc(-z * kInvSqrt2));
    *ratio = exp(log_pdf - *lc);
    return;
  }
  const double log_ex = log(0.5 * erfcx_pos(-z * kInvSqrt2));
  *lc = log_ex - 0.5 * z * z;
  *ratio = exp(-kLogSqrt2Pi - log_ex);
}

}  // namespace acq_detail

/// Smallest latent variance used in scoring (standardized units); below it the gradient in the
/// variance is zero. Keeps sigma > 0 at observed points of a noiseless GP.
constexpr double kMinAcquisitionVariance = 1e-12;

/// Evaluates an acquisition at posterior mean `mean` and latent variance `var`.
GPBO_HD inline AcquisitionValue evaluate_acquisition(const AcquisitionParams& p, double mean,
                                                     double var) {
  const bool floored = !(var > kMinAcquisitionVariance);
  if (floored) var = kMinAcquisitionVariance;
  const double sigma = sqrt(var);
  const double z = (mean - p.best_f) / sigma;
  AcquisitionValue out{0.0, 0.0, 0.0};
  switch (p.type) {
    case AcquisitionType::kLogEI: {
      double lh, dlh;
      acq_detail::log_h_and_grad(z, &lh, &dlh);
      out.value = lh + log(sigma);
      out.d_mean = dlh / sigma;
      out.d_var = (1.0 - z * dlh) / (2.0 * var);
      break;
    }
    case AcquisitionType::kEI: {
      const double cdf = 0.5 * erfc(-z * acq_detail::kInvSqrt2);
      const double pdf = exp(-0.5 * z * z - acq_detail::kLogSqrt2Pi);
      out.value = sigma * (pdf + z * cdf);
      out.d_mean = cdf;
      out.d_var = pdf / (2.0 * sigma);
      break;
    }
    case AcquisitionType::kUCB: {
      const double sb = sqrt(p.beta);
      out.value = mean + sb * sigma;
      out.d_mean = 1.0;
      out.d_var = sb / (2.0 * sigma);
      break;
    }
    case AcquisitionType::kPI: {
      double lc, ratio;
      acq_detail::log_ndtr_and_ratio(z, &lc, &ratio);
      out.value = lc;
      out.d_mean = ratio / sigma;
      out.d_var = -ratio * z / (2.0 * var);
      break;
    }
  }
  if (floored) out.d_var = 0.0;
  return out;
}

}  // namespace gpbo
