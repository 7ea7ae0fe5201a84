// Leave-one-out residuals and outlier detection (model/outliers.hpp) against direct
// computations, and the Study's use of them (StudyOptions::robust).
#include "model/outliers.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "backend/kernel_function.hpp"
#include "gpbo/error.hpp"
#include "gpbo/study.hpp"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using gpbo::GaussianProcess;

/// Agreement of the closed form with a direct solve of each leave-one-out system.
constexpr double kLooTol = 1e-8;

struct Data {
  MatrixXd X;
  VectorXd y;
};

/// A smooth function of two inputs at n uniform points, with a little noise.
Data smooth_data(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.01);
  Data d{MatrixXd(n, 2), VectorXd(n)};
  for (int i = 0; i < n; ++i) {
    d.X(i, 0) = u(rng);
    d.X(i, 1) = u(rng);
    d.y(i) = std::sin(3.0 * d.X(i, 0)) + std::cos(2.0 * d.X(i, 1)) + noise(rng);
  }
  return d;
}

/// Standardized leave-one-out residuals by n separate solves, in the GP's standardized units.
VectorXd direct_loo(const GaussianProcess& gp, const MatrixXd& X, const VectorXd& y,
                    const std::vector<bool>& removed) {
  const gpbo::GpHyperparameters& h = gp.hyperparameters();
  const MatrixXd K = gpbo::kernel_from_sqdist(gp.options().kernel, h.outputscale,
                                              gpbo::scaled_sqdist(X, X, h.lengthscales));
  const VectorXd z = ((y.array() - gp.y_mean()) / gp.y_scale() - h.mean).matrix();
  VectorXd r = VectorXd::Zero(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    if (removed[i]) continue;
    std::vector<Eigen::Index> keep;
    for (Eigen::Index j = 0; j < X.rows(); ++j)
      if (j != i && !removed[j]) keep.push_back(j);
    const Eigen::Index m = static_cast<Eigen::Index>(keep.size());
    MatrixXd A(m, m);
    VectorXd k(m), zk(m);
    for (Eigen::Index a = 0; a < m; ++a) {
      for (Eigen::Index b = 0; b < m; ++b) A(a, b) = K(keep[a], keep[b]);
      A(a, a) += h.noise;
      k(a) = K(keep[a], i);
      zk(a) = z(keep[a]);
    }
    const Eigen::LLT<MatrixXd> llt(A);
    const double mu = k.dot(llt.solve(zk));
    const double s2 = K(i, i) + h.noise - k.dot(llt.solve(k));
    r(i) = (z(i) - mu) / std::sqrt(s2);
  }
  return r;
}

TEST(Outliers, LooResidualsMatchDirectSolves) {
  const Data d = smooth_data(25, 1);
  GaussianProcess gp({}, gpbo::Device::cpu());
  gp.fit(d.X, d.y, 3);
  const VectorXd fast = gpbo::loo_residuals(gp, d.X, d.y);
  const VectorXd direct = direct_loo(gp, d.X, d.y, std::vector<bool>(25, false));
  ASSERT_EQ(fast.size(), 25);
  for (int i = 0; i < 25; ++i) EXPECT_NEAR(fast(i), direct(i), kLooTol) << "point " << i;
}

TEST(Outliers, CleanDataHasNone) {
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const Data d = smooth_data(40, seed);
    GaussianProcess gp({}, gpbo::Device::cpu());
    gp.fit(d.X, d.y, seed);
    EXPECT_TRUE(gpbo::find_outliers(gp, d.X, d.y).empty()) << "seed " << seed;
  }
}

TEST(Outliers, FindsCorruptedPointsBothWays) {
  Data d = smooth_data(40, 7);
  d.y(5) += 50.0;   // too good (the GP maximizes nothing here: both signs count)
  d.y(22) -= 50.0;  // too bad
  GaussianProcess gp({}, gpbo::Device::cpu());
  gp.fit(d.X, d.y, 7);
  const std::vector<Eigen::Index> flagged = gpbo::find_outliers(gp, d.X, d.y);
  EXPECT_EQ(flagged, (std::vector<Eigen::Index>{5, 22}));
}

TEST(Outliers, GreedyDowndateMatchesRefactoring) {
  // After each removal the others' residuals come from the downdated inverse; the greedy search
  // done with a fresh solve per point must flag the same points.
  // Hyperparameters of the clean data, so that no outlier masks another.
  Data d = smooth_data(30, 3);
  GaussianProcess clean({}, gpbo::Device::cpu());
  clean.fit(d.X, d.y, 3);
  d.y(4) += 3.0;
  d.y(9) += 2.0;
  d.y(17) -= 1.0;
  GaussianProcess gp({}, gpbo::Device::cpu());
  gp.condition(d.X, d.y, clean.hyperparameters());
  const double bound = 3.7431;  // Phi^-1(1 - 0.01 / 60), the rule's bound at n = 30
  std::vector<bool> removed(30, false);
  std::vector<Eigen::Index> expected;
  for (int step = 0; step < 6; ++step) {  // max_fraction 0.2 of 30
    const VectorXd r = direct_loo(gp, d.X, d.y, removed);
    Eigen::Index worst = -1;
    for (int i = 0; i < 30; ++i)
      if (!removed[i] && (worst < 0 || std::abs(r(i)) > std::abs(r(worst)))) worst = i;
    if (std::abs(r(worst)) <= bound) break;
    removed[worst] = true;
    expected.push_back(worst);
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_GE(expected.size(), 2u) << "the case must exercise the downdate";
  EXPECT_EQ(expected.front(), 4);
  gpbo::OutlierRule residual_only;  // the downdate itself, without the gap rule
  residual_only.min_gap = 0.0;
  EXPECT_EQ(gpbo::find_outliers(gp, d.X, d.y, residual_only), expected);
}

TEST(Outliers, ASmallGapIsNotAnOutlier) {
  // A bump of 0.2 (the values spread about 0.5) where the clean fit expects noise of about
  // 0.01: a huge standardized residual, but a gap far below 3 robust standard deviations.
  Data d = smooth_data(30, 4);
  GaussianProcess clean({}, gpbo::Device::cpu());
  clean.fit(d.X, d.y, 4);
  d.y(7) += 0.2;
  GaussianProcess gp({}, gpbo::Device::cpu());
  gp.condition(d.X, d.y, clean.hyperparameters());
  ASSERT_GT(std::abs(gpbo::loo_residuals(gp, d.X, d.y)(7)), 6.0);
  EXPECT_TRUE(gpbo::find_outliers(gp, d.X, d.y).empty());
  gpbo::OutlierRule residual_only;
  residual_only.min_gap = 0.0;
  EXPECT_EQ(gpbo::find_outliers(gp, d.X, d.y, residual_only), (std::vector<Eigen::Index>{7}));
}

TEST(Outliers, APlateauKeepsItsBumpAndLosesItsCorruptedPoint) {
  // Two thirds of the values sit on one plateau (their MAD is 0); the rest form a smooth bump.
  // The bump is data, not outliers; a value 100 above everything is one.
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Data d{MatrixXd(45, 2), VectorXd(45)};
  for (int i = 0; i < 45; ++i) {
    d.X(i, 0) = i < 30 ? 0.5 * u(rng) : 0.5 + 0.5 * u(rng);
    d.X(i, 1) = u(rng);
    d.y(i) = i < 30 ? 0.0 : std::sin(3.1 * (d.X(i, 0) - 0.5)) * (1.0 + d.X(i, 1));
  }
  // An overconfident model (almost no noise): the bump's points have large standardized
  // residuals, but gaps below 2 mean absolute deviations.
  gpbo::GpHyperparameters sure;
  sure.lengthscales = VectorXd::Constant(2, 1.0);
  sure.outputscale = 1.0;
  sure.noise = 1e-6;
  GaussianProcess gp({}, gpbo::Device::cpu());
  gp.condition(d.X, d.y, sure);
  ASSERT_GT(gpbo::loo_residuals(gp, d.X, d.y).tail(15).cwiseAbs().maxCoeff(), 5.0);
  EXPECT_TRUE(gpbo::find_outliers(gp, d.X, d.y).empty());
  d.y(40) = 100.0;
  gp.fit(d.X, d.y, 9);
  EXPECT_EQ(gpbo::find_outliers(gp, d.X, d.y), (std::vector<Eigen::Index>{40}));
  // All values equal: nothing to find.
  const VectorXd flat = VectorXd::Constant(45, 2.5);
  gp.fit(d.X, flat, 9);
  EXPECT_TRUE(gpbo::find_outliers(gp, d.X, flat).empty());
}

TEST(Outliers, NeverMoreThanTheShare) {
  Data d = smooth_data(20, 11);
  for (int i = 0; i < 10; ++i) d.y(2 * i) += 100.0 * (i + 1);
  GaussianProcess gp({}, gpbo::Device::cpu());
  gp.fit(d.X, d.y, 11);
  gpbo::OutlierRule rule;
  rule.max_fraction = 0.2;
  EXPECT_LE(gpbo::find_outliers(gp, d.X, d.y, rule).size(), 4u);
  EXPECT_THROW(gpbo::loo_residuals(GaussianProcess({}, gpbo::Device::cpu()), d.X, d.y),
               gpbo::InvalidArgument);
}

/// A study on a smooth 2-D function, one trial told 1000 times too good.
std::vector<std::int64_t> study_outliers(gpbo::RobustMode mode, std::int64_t* corrupted) {
  gpbo::Space space;
  space.add_float("a", 0.0, 1.0);
  space.add_float("b", 0.0, 1.0);
  gpbo::StudyOptions o;
  o.seed = 5;
  o.robust = mode;
  o.device = gpbo::Device::cpu();
  gpbo::Study study(space, o);
  const auto f = [](const gpbo::Params& p) {
    const double a = std::get<double>(p.at("a")), b = std::get<double>(p.at("b"));
    return (a - 0.3) * (a - 0.3) + (b - 0.6) * (b - 0.6);
  };
  for (int i = 0; i < 20; ++i) {
    const gpbo::Trial& t = study.ask();
    study.tell(t.id, i == 12 ? f(t.params) - 1000.0 : f(t.params));
  }
  *corrupted = 12;
  study.ask();
  return study.outliers();
}

TEST(Outliers, StudyLeavesOutAndListsAHugeValue) {
  std::int64_t corrupted = -1;
  const std::vector<std::int64_t> found = study_outliers(gpbo::RobustMode::kAuto, &corrupted);
  EXPECT_EQ(found, (std::vector<std::int64_t>{corrupted}));
  EXPECT_TRUE(study_outliers(gpbo::RobustMode::kOff, &corrupted).empty());
}

}  // namespace
