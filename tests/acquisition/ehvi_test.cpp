// LogEHVI (src/acquisition/ehvi.hpp): exp(log_ehvi) against a Monte-Carlo estimate of the
// expected hypervolume improvement and against closed forms, narrow intervals against
// quadrature, gradients against central finite differences, and the far tail and tiny sigmas.
#include "acquisition/ehvi.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "acquisition/pareto.hpp"
#include "gpbo/error.hpp"

namespace gpbo {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

/// Monte-Carlo draws per EHVI estimate.
constexpr int kMcDraws = 400000;
/// exp(log_ehvi) vs the Monte-Carlo mean: within this many standard errors (a correct value
/// misses with probability ~6e-5 per comparison; there are 7 comparisons).
constexpr double kStdErrors = 4.0;
/// log_ehvi vs closed forms in double precision, absolute on the log.
constexpr double kClosedFormTol = 1e-12;
/// log_ehvi vs composite Simpson quadrature (20,000 panels, truncation < 1e-13 relative here),
/// absolute on the log. Measured: <= 3e-10 (the midpoint branch at its switch for z ~ 3.5, and
/// the rounding of log h at z ~ -30, 1e-10); dropping the w^4 term costs up to 3e-7, and a
/// cancelling log(h_l - h_u) for narrow intervals far more.
constexpr double kQuadratureTol = 1e-9;
/// Analytic vs central finite-difference gradient, relative to max(1, |gradient|). The FD step
/// is 1e-6 (1 + |x|): rounding ~ 1e-16 |log ehvi| / 1e-6 < 1e-7 for |log ehvi| < 500.
constexpr double kGradTol = 2e-6;

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double normal_pdf(double z) { return 0.3989422804014327 * std::exp(-0.5 * z * z); }
/// h(z) = phi(z) + z Phi(z), directly (fine for |z| < 8 or so).
double h(double z) { return normal_pdf(z) + z * normal_cdf(z); }

/// E[(min(Y, u) - l)^+] for Y ~ N(mu, s^2), directly.
double interval_expectation(double mu, double s, double l, double u) {
  const double hl = h((mu - l) / s);
  return std::isinf(u) ? s * hl : s * (hl - h((mu - u) / s));
}

BoxDecomposition one_box(const VectorXd& lower, const VectorXd& upper) {
  BoxDecomposition B;
  B.lower = lower.transpose();
  B.upper = upper.transpose();
  return B;
}

struct McEstimate {
  double mean = 0.0;
  double stderr_ = 0.0;
};

/// E[hypervolume_improvement(boxes, Y)] with Y_j ~ N(mu_j, sigma_j^2) independent.
McEstimate monte_carlo(const BoxDecomposition& B, const VectorXd& mu, const VectorXd& sigma,
                       std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  VectorXd y(mu.size());
  double sum = 0.0, sum2 = 0.0;
  for (int s = 0; s < kMcDraws; ++s) {
    for (Index j = 0; j < mu.size(); ++j) y(j) = mu(j) + sigma(j) * normal(rng);
    const double v = hypervolume_improvement(B, y);
    sum += v;
    sum2 += v * v;
  }
  McEstimate e;
  e.mean = sum / kMcDraws;
  e.stderr_ = std::sqrt(std::max(0.0, sum2 / kMcDraws - e.mean * e.mean) / kMcDraws);
  return e;
}

MatrixXd front_2d() {
  MatrixXd Y(6, 2);
  Y << 0.2, 1.0, 0.5, 0.8, 0.7, 0.5, 0.9, 0.3, 1.0, 0.1, 0.4, 0.4;  // the last is dominated
  return Y;
}

/// n points on the positive octant of a sphere of radius ~1.
MatrixXd front_3d(Index n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  MatrixXd Y(n, 3);
  for (Index i = 0; i < n; ++i) {
    VectorXd v(3);
    for (Index j = 0; j < 3; ++j) v(j) = std::abs(normal(rng)) + 0.05;
    Y.row(i) = (v / v.norm()).transpose();
  }
  return Y;
}

void expect_matches_monte_carlo(const BoxDecomposition& B, const VectorXd& mu,
                                const VectorXd& sigma, std::uint64_t seed) {
  const McEstimate mc = monte_carlo(B, mu, sigma, seed);
  ASSERT_GT(mc.mean, 0.0);
  ASSERT_LT(mc.stderr_, 0.02 * mc.mean) << "Monte-Carlo estimate too noisy to test";
  const double ehvi = std::exp(log_ehvi(B, mu, sigma));
  EXPECT_LT(std::abs(ehvi - mc.mean), kStdErrors * mc.stderr_)
      << "mu " << mu.transpose() << " sigma " << sigma.transpose() << ": " << ehvi << " vs "
      << mc.mean << " +- " << mc.stderr_;
}

TEST(Ehvi, MatchesMonteCarloTwoObjectives) {
  const BoxDecomposition B = non_dominated_boxes(front_2d(), VectorXd::Zero(2));
  expect_matches_monte_carlo(B, (VectorXd(2) << 0.6, 0.6).finished(),
                             (VectorXd(2) << 0.2, 0.3).finished(), 1);
  expect_matches_monte_carlo(B, (VectorXd(2) << 1.05, 0.2).finished(),
                             (VectorXd(2) << 0.1, 0.05).finished(), 2);
  expect_matches_monte_carlo(B, (VectorXd(2) << 0.3, 0.3).finished(),
                             (VectorXd(2) << 0.5, 0.5).finished(), 3);
}

TEST(Ehvi, MatchesMonteCarloThreeObjectives) {
  const BoxDecomposition B = non_dominated_boxes(front_3d(12, 5), VectorXd::Zero(3));
  expect_matches_monte_carlo(B, VectorXd::Constant(3, 0.6), VectorXd::Constant(3, 0.2), 4);
  expect_matches_monte_carlo(B, (VectorXd(3) << 0.9, 0.3, 0.4).finished(),
                             (VectorXd(3) << 0.1, 0.3, 0.05).finished(), 5);
  expect_matches_monte_carlo(B, VectorXd::Constant(3, 0.2), VectorXd::Constant(3, 0.6), 6);
  // Reference point below zero: boxes reach negative outcomes too.
  const BoxDecomposition C = non_dominated_boxes(front_3d(12, 5), VectorXd::Constant(3, -0.3));
  expect_matches_monte_carlo(C, VectorXd::Constant(3, 0.3), VectorXd::Constant(3, 0.4), 7);
}

TEST(Ehvi, OneBoxClosedForm) {
  const VectorXd lower = (VectorXd(2) << 0.1, -0.5).finished();
  const VectorXd upper = (VectorXd(2) << 0.9, std::numeric_limits<double>::infinity()).finished();
  const BoxDecomposition B = one_box(lower, upper);
  for (const auto& [m0, m1, s0, s1] : std::vector<std::array<double, 4>>{
           {0.5, 0.0, 0.3, 0.7}, {2.0, -1.0, 0.5, 0.2}, {-1.0, 3.0, 1.5, 0.1}}) {
    const VectorXd mu = (VectorXd(2) << m0, m1).finished();
    const VectorXd sigma = (VectorXd(2) << s0, s1).finished();
    const double expected =
        interval_expectation(m0, s0, 0.1, 0.9) * interval_expectation(m1, s1, -0.5, upper(1));
    EXPECT_NEAR(log_ehvi(B, mu, sigma), std::log(expected), kClosedFormTol);
  }
}

TEST(Ehvi, EmptyFrontIsProductOfExpectedExcess) {
  const VectorXd ref = (VectorXd(3) << 0.0, -1.0, 2.0).finished();
  const BoxDecomposition B = non_dominated_boxes(MatrixXd(0, 3), ref);
  const VectorXd mu = (VectorXd(3) << 0.5, -2.0, 2.0).finished();
  const VectorXd sigma = (VectorXd(3) << 1.0, 0.5, 0.2).finished();
  double expected = 1.0;
  for (Index j = 0; j < 3; ++j) expected *= sigma(j) * h((mu(j) - ref(j)) / sigma(j));
  EXPECT_NEAR(log_ehvi(B, mu, sigma), std::log(expected), kClosedFormTol);
}

/// log of s * integral over [l, u] of Phi((mu - t) / s) dt by composite Simpson, scaled by the
/// largest integrand value so that it works where Phi itself is ~1e-200.
double log_interval_by_quadrature(double mu, double s, double l, double u) {
  const int panels = 20000;
  const auto log_cdf = [&](double t) { return std::log(normal_cdf((mu - t) / s)); };
  const double top = log_cdf(l);  // the integrand decreases in t
  const double step = (u - l) / panels;
  double sum = 0.0;
  for (int i = 0; i <= panels; ++i) {
    const double w = (i == 0 || i == panels) ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0);
    sum += w * std::exp(log_cdf(l + i * step) - top);
  }
  return top + std::log(sum * step / 3.0);
}

TEST(Ehvi, NarrowAndWideIntervalsMatchQuadrature) {
  // Widths from far below the narrow-interval switch to far above it, from the bulk to 30
  // standard deviations into the tail.
  for (double z_mid : {5.0, 4.0, 3.5, 3.0, 2.0, 1.0, 0.0, -3.0, -10.0, -30.0}) {
    for (double width : {1e-9, 1e-6, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0}) {
      const double s = 0.7, l = 1.0, u = l + width * s;
      const double mu = 0.5 * (l + u) + z_mid * s;
      const BoxDecomposition B = one_box(VectorXd::Constant(1, l), VectorXd::Constant(1, u));
      EXPECT_NEAR(log_ehvi(B, VectorXd::Constant(1, mu), VectorXd::Constant(1, s)),
                  log_interval_by_quadrature(mu, s, l, u), kQuadratureTol)
          << "z_mid " << z_mid << " width " << width;
    }
  }
}

/// Central finite differences of log_ehvi in mu and sigma vs the analytic gradient.
void expect_gradient(const LogEhvi& f, const VectorXd& mu, const VectorXd& sigma) {
  VectorXd dmu, dsigma;
  const double v = f.value(mu, sigma, &dmu, &dsigma);
  ASSERT_TRUE(std::isfinite(v));
  for (Index j = 0; j < mu.size(); ++j) {
    const double hm = 1e-6 * (1.0 + std::abs(mu(j)));
    VectorXd a = mu, b = mu;
    a(j) += hm;
    b(j) -= hm;
    const double fd_mu = (f.value(a, sigma) - f.value(b, sigma)) / (2.0 * hm);
    EXPECT_NEAR(dmu(j), fd_mu, kGradTol * std::max(1.0, std::abs(fd_mu)))
        << "d/dmu_" << j << " at mu " << mu.transpose() << " sigma " << sigma.transpose();
    const double hs = 1e-6 * sigma(j);
    VectorXd c = sigma, d = sigma;
    c(j) += hs;
    d(j) -= hs;
    const double fd_sigma = (f.value(mu, c) - f.value(mu, d)) / (2.0 * hs);
    EXPECT_NEAR(dsigma(j), fd_sigma, kGradTol * std::max(1.0, std::abs(fd_sigma)))
        << "d/dsigma_" << j << " at mu " << mu.transpose() << " sigma " << sigma.transpose();
  }
}

TEST(Ehvi, GradientMatchesFiniteDifferences) {
  const LogEhvi f2(non_dominated_boxes(front_2d(), VectorXd::Zero(2)));
  expect_gradient(f2, (VectorXd(2) << 0.6, 0.6).finished(), (VectorXd(2) << 0.2, 0.3).finished());
  expect_gradient(f2, (VectorXd(2) << 1.3, -0.2).finished(), (VectorXd(2) << 0.1, 0.4).finished());
  expect_gradient(f2, VectorXd::Constant(2, -3.0), VectorXd::Constant(2, 0.2));  // z ~ -15
  const LogEhvi f3(non_dominated_boxes(front_3d(15, 9), VectorXd::Zero(3)));
  expect_gradient(f3, VectorXd::Constant(3, 0.6), VectorXd::Constant(3, 0.2));
  expect_gradient(f3, (VectorXd(3) << 0.1, 0.9, 0.2).finished(),
                  (VectorXd(3) << 0.05, 0.3, 0.1).finished());
  expect_gradient(f3, VectorXd::Constant(3, -2.0), VectorXd::Constant(3, 0.1));  // z ~ -20
  // Narrow intervals (the midpoint branch) in the bulk and in the tail.
  const LogEhvi narrow(
      one_box((VectorXd(2) << 0.0, 0.0).finished(), (VectorXd(2) << 1e-4, 1e-7).finished()));
  expect_gradient(narrow, VectorXd::Constant(2, 0.3), VectorXd::Constant(2, 0.5));
  expect_gradient(narrow, VectorXd::Constant(2, -8.0), VectorXd::Constant(2, 0.5));
}

TEST(Ehvi, FarTailIsFiniteAndMonotone) {
  const LogEhvi f(non_dominated_boxes(front_3d(20, 3), VectorXd::Zero(3)));
  double previous = std::numeric_limits<double>::infinity();
  for (double below : {50.0, 60.0, 100.0, 300.0, 1e3, 1e4, 1e6}) {
    const VectorXd mu = VectorXd::Constant(3, -below);  // `below` sigmas under the reference
    VectorXd dmu, dsigma;
    const double v = f.value(mu, VectorXd::Ones(3), &dmu, &dsigma);
    EXPECT_TRUE(std::isfinite(v)) << below;
    EXPECT_TRUE(dmu.allFinite() && dsigma.allFinite()) << below;
    EXPECT_TRUE((dmu.array() > 0.0).all()) << below;
    EXPECT_LT(v, previous) << below;
    previous = v;
  }
  // Along one coordinate only, deep into the tail of the first objective.
  previous = std::numeric_limits<double>::infinity();
  for (double below : {50.0, 51.0, 80.0, 500.0}) {
    const VectorXd mu = (VectorXd(3) << -below, 0.5, 0.5).finished();
    const double v = f.value(mu, VectorXd::Constant(3, 1.0));
    EXPECT_TRUE(std::isfinite(v));
    EXPECT_LT(v, previous);
    previous = v;
  }
}

TEST(Ehvi, TinySigmaIsFiniteAndDeterministicInTheLimit) {
  const BoxDecomposition B = non_dominated_boxes(front_2d(), VectorXd::Zero(2));
  const LogEhvi f(B);
  const VectorXd improving = (VectorXd(2) << 0.8, 0.7).finished();
  for (double s : {1e-10, 1e-13, 0.0}) {
    VectorXd dmu, dsigma;
    const double v = f.value(improving, VectorXd::Constant(2, s), &dmu, &dsigma);
    EXPECT_NEAR(v, std::log(hypervolume_improvement(B, improving)), 1e-6) << s;
    if (s < kMinEhviSigma) {
      EXPECT_TRUE((dsigma.array() == 0.0).all());
    }
  }
  const VectorXd dominated = (VectorXd(2) << 0.3, 0.3).finished();
  const double v = f.value(dominated, VectorXd::Constant(2, 1e-10));
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_LT(v, -1e12);
}

TEST(Ehvi, BatchedValuesMatchSingleCalls) {
  const LogEhvi f(non_dominated_boxes(front_3d(30, 4), VectorXd::Zero(3)));
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  MatrixXd mu(50, 3), sigma(50, 3);
  for (Index i = 0; i < mu.rows(); ++i) {
    for (Index j = 0; j < 3; ++j) {
      mu(i, j) = 1.5 * unif(rng) - 0.2;
      sigma(i, j) = 0.01 + 0.5 * unif(rng);
    }
  }
  const VectorXd batch = f.values(mu, sigma);
  for (Index i = 0; i < mu.rows(); ++i) {
    EXPECT_EQ(batch(i), f.value(mu.row(i).transpose(), sigma.row(i).transpose()));
  }
}

TEST(Ehvi, RejectsMalformedInput) {
  BoxDecomposition none;
  none.lower.resize(0, 2);
  none.upper.resize(0, 2);
  EXPECT_THROW(LogEhvi{none}, InvalidArgument);
  const BoxDecomposition empty = one_box(VectorXd::Ones(2), VectorXd::Ones(2));
  EXPECT_THROW(LogEhvi{empty}, InvalidArgument);
  BoxDecomposition bad = one_box(VectorXd::Zero(2), VectorXd::Ones(2));
  bad.lower(0, 0) = -std::numeric_limits<double>::infinity();
  EXPECT_THROW(LogEhvi{bad}, InvalidArgument);
  const LogEhvi f(one_box(VectorXd::Zero(2), VectorXd::Ones(2)));
  EXPECT_THROW(f.value(VectorXd::Zero(3), VectorXd::Ones(3)), InvalidArgument);
  EXPECT_THROW(f.values(MatrixXd::Zero(4, 2), MatrixXd::Ones(3, 2)), InvalidArgument);
}

}  // namespace
}  // namespace gpbo
