// A resident posterior factor (PosteriorFactor::append, extend, truncate, predict_bound) against
// a fresh factorization, and the screened top-k of the CPU backend against scoring every row.
// Each body runs on the CPU and on CUDA (skipped, with a message, without a device; in
// gpbo_cuda_emulation_tests on the host emulation).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "backend/backend.hpp"
#include "gpbo/device.hpp"
#include "gpbo/error.hpp"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using gpbo::Device;
using gpbo::GpHyperparameters;
using gpbo::KernelType;

/// A factor grown by 1,000 appends against one factorization of the same points: posterior
/// mean (relative to 1 + |mean|) and variance (relative to the outputscale). Each append solves
/// against the factor so far, so rounding accumulates as in a longer Cholesky (condition number
/// about n s / noise ~ 1e7 here); measured on the CPU: about 3e-14. 1e-10 leaves room for
/// other BLAS libraries and the GPU's reductions.
constexpr double kAppendTol = 1e-10;
/// The same factor after dropping its last rows: the leading block is the same numbers.
constexpr double kTruncateTol = 1e-12;

#if defined(GPBO_CUDA_EMULATION)
constexpr int kAppends = 200;  // the emulation computes on the host, one kernel at a time
#else
constexpr int kAppends = 1000;
#endif

bool usable(const Device& device) {
  return device.kind() != Device::Kind::kCuda || gpbo::cuda_device_count() > 0;
}

MatrixXd random_unit(int n, int d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  MatrixXd X(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) X(i, j) = u(rng);
  return X;
}

VectorXd response(const MatrixXd& X) {
  VectorXd y(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    y(i) = std::sin(3.0 * X(i, 0)) + (X.row(i).array() - 0.4).square().sum();
  return y;
}

GpHyperparameters hyper(int d) {
  GpHyperparameters h;
  h.lengthscales = VectorXd::LinSpaced(d, 0.3, 0.8);
  h.outputscale = 1.3;
  h.noise = 1e-4;
  h.mean = 0.2;
  return h;
}

double max_abs(const MatrixXd& A) { return A.cwiseAbs().maxCoeff(); }

void appends_match_fresh_factor(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  const int n0 = 50, d = 4, n = n0 + kAppends;
  const MatrixXd X = random_unit(n, d, 1);
  const VectorXd y = response(X);
  const GpHyperparameters h = hyper(d);
  auto grown = backend->factor(KernelType::kMatern52, h, X.topRows(n0), y.head(n0));
  // One trial at a time, as tells come in; every tenth one by extend() with all values.
  for (int i = n0; i < n; ++i) {
    if (i % 10 == 0) {
      grown->extend(X.row(i), y.head(i + 1));
    } else {
      grown->append(X.row(i), y.segment(i, 1));
    }
  }
  ASSERT_EQ(grown->size(), n);
  EXPECT_EQ(grown->inputs(), X);
  const auto fresh = backend->factor(KernelType::kMatern52, h, X, y);
  const MatrixXd Xc = random_unit(300, d, 2);
  VectorXd mg, vg, mf, vf;
  grown->predict(Xc, &mg, &vg);
  fresh->predict(Xc, &mf, &vf);
  const double mean_err = ((mg - mf).array().abs() / (1.0 + mf.array().abs())).maxCoeff();
  const double var_err = max_abs(vg - vf) / h.outputscale;
  EXPECT_LE(mean_err, kAppendTol);
  EXPECT_LE(var_err, kAppendTol);
  std::printf("after %d appends: mean error %.2e, variance error %.2e\n", kAppends, mean_err,
              var_err);
}

void extend_resolves_values(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  const int n = 300, d = 3;
  const MatrixXd X = random_unit(n + 5, d, 3);
  const VectorXd y = response(X);
  const VectorXd y2 = (y.array() * 2.0 - 1.0).sin().matrix();  // other values, same points
  const GpHyperparameters h = hyper(d);
  auto f = backend->factor(KernelType::kRbf, h, X.topRows(n), y.head(n));
  f->extend(X.bottomRows(5), y2);  // five rows and new values for all
  const auto fresh = backend->factor(KernelType::kRbf, h, X, y2);
  const MatrixXd Xc = random_unit(200, d, 4);
  VectorXd m1, v1, m2, v2;
  f->predict(Xc, &m1, &v1);
  fresh->predict(Xc, &m2, &v2);
  EXPECT_LE(max_abs(m1 - m2), kAppendTol);
  EXPECT_LE(max_abs(v1 - v2), kAppendTol);
  // Values only (no rows): two triangular solves.
  f->extend(MatrixXd(0, d), y);
  const auto fresh_y = backend->factor(KernelType::kRbf, h, X, y);
  f->predict(Xc, &m1, nullptr);
  fresh_y->predict(Xc, &m2, nullptr);
  EXPECT_LE(max_abs(m1 - m2), kAppendTol);

  // Bad input changes nothing.
  EXPECT_THROW(f->extend(MatrixXd(0, d), y.head(n)), gpbo::InvalidArgument);
  EXPECT_THROW(f->truncate(-1), gpbo::InvalidArgument);
  EXPECT_THROW(f->truncate(f->size() + 1), gpbo::InvalidArgument);
  EXPECT_EQ(f->size(), n + 5);
  f->predict(Xc, &m1, nullptr);
  EXPECT_LE(max_abs(m1 - m2), kAppendTol);
}

void truncate_drops_fantasies(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  const int n = 400, d = 3;
  const MatrixXd X = random_unit(n, d, 5);
  const VectorXd y = response(X);
  const GpHyperparameters h = hyper(d);
  auto f = backend->factor(KernelType::kMatern52, h, X, y);
  const MatrixXd Xc = random_unit(100, d, 6);
  VectorXd m0, v0, m1, v1;
  f->predict(Xc, &m0, &v0);
  // Fantasies at their posterior mean, then dropped again; more than the spare rows a factor
  // starts with, so that the CPU factor also grows its buffer on the way.
  const MatrixXd Xf = random_unit(60, d, 7);
  for (int i = 0; i < Xf.rows(); ++i) {
    VectorXd mu;
    f->predict(Xf.row(i), &mu, nullptr);
    f->append(Xf.row(i), mu);
  }
  ASSERT_EQ(f->size(), n + 60);
  f->truncate(n);
  EXPECT_EQ(f->size(), n);
  EXPECT_EQ(f->inputs(), X);
  f->predict(Xc, &m1, &v1);
  EXPECT_LE(max_abs(m1 - m0), kTruncateTol);
  EXPECT_LE(max_abs(v1 - v0), kTruncateTol);
}

void bound_holds(const Device& device) {
  const auto backend = gpbo::make_backend(device);
  const int n = 1200, d = 5;
  const MatrixXd X = random_unit(n, d, 8);
  const GpHyperparameters h = hyper(d);
  const auto f = backend->factor(KernelType::kMatern52, h, X, response(X));
  const MatrixXd Xc = random_unit(400, d, 9);
  VectorXd mean, var, bmean, bound;
  f->predict(Xc, &mean, &var);
  f->predict_bound(Xc, &bmean, &bound);
  EXPECT_LE(max_abs(bmean - mean), 1e-12);
  EXPECT_TRUE(((bound - var).array() >= -1e-12).all());
  EXPECT_TRUE((bound.array() <= h.outputscale + 1e-12).all());
}

#define BOTH_BACKENDS(name, body)                                           \
  TEST(PosteriorFactor, name) { body(Device::cpu()); }                      \
  TEST(PosteriorFactor, name##Cuda) {                                       \
    if (!usable(Device::cuda(0))) GTEST_SKIP() << "no CUDA device visible"; \
    body(Device::cuda(0));                                                  \
  }

BOTH_BACKENDS(AppendsMatchFreshFactor, appends_match_fresh_factor)
BOTH_BACKENDS(ExtendResolvesValues, extend_resolves_values)
BOTH_BACKENDS(TruncateDropsFantasies, truncate_drops_fantasies)
BOTH_BACKENDS(PredictBoundHolds, bound_holds)

// The screened top-k (CPU backend, a factor over kMinScreenedFactor rows) returns what scoring
// every row and a stable sort return: the same rows, in the same order, with the same values.
TEST(PosteriorFactor, ScreenedTopKEqualsFullScoring) {
  const auto backend = gpbo::make_cpu_backend();
  const int n = 1500, d = 6;
  const MatrixXd X = random_unit(n, d, 10);
  const GpHyperparameters h = hyper(d);
  const VectorXd y = response(X);
  const auto f = backend->factor(KernelType::kMatern52, h, X, y);
  MatrixXd Xc = random_unit(2000, d, 11);
  Xc.bottomRows(300) = X.topRows(300).array() + 0.01;  // near observed points: small variance
  Xc.row(7) = Xc.row(1500);                            // a tie: the lower index comes first
  for (gpbo::AcquisitionType type : {gpbo::AcquisitionType::kLogEI, gpbo::AcquisitionType::kEI,
                                     gpbo::AcquisitionType::kUCB, gpbo::AcquisitionType::kPI}) {
    gpbo::AcquisitionParams acq;
    acq.type = type;
    acq.best_f = y.maxCoeff() - h.mean;
    VectorXd all;
    backend->score(*f, acq, Xc, &all, nullptr);
    std::vector<Eigen::Index> sorted(static_cast<std::size_t>(Xc.rows()));
    std::iota(sorted.begin(), sorted.end(), 0);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return all(a) > all(b); });
    for (int k : {1, 8, 48}) {
      VectorXd top_values;
      const std::vector<Eigen::Index> expect(sorted.begin(), sorted.begin() + k);
      const std::vector<Eigen::Index> got = backend->top_k(*f, acq, Xc, k, &top_values);
      EXPECT_EQ(got, expect) << "acquisition " << static_cast<int>(type) << ", k = " << k;
      for (int i = 0; i < k; ++i) EXPECT_NEAR(top_values(i), all(expect[i]), 1e-12);
    }
  }
}

}  // namespace
