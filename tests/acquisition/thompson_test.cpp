// Thompson sampling (src/acquisition/thompson.hpp): draw_joint_posterior against the exact
// posterior mean and covariance of a conditioned GP, and thompson_select's choices (distinct,
// never a taken row, each the argmax of its own draw among the free rows).
#include "acquisition/thompson.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "backend/backend.hpp"
#include "gpbo/device.hpp"
#include "gpbo/gp.hpp"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using gpbo::Device;
using gpbo::GaussianProcess;
using gpbo::GpHyperparameters;

/// Sample moments vs exact ones: within this many Monte-Carlo standard errors. With 5 means and
/// 15 covariance entries checked, a 5-sigma miss of a correct sampler has probability ~1e-5.
constexpr double kStdErrors = 5.0;
/// Draws for the moment test.
constexpr int kMomentDraws = 200000;

/// A 1-d GP conditioned with fixed hyperparameters on three points.
GaussianProcess conditioned_1d(double noise) {
  GaussianProcess gp(gpbo::GpOptions{}, Device::cpu());
  MatrixXd X(3, 1);
  X << 0.1, 0.4, 0.9;
  VectorXd y(3);
  y << 0.3, -1.0, 0.8;
  GpHyperparameters h;
  h.lengthscales = VectorXd::Constant(1, 0.3);
  h.outputscale = 1.0;
  h.noise = noise;
  h.mean = 0.0;
  gp.condition(X, y, h);
  return gp;
}

/// Five candidates between and beyond the data: correlated neighbours, unequal variances.
MatrixXd five_candidates() {
  MatrixXd C(5, 1);
  C << 0.0, 0.25, 0.55, 0.7, 1.0;
  return C;
}

TEST(ThompsonTest, JointDrawsHaveThePosteriorMeanAndCovariance) {
  const GaussianProcess gp = conditioned_1d(1e-3);
  const MatrixXd C = five_candidates();
  VectorXd mean;
  gp.factor().predict(C, &mean, nullptr);
  const MatrixXd Sigma = gp.factor().covariance(C, C);

  std::mt19937_64 rng(20240611);
  const MatrixXd F = gpbo::draw_joint_posterior(gp.backend(), gp.factor(), C, kMomentDraws, rng);
  ASSERT_EQ(F.rows(), C.rows());
  ASSERT_EQ(F.cols(), kMomentDraws);
  ASSERT_TRUE(F.allFinite());

  const double n = kMomentDraws;
  const VectorXd sample_mean = F.rowwise().mean();
  const MatrixXd centred = F.colwise() - sample_mean;
  const MatrixXd sample_cov = centred * centred.transpose() / (n - 1.0);

  bool strongly_correlated_pair = false;
  for (Eigen::Index i = 0; i < C.rows(); ++i) {
    // Standard error of a sample mean: sd / sqrt(N).
    const double se_mean = std::sqrt(Sigma(i, i) / n);
    EXPECT_NEAR(sample_mean(i), mean(i), kStdErrors * se_mean) << "candidate " << i;
    for (Eigen::Index j = 0; j < C.rows(); ++j) {
      // Standard error of a Gaussian sample covariance: sqrt((S_ii S_jj + S_ij^2) / N).
      const double se_cov = std::sqrt((Sigma(i, i) * Sigma(j, j) + Sigma(i, j) * Sigma(i, j)) / n);
      EXPECT_NEAR(sample_cov(i, j), Sigma(i, j), kStdErrors * se_cov)
          << "entry (" << i << ", " << j << ")";
      if (i != j && std::abs(Sigma(i, j)) > 20.0 * se_cov) strongly_correlated_pair = true;
    }
  }
  // The check has teeth: independent marginals would miss some off-diagonal entry by far more
  // than the tolerance.
  EXPECT_TRUE(strongly_correlated_pair);
}

TEST(ThompsonTest, SameSeedGivesTheSameDraws) {
  const GaussianProcess gp = conditioned_1d(1e-3);
  const MatrixXd C = five_candidates();
  std::mt19937_64 a(5), b(5), c(6);
  const MatrixXd Fa = gpbo::draw_joint_posterior(gp.backend(), gp.factor(), C, 16, a);
  const MatrixXd Fb = gpbo::draw_joint_posterior(gp.backend(), gp.factor(), C, 16, b);
  const MatrixXd Fc = gpbo::draw_joint_posterior(gp.backend(), gp.factor(), C, 16, c);
  EXPECT_EQ(Fa, Fb);
  EXPECT_NE(Fa, Fc);
}

/// Replays thompson_select: the same rng state gives the same q draws, and draw k must pick
/// the argmax of column k among the rows still free.
void expect_each_pick_is_the_argmax_of_its_draw(const GaussianProcess& gp, const MatrixXd& C, int q,
                                                std::vector<bool> taken, std::uint64_t seed) {
  std::mt19937_64 rng(seed), replay(seed);
  const std::vector<Eigen::Index> pick =
      gpbo::thompson_select(gp.backend(), gp.factor(), C, q, taken, rng);
  const MatrixXd F = gpbo::draw_joint_posterior(gp.backend(), gp.factor(), C, q, replay);
  int free_rows = 0;
  for (bool t : taken) free_rows += !t;
  ASSERT_EQ(static_cast<int>(pick.size()), std::min(q, free_rows)) << "seed " << seed;
  std::set<Eigen::Index> seen;
  for (std::size_t k = 0; k < pick.size(); ++k) {
    const Eigen::Index i = pick[k];
    ASSERT_GE(i, 0);
    ASSERT_LT(i, C.rows());
    EXPECT_FALSE(taken[static_cast<std::size_t>(i)]) << "draw " << k << " chose taken row " << i;
    EXPECT_TRUE(seen.insert(i).second) << "row " << i << " chosen twice";
    for (Eigen::Index r = 0; r < C.rows(); ++r) {
      if (!taken[static_cast<std::size_t>(r)]) {
        EXPECT_GE(F(i, static_cast<Eigen::Index>(k)), F(r, static_cast<Eigen::Index>(k)))
            << "draw " << k << ": row " << i << " chosen but free row " << r << " is higher";
      }
    }
    taken[static_cast<std::size_t>(i)] = true;
  }
}

TEST(ThompsonTest, SelectPicksDistinctFreeArgmaxesOfItsDraws) {
  const GaussianProcess gp = conditioned_1d(1e-3);
  MatrixXd C(21, 1);
  for (int i = 0; i < 21; ++i) C(i, 0) = i / 20.0;
  for (std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
    expect_each_pick_is_the_argmax_of_its_draw(gp, C, 6, std::vector<bool>(21, false), seed);
    // Some rows taken (as duplicates of trials would be).
    std::vector<bool> taken(21, false);
    for (int i : {0, 5, 9, 10, 11, 20}) taken[static_cast<std::size_t>(i)] = true;
    expect_each_pick_is_the_argmax_of_its_draw(gp, C, 10, taken, seed);
  }
}

TEST(ThompsonTest, SelectReturnsFewerIndicesWhenFewerRowsAreFree) {
  const GaussianProcess gp = conditioned_1d(1e-3);
  const MatrixXd C = five_candidates();
  std::mt19937_64 rng(9);
  std::vector<bool> taken = {true, false, true, true, false};
  const std::vector<Eigen::Index> pick =
      gpbo::thompson_select(gp.backend(), gp.factor(), C, 4, taken, rng);
  EXPECT_EQ(std::set<Eigen::Index>(pick.begin(), pick.end()), (std::set<Eigen::Index>{1, 4}));
  EXPECT_EQ(pick.size(), 2u);
  // Every row taken: nothing to return.
  const std::vector<Eigen::Index> none =
      gpbo::thompson_select(gp.backend(), gp.factor(), C, 3, std::vector<bool>(5, true), rng);
  EXPECT_TRUE(none.empty());
  // More draws than rows: each row once.
  expect_each_pick_is_the_argmax_of_its_draw(gp, C, 8, std::vector<bool>(5, false), 4);
}

TEST(ThompsonTest, ClearWinnerWithTinyVarianceIsChosenFirst) {
  // Candidates at the (nearly noise-free) observations: posterior sd ~1e-3 against mean gaps of
  // ~0.3 standardized units, so every draw ranks the rows like their means.
  GaussianProcess gp(gpbo::GpOptions{}, Device::cpu());
  MatrixXd X(5, 1);
  X << 0.1, 0.3, 0.5, 0.7, 0.9;
  VectorXd y(5);
  y << 1.0, 2.0, 9.0, 0.0, 3.0;  // row 2 is far above the rest
  GpHyperparameters h;
  h.lengthscales = VectorXd::Constant(1, 0.15);
  h.outputscale = 1.0;
  h.noise = 1e-6;
  gp.condition(X, y, h);
  VectorXd mean, var;
  gp.factor().predict(X, &mean, &var);
  ASSERT_GT(mean(2) - mean.maxCoeff(), -1e-12);
  ASSERT_LT(var.maxCoeff(), 1e-5);
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    std::mt19937_64 rng(seed);
    const std::vector<Eigen::Index> first =
        gpbo::thompson_select(gp.backend(), gp.factor(), X, 1, std::vector<bool>(5, false), rng);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0], 2) << "seed " << seed;
    // All five: in decreasing order of y.
    const std::vector<Eigen::Index> all =
        gpbo::thompson_select(gp.backend(), gp.factor(), X, 5, std::vector<bool>(5, false), rng);
    EXPECT_EQ(all, (std::vector<Eigen::Index>{2, 4, 1, 0, 3})) << "seed " << seed;
    // With the winner taken, the runner-up comes first.
    const std::vector<Eigen::Index> rest = gpbo::thompson_select(
        gp.backend(), gp.factor(), X, 1, std::vector<bool>{false, false, true, false, false}, rng);
    EXPECT_EQ(rest, (std::vector<Eigen::Index>{4})) << "seed " << seed;
  }
}

}  // namespace
