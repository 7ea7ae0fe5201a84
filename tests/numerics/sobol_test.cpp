// Tests of the digitally shifted Sobol sampler (src/numerics/sobol.hpp).
//
// Boost's sobol engine is seeded at construction with seed(), which already advances to the
// point of index 1: the all-zero point of index 0 is never returned, so draw(n) yields the points
// of indices 1, 2, ..., n. The net property (one point per elementary interval) holds for aligned
// blocks of indices {m 2^k, ..., (m + 1) 2^k - 1}; the tests below use such blocks, e.g. after
// discarding the first 2^k - 1 draws. A digital shift (XOR with a constant) permutes elementary
// intervals, so it keeps the property.
#include "numerics/sobol.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <set>
#include <vector>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

// Bin index of v in [0, 1) among `bins` equal bins.
int bin_of(double v, int bins) { return static_cast<int>(std::floor(v * bins)); }

TEST(SobolTest, PointsLieInHalfOpenUnitCube) {
  for (int d : {1, 2, 5, 17, 100}) {
    SobolSampler s(d, 42);
    EXPECT_EQ(s.dim(), d);
    const Eigen::MatrixXd X = s.draw(2048);
    ASSERT_EQ(X.rows(), 2048);
    ASSERT_EQ(X.cols(), d);
    EXPECT_TRUE(X.allFinite());
    EXPECT_GE(X.minCoeff(), 0.0) << "d = " << d;
    EXPECT_LT(X.maxCoeff(), 1.0) << "d = " << d;
  }
}

TEST(SobolTest, DrawZeroRowsIsEmpty) {
  SobolSampler s(3, 1);
  const Eigen::MatrixXd X = s.draw(0);
  EXPECT_EQ(X.rows(), 0);
  EXPECT_EQ(X.cols(), 3);
}

TEST(SobolTest, SameSeedGivesIdenticalPoints) {
  SobolSampler a(6, 123), b(6, 123);
  const Eigen::MatrixXd A = a.draw(300);
  const Eigen::MatrixXd B = b.draw(300);
  EXPECT_EQ(A, B);  // bitwise identical
}

TEST(SobolTest, DrawsContinueTheSequence) {
  // draw(a) then draw(b) gives the same points as one draw(a + b).
  SobolSampler a(4, 9), b(4, 9);
  const Eigen::MatrixXd all = a.draw(50);
  const Eigen::MatrixXd first = b.draw(20);
  const Eigen::MatrixXd rest = b.draw(30);
  EXPECT_EQ(all.topRows(20), first);
  EXPECT_EQ(all.bottomRows(30), rest);
}

TEST(SobolTest, DifferentSeedsGiveDifferentPoints) {
  SobolSampler a(3, 1), b(3, 2);
  const Eigen::MatrixXd A = a.draw(64);
  const Eigen::MatrixXd B = b.draw(64);
  // Every coordinate is shifted by a different 64-bit mask, so no point should coincide.
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    EXPECT_NE(A.row(i), B.row(i)) << "row " << i;
  }
  // And the first points differ in every coordinate.
  for (Eigen::Index j = 0; j < A.cols(); ++j) EXPECT_NE(A(0, j), B(0, j));
}

TEST(SobolTest, FirstDrawsAreDistinctInEveryOneDimensionalProjection) {
  // Indices 1 .. 2^k - 1 belong to the aligned block {0, ..., 2^k - 1}: each 1-d projection puts
  // them in distinct bins of width 2^-k (only the bin of the skipped index 0 stays empty).
  constexpr int k = 8, n = 1 << k;
  for (std::uint64_t seed : {0ULL, 7ULL, 2024ULL}) {
    SobolSampler s(5, seed);
    const Eigen::MatrixXd X = s.draw(n - 1);
    for (int j = 0; j < X.cols(); ++j) {
      std::set<int> bins;
      for (Eigen::Index i = 0; i < X.rows(); ++i) bins.insert(bin_of(X(i, j), n));
      EXPECT_EQ(static_cast<int>(bins.size()), n - 1) << "seed " << seed << ", dim " << j;
    }
  }
}

TEST(SobolTest, AlignedBlockHasOnePointPerBinInEveryOneDimensionalProjection) {
  // Skip indices 1 .. 2^k - 1; the next 2^k draws are the aligned block {2^k, ..., 2^(k+1) - 1}.
  constexpr int k = 9, n = 1 << k;
  for (int d : {1, 3, 10}) {
    SobolSampler s(d, 11 + d);
    s.draw(n - 1);
    const Eigen::MatrixXd X = s.draw(n);
    for (int j = 0; j < d; ++j) {
      std::vector<int> count(n, 0);
      for (Eigen::Index i = 0; i < X.rows(); ++i) ++count[bin_of(X(i, j), n)];
      for (int b = 0; b < n; ++b) {
        ASSERT_EQ(count[b], 1) << "d = " << d << ", dim " << j << ", bin " << b;
      }
    }
  }
}

TEST(SobolTest, FirstTwoDimensionsFormAZeroQualityNet) {
  // The first two Sobol dimensions form a (0, m, 2)-net: an aligned block of 1024 points puts
  // exactly one point in each cell of a 32 x 32 grid (and of a 4 x 256 grid).
  constexpr int n = 1024;
  SobolSampler s(2, 5);
  s.draw(n - 1);
  const Eigen::MatrixXd X = s.draw(n);
  for (const auto& [bx, by] : std::vector<std::pair<int, int>>{{32, 32}, {4, 256}, {1024, 1}}) {
    std::vector<int> count(bx * by, 0);
    for (Eigen::Index i = 0; i < n; ++i) ++count[bin_of(X(i, 0), bx) * by + bin_of(X(i, 1), by)];
    for (int c = 0; c < bx * by; ++c) {
      ASSERT_EQ(count[c], 1) << bx << " x " << by << " grid, cell " << c;
    }
  }
}

TEST(SobolTest, LowDiscrepancyBeatsRandomOnAMeanEstimate) {
  // Sanity check of low discrepancy: the mean of a smooth function over [0, 1]^4 is estimated to
  // much better than Monte Carlo accuracy (~1/sqrt(n) ~ 0.01 here) from 1023 points.
  SobolSampler s(4, 77);
  const Eigen::MatrixXd X = s.draw(1023);
  double sum = 0.0;
  for (Eigen::Index i = 0; i < X.rows(); ++i) sum += X.row(i).squaredNorm();
  const double estimate = sum / static_cast<double>(X.rows());
  EXPECT_NEAR(estimate, 4.0 / 3.0, 2e-3);
}

TEST(SobolTest, RejectsBadDimensions) {
  EXPECT_THROW(SobolSampler(0, 0), InvalidArgument);
  EXPECT_THROW(SobolSampler(-1, 0), InvalidArgument);
  EXPECT_THROW(SobolSampler(3668, 0), InvalidArgument);
  EXPECT_THROW(SobolSampler(100000, 0), InvalidArgument);
}

TEST(SobolTest, AcceptsTheLargestSupportedDimension) {
  SobolSampler s(3667, 3);
  const Eigen::MatrixXd X = s.draw(4);
  EXPECT_EQ(X.cols(), 3667);
  EXPECT_GE(X.minCoeff(), 0.0);
  EXPECT_LT(X.maxCoeff(), 1.0);
}

}  // namespace
}  // namespace gpbo
