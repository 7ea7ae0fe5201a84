// Acquisition functions: log h and log Phi far into the tail, the functors' partial derivatives,
// and Backend::score gradients in x against finite differences.
//
// Backend-level cases are written once as `run_xxx(const gpbo::Device&)` and run on every
// backend: TEST(..., XxxCpu) on the CPU, TEST(..., XxxCuda) on cuda:0 when one is visible.
#include "gpbo/acquisition.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/acquisition_functors.hpp"
#include "backend/backend.hpp"
#include "gpbo/device.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using gpbo::AcquisitionParams;
using gpbo::AcquisitionType;
using gpbo::Device;
using gpbo::KernelType;

/// log h / log Phi vs a long-double reference where the reference is accurate: relative to
/// max(1, |reference|) (an absolute tolerance where the value crosses zero).
constexpr double kLogHRelTol = 1e-12;
/// Analytic derivative vs a fourth-order central finite difference, relative.
constexpr double kFdRelTol = 1e-6;
/// Values that must agree up to rounding (LogEI vs log EI).
constexpr double kF64Tol = 1e-12;

constexpr double kPi = 3.14159265358979323846;

const AcquisitionType kAllTypes[] = {AcquisitionType::kLogEI, AcquisitionType::kEI,
                                     AcquisitionType::kUCB, AcquisitionType::kPI};

double fd4(const std::function<double(double)>& f, double step) {
  return (8.0 * (f(step) - f(-step)) - (f(2.0 * step) - f(-2.0 * step))) / (12.0 * step);
}

/// log(phi(z) + z Phi(z)) in long double.
long double log_h_reference(double z) {
  const long double zl = z;
  const long double pi = 3.141592653589793238462643383279502884L;
  const long double phi = std::exp(-0.5L * zl * zl) / std::sqrt(2.0L * pi);
  const long double cdf = 0.5L * std::erfc(-zl / std::sqrt(2.0L));
  return std::log(phi + zl * cdf);
}

/// log Phi(z) in long double.
long double log_ndtr_reference(double z) {
  return std::log(0.5L * std::erfc(-static_cast<long double>(z) / std::sqrt(2.0L)));
}

/// z from 5 down to -1e4 (dense near zero, geometric in the tail), plus the deep tail down to
/// -1e9; strictly decreasing.
std::vector<double> z_grid() {
  std::vector<double> z;
  for (double v = 5.0; v > -40.0; v -= 0.01) z.push_back(v);
  for (double v = -40.0; v > -1e4; v *= 1.01) z.push_back(v);
  z.push_back(-1e4);
  for (double v = -1.01e4; v > -1e9; v *= 1.05) z.push_back(v);
  return z;
}

// ------------------------------------------------------------------ log h

TEST(LogEi, LogHFiniteAndStrictlyIncreasing) {
  const std::vector<double> z = z_grid();
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double v = gpbo::log_h(z[i]);
    ASSERT_TRUE(std::isfinite(v)) << "z = " << z[i];
    if (i > 0) {
      ASSERT_LT(v, gpbo::log_h(z[i - 1]))
          << "not increasing between z = " << z[i] << " and " << z[i - 1];
    }
  }
}

TEST(LogEi, LogHStrictlyIncreasingAcrossBranchPoints) {
  const double tail = gpbo::acq_detail::kSeriesZ;
  for (double c : {-1.0, tail}) {
    // A fine ladder of steps on either side of the branch point.
    std::vector<double> z;
    for (double step : {1e-1, 1e-3, 1e-6}) {
      const double dz = step * std::max(1.0, std::abs(c) * 1e-6);
      z.push_back(c + dz);
      z.push_back(c - dz);
    }
    z.push_back(c);
    std::sort(z.begin(), z.end());
    for (std::size_t i = 1; i < z.size(); ++i) {
      EXPECT_LT(gpbo::log_h(z[i - 1]), gpbo::log_h(z[i]))
          << "between z = " << z[i - 1] << " and " << z[i];
    }
  }
}

TEST(LogEi, LogHMatchesDirectComputation) {
  for (double z = 5.0; z > -20.0; z -= 0.003) {
    const long double ref = log_h_reference(z);
    EXPECT_NEAR(gpbo::log_h(z), static_cast<double>(ref),
                kLogHRelTol * std::max(1.0L, std::abs(ref)))
        << "z = " << z;
  }
  for (double z : {-1.0, std::nextafter(-1.0, 0.0), std::nextafter(-1.0, -2.0), 0.0, -19.999}) {
    const long double ref = log_h_reference(z);
    EXPECT_NEAR(gpbo::log_h(z), static_cast<double>(ref),
                kLogHRelTol * std::max(1.0L, std::abs(ref)))
        << "z = " << z;
  }
}

TEST(LogEi, LogHContinuousAtBranchPoints) {
  // z = -1: the two sides are both accurate, so they must agree to rounding.
  const double at = gpbo::log_h(-1.0);
  const double above = gpbo::log_h(std::nextafter(-1.0, 0.0));
  const double below = gpbo::log_h(std::nextafter(-1.0, -2.0));
  EXPECT_NEAR(above, at, kLogHRelTol * std::abs(at));
  EXPECT_NEAR(below, at, kLogHRelTol * std::abs(at));
  // z = kSeriesZ (-100): the asymptotic series matches the erfcx branch.
  const double tail = gpbo::acq_detail::kSeriesZ;
  const double t_at = gpbo::log_h(tail);
  const double t_below = gpbo::log_h(std::nextafter(tail, -1e300));
  EXPECT_NEAR(t_below, t_at, kLogHRelTol * std::abs(t_at));
}

TEST(LogEi, LogHFollowsTailAsymptote) {
  // log h(z) = -z^2/2 - log(2 pi)/2 - 2 log|z| + log(1 - 3/z^2 + 15/z^4 - ...).
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  const double half_log_2pi = 0.5 * std::log(2.0 * kPi);
  for (double z = -30.0; z > -1e9; z *= 1.1) {
    const double asym = -0.5 * z * z - half_log_2pi - 2.0 * std::log(-z);
    const double got = gpbo::log_h(z);
    // The -3/z^2 correction, plus a few ulps of the -z^2/2 term itself.
    EXPECT_NEAR(got, asym, 3.5 / (z * z) + 4.0 * kEps * std::abs(asym)) << "z = " << z;
    if (z > -300.0) {
      // The correction itself is resolved where it exceeds the rounding of log(1 - ...), whose
      // absolute error is about eps z^2 (a relative error of ~2 eps in log h).
      EXPECT_NEAR(got - asym, -3.0 / (z * z), 20.0 / (z * z * z * z) + 8.0 * kEps * z * z)
          << "z = " << z;
    }
  }
}

/// d log h / dz = Phi(z) / h(z) vs central differences of log_h, where |z| <= 1e4.
TEST(LogEi, LogHDerivativeMatchesFiniteDifferences) {
  for (double z : {4.0, 1.0, 0.3, -0.5, -0.99, -1.01, -2.0, -5.0, -19.0, -36.0, -100.0, -1e3, -1e4,
                   -6.8e7, -1e8, -1e12}) {
    double lh, dlh;
    gpbo::acq_detail::log_h_and_grad(z, &lh, &dlh);
    EXPECT_EQ(lh, gpbo::log_h(z));
    // log h is close to quadratic in the tail, so a larger step only reduces rounding noise.
    const double step = std::max(1e-4, 1e-6 * std::abs(z));
    const double fd = fd4([&](double dz) { return gpbo::log_h(z + dz); }, step);
    EXPECT_NEAR(dlh, fd, kFdRelTol * std::max(1.0, std::abs(fd))) << "z = " << z;
  }
}

// Regression: the erfcx branch recovers 1/z^2 as a difference with 1, so its derivative had a
// relative error ~eps z^2 (0.44 at z = -6e7); below kSeriesZ the asymptotic series is used.
TEST(LogEi, LogHDerivativeAccurateInDeepTail) {
  for (double z : {-1e5, -1e6, -1e7, -3e7, -6e7, -6.7e7, -6.71e7}) {
    double lh, dlh;
    gpbo::acq_detail::log_h_and_grad(z, &lh, &dlh);
    const double step = std::max(1e-4, 1e-6 * std::abs(z));
    const double fd = fd4([&](double dz) { return gpbo::log_h(z + dz); }, step);
    // Also the series Phi/h = -z - 2/z + O(1/z^3), independent of any finite difference.
    const double series = -z - 2.0 / z;
    EXPECT_NEAR(dlh, series, kFdRelTol * std::abs(series)) << "z = " << z << " fd = " << fd;
  }
  // No jump across the tail branch point.
  double lh_a, dlh_a, lh_b, dlh_b;
  const double tail = gpbo::acq_detail::kSeriesZ;
  gpbo::acq_detail::log_h_and_grad(std::nextafter(tail, 0.0), &lh_a, &dlh_a);
  gpbo::acq_detail::log_h_and_grad(tail, &lh_b, &dlh_b);
  EXPECT_NEAR(dlh_a, dlh_b, kFdRelTol * std::abs(dlh_b));
}

// ------------------------------------------------------------------ log Phi

TEST(AcquisitionLogNdtr, MatchesErfcReference) {
  for (double z = 8.0; z > -30.0; z -= 0.007) {
    const long double ref = log_ndtr_reference(z);
    EXPECT_NEAR(gpbo::log_ndtr(z), static_cast<double>(ref),
                kLogHRelTol * std::max(1.0L, std::abs(ref)))
        << "z = " << z;
    // And the plain double formula the issue states.
    const double ref_d = std::log(0.5 * std::erfc(-z / std::sqrt(2.0)));
    EXPECT_NEAR(gpbo::log_ndtr(z), ref_d, 1e-11 * std::max(1.0, std::abs(ref_d))) << "z = " << z;
  }
}

TEST(AcquisitionLogNdtr, FiniteAndStrictlyIncreasingInTheTail) {
  std::vector<double> z;
  for (double v = 0.0; v > -40.0; v -= 0.01) z.push_back(v);
  for (double v = -40.0; v > -1e9; v *= 1.02) z.push_back(v);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double v = gpbo::log_ndtr(z[i]);
    ASSERT_TRUE(std::isfinite(v)) << "z = " << z[i];
    ASSERT_LT(v, 0.0) << "z = " << z[i];
    if (i > 0) {
      ASSERT_LT(v, gpbo::log_ndtr(z[i - 1])) << "z = " << z[i];
    }
  }
  // log Phi(z) ~ -z^2/2 - log|z| - log(2 pi)/2 - 1/z^2.
  for (double v = -50.0; v > -1e8; v *= 1.3) {
    const double asym = -0.5 * v * v - std::log(-v) - 0.5 * std::log(2.0 * kPi);
    EXPECT_NEAR(gpbo::log_ndtr(v), asym, 1.5 / (v * v) + 4e-16 * std::abs(asym)) << "z = " << v;
  }
}

// ------------------------------------------------------------------ acquisition functors

TEST(AcquisitionFunctor, ValuesMatchTheirDefinitions) {
  AcquisitionParams p;
  p.best_f = 0.3;
  p.beta = 2.5;
  for (double mean : {-3.0, -0.5, 0.2, 0.3, 1.5}) {
    for (double var : {1e-4, 0.05, 1.0, 4.0}) {
      const double sigma = std::sqrt(var);
      const double z = (mean - p.best_f) / sigma;
      p.type = AcquisitionType::kLogEI;
      const double logei = gpbo::evaluate_acquisition(p, mean, var).value;
      EXPECT_NEAR(logei, gpbo::log_h(z) + std::log(sigma),
                  kF64Tol * std::max(1.0, std::abs(logei)));
      p.type = AcquisitionType::kEI;
      const double ei = gpbo::evaluate_acquisition(p, mean, var).value;
      const double ei_ref =
          static_cast<double>(sigma * std::exp(log_h_reference(std::max(z, -20.0))));
      // EI itself loses ~z^2 ulps to cancellation in phi(z) + z Phi(z) (why LogEI exists).
      if (z > -20.0) {
        EXPECT_NEAR(ei, ei_ref, 1e-13 * (1.0 + z * z) * ei_ref) << mean << " " << var;
      }
      p.type = AcquisitionType::kUCB;
      EXPECT_DOUBLE_EQ(gpbo::evaluate_acquisition(p, mean, var).value,
                       mean + std::sqrt(p.beta) * sigma);
      p.type = AcquisitionType::kPI;
      EXPECT_DOUBLE_EQ(gpbo::evaluate_acquisition(p, mean, var).value, gpbo::log_ndtr(z));
    }
  }
}

TEST(AcquisitionFunctor, LogEiEqualsLogOfEi) {
  AcquisitionParams logei{AcquisitionType::kLogEI, 0.0, 4.0};
  AcquisitionParams ei{AcquisitionType::kEI, 0.0, 4.0};
  int compared = 0;
  for (double mean = -10.0; mean <= 3.0; mean += 0.05) {
    for (double var : {1e-6, 1e-3, 0.1, 1.0, 9.0}) {
      const double e = gpbo::evaluate_acquisition(ei, mean, var).value;
      const double le = gpbo::evaluate_acquisition(logei, mean, var).value;
      ASSERT_TRUE(std::isfinite(le)) << mean << " " << var;
      if (e < 1e-300) continue;  // EI underflowed; LogEI stays finite (checked above)
      ++compared;
      // EI = sigma h(z) loses relative accuracy to cancellation as z falls; log EI inherits it.
      EXPECT_NEAR(le, std::log(e), 1e-11 * std::max(1.0, std::abs(le))) << mean << " " << var;
    }
  }
  EXPECT_GT(compared, 500);
}

/// Rounding noise of one acquisition value: a few ulps of its largest term; for EI the
/// cancellation in phi(z) + z Phi(z) costs a factor ~z^2 (relative), and in the LogEI/PI tail
/// branches log(1 - ...) is rounded to ~eps z^2 absolute.
double value_noise(AcquisitionType type, double value, double var, double z) {
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  const double tail = z < -1.0 ? z * z : 0.0;
  if (type == AcquisitionType::kEI) return 8.0 * kEps * (1.0 + tail) * std::abs(value);
  return 8.0 * kEps * (1.0 + std::abs(value) + std::abs(std::log(var)) + tail);
}

TEST(AcquisitionFunctor, PartialDerivativesMatchFiniteDifferences) {
  AcquisitionParams p;
  p.best_f = 0.3;
  p.beta = 2.5;
  for (AcquisitionType type : kAllTypes) {
    p.type = type;
    for (double mean : {-3.0, -0.5, 0.2, 0.31, 1.5}) {
      for (double var : {1e-4, 0.05, 1.0, 4.0}) {
        const gpbo::AcquisitionValue a = gpbo::evaluate_acquisition(p, mean, var);
        const double z = (mean - p.best_f) / std::sqrt(var);
        // In the lower tail the values vary like exp(-z^2 / 2): shrink the steps to match.
        const double zt = std::max(0.0, -z);
        const double hm = 1e-3 * std::sqrt(var) / (1.0 + zt);
        const double hv = 1e-3 * var / (1.0 + zt * zt);
        const double fd_mean =
            fd4([&](double dm) { return gpbo::evaluate_acquisition(p, mean + dm, var).value; }, hm);
        const double fd_var =
            fd4([&](double dv) { return gpbo::evaluate_acquisition(p, mean, var + dv).value; }, hv);
        const double noise = value_noise(type, a.value, var, z);
        const std::string where =
            gpbo::to_string(type) + " mean=" + std::to_string(mean) + " var=" + std::to_string(var);
        // 1.5 = (8 + 8 + 1 + 1) / 12, the stencil's amplification of rounding noise.
        EXPECT_NEAR(a.d_mean, fd_mean, kFdRelTol * std::abs(fd_mean) + 1.5 * noise / hm + 1e-290)
            << where;
        EXPECT_NEAR(a.d_var, fd_var, kFdRelTol * std::abs(fd_var) + 1.5 * noise / hv + 1e-290)
            << where;
      }
    }
  }
}

TEST(AcquisitionFunctor, FlooredVarianceHasZeroVarianceGradient) {
  for (AcquisitionType type : kAllTypes) {
    const AcquisitionParams p{type, 0.0, 4.0};
    for (double var : {0.0, 1e-14, -1e-9}) {
      const gpbo::AcquisitionValue a = gpbo::evaluate_acquisition(p, 0.5, var);
      EXPECT_TRUE(std::isfinite(a.value)) << gpbo::to_string(type);
      EXPECT_TRUE(std::isfinite(a.d_mean)) << gpbo::to_string(type);
      EXPECT_EQ(a.d_var, 0.0) << gpbo::to_string(type);
    }
  }
}

TEST(AcquisitionParse, NamesRoundTrip) {
  for (AcquisitionType type : kAllTypes) {
    EXPECT_EQ(gpbo::parse_acquisition(gpbo::to_string(type)), type);
  }
  EXPECT_EQ(gpbo::parse_acquisition("LogEI"), AcquisitionType::kLogEI);
  EXPECT_EQ(gpbo::parse_acquisition("UCB"), AcquisitionType::kUCB);
  EXPECT_THROW(gpbo::parse_acquisition("qei"), gpbo::InvalidArgument);
  EXPECT_THROW(gpbo::parse_acquisition(""), gpbo::InvalidArgument);
}

// ------------------------------------------------------------------ Backend::score in x

MatrixXd random_unit(std::mt19937_64& rng, Eigen::Index rows, Eigen::Index cols) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  MatrixXd X(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) X(i, j) = u(rng);
  return X;
}

/// score(..., grad) vs central differences of score values, every acquisition, both kernels,
/// incumbents from inside the data range to far above it (LogEI's tail).
void run_score_gradients(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  std::mt19937_64 rng(31);
  std::normal_distribution<double> normal;
  constexpr int kD = 3, kN = 15, kM = 6;
  constexpr double kStep = 1e-4;
  for (KernelType kernel : {KernelType::kMatern52, KernelType::kRbf}) {
    const MatrixXd X = random_unit(rng, kN, kD);
    VectorXd y(kN);
    for (int i = 0; i < kN; ++i) y(i) = normal(rng);
    gpbo::GpHyperparameters h;
    h.lengthscales = Eigen::Vector3d(0.3, 0.5, 0.8);
    h.outputscale = 1.2;
    h.noise = 1e-3;
    h.mean = 0.1;
    const auto f = backend->factor(kernel, h, X, y);
    const MatrixXd Xc = random_unit(rng, kM, kD);
    for (AcquisitionType type : kAllTypes) {
      for (double best_f : {y.maxCoeff() - 0.5, y.maxCoeff(), y.maxCoeff() + 3.0, 15.0}) {
        const AcquisitionParams acq{type, best_f, 2.0};
        const std::string where = gpbo::to_string(type) +
                                  (kernel == KernelType::kRbf ? " rbf" : " matern52") +
                                  " best_f=" + std::to_string(best_f);
        VectorXd values;
        MatrixXd grad;
        backend->score(*f, acq, Xc, &values, &grad);
        ASSERT_EQ(values.size(), kM) << where;
        ASSERT_EQ(grad.rows(), kM) << where;
        ASSERT_EQ(grad.cols(), kD) << where;
        VectorXd values_only;
        backend->score(*f, acq, Xc, &values_only, nullptr);
        EXPECT_EQ(values_only, values) << where;

        // Values agree with predict() + evaluate_acquisition.
        VectorXd mean, var;
        f->predict(Xc, &mean, &var);
        for (int i = 0; i < kM; ++i) {
          const double ref = gpbo::evaluate_acquisition(acq, mean(i), var(i)).value;
          EXPECT_NEAR(values(i), ref, kF64Tol * std::max(1.0, std::abs(ref))) << where;
        }

        for (int i = 0; i < kM; ++i) {
          // In the lower tail EI varies like exp(-z^2 / 2): shrink the step to match.
          const double z = (mean(i) - best_f) / std::sqrt(var(i));
          const double step = kStep / (1.0 + std::max(0.0, -z));
          VectorXd fd(kD);
          for (int j = 0; j < kD; ++j) {
            fd(j) = fd4(
                [&](double dx) {
                  MatrixXd x = Xc.row(i);
                  x(0, j) += dx;
                  VectorXd v;
                  backend->score(*f, acq, x, &v, nullptr);
                  return v(0);
                },
                step);
          }
          // Relative to the size of this point's gradient (components can cancel to ~0), plus
          // what rounding noise in the values does to the difference quotient.
          const double scale = fd.cwiseAbs().maxCoeff();
          // The predicted mean and variance carry rounding noise of their own (the variance
          // s - |L^-1 k|^2 about n eps s absolute), which the acquisition passes on.
          constexpr double kEps = std::numeric_limits<double>::epsilon();
          const gpbo::AcquisitionValue a = gpbo::evaluate_acquisition(acq, mean(i), var(i));
          const double pred_noise =
              kN * kEps *
              (std::abs(a.d_mean) * (1.0 + std::abs(mean(i))) + std::abs(a.d_var) * h.outputscale);
          const double noise = 1.5 * (value_noise(type, values(i), var(i), z) + pred_noise) / step;
          for (int j = 0; j < kD; ++j) {
            EXPECT_NEAR(grad(i, j), fd(j), kFdRelTol * scale + noise)
                << where << " point " << i << " coordinate " << j;
          }
        }
      }
    }
  }
}

TEST(AcquisitionScore, GradientsMatchFiniteDifferencesCpu) { run_score_gradients(Device::cpu()); }
TEST(AcquisitionScore, GradientsMatchFiniteDifferencesCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_score_gradients(Device::cuda(0));
}

/// LogEI stays finite and ordered where EI underflows to zero at every candidate.
void run_score_logei_far_tail(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  std::mt19937_64 rng(32);
  const MatrixXd X = random_unit(rng, 10, 2);
  const VectorXd y = VectorXd::LinSpaced(10, -1.0, 1.0);
  gpbo::GpHyperparameters h;
  h.lengthscales = Eigen::Vector2d(0.4, 0.4);
  h.noise = 1e-4;
  const auto f = backend->factor(KernelType::kMatern52, h, X, y);
  const MatrixXd Xc = random_unit(rng, 50, 2);
  const AcquisitionParams ei{AcquisitionType::kEI, 1e3, 4.0};
  const AcquisitionParams logei{AcquisitionType::kLogEI, 1e3, 4.0};
  VectorXd v_ei, v_logei;
  MatrixXd g_logei;
  backend->score(*f, ei, Xc, &v_ei, nullptr);
  backend->score(*f, logei, Xc, &v_logei, &g_logei);
  EXPECT_EQ(v_ei.maxCoeff(), 0.0) << "EI was expected to underflow at best_f = 1e3";
  EXPECT_TRUE(v_logei.allFinite());
  EXPECT_TRUE(g_logei.allFinite());
  EXPECT_GT(g_logei.cwiseAbs().maxCoeff(), 0.0);
  // Ordered like the closed form log(sigma) + log_h(z) with the predicted mean and variance.
  VectorXd mean, var;
  f->predict(Xc, &mean, &var);
  for (Eigen::Index i = 0; i < Xc.rows(); ++i) {
    const double sigma = std::sqrt(std::max(var(i), gpbo::kMinAcquisitionVariance));
    const double ref = gpbo::log_h((mean(i) - 1e3) / sigma) + std::log(sigma);
    EXPECT_NEAR(v_logei(i), ref, kF64Tol * std::abs(ref));
  }
}

TEST(AcquisitionScore, LogEiFiniteWhereEiUnderflowsCpu) { run_score_logei_far_tail(Device::cpu()); }
TEST(AcquisitionScore, LogEiFiniteWhereEiUnderflowsCuda) {
  if (gpbo::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  run_score_logei_far_tail(Device::cuda(0));
}

}  // namespace
