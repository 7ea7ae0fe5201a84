// Pareto dominance and hypervolume (src/acquisition/pareto.hpp): pareto_indices against an
// all-pairs brute force, hypervolume against a grid-cell brute force and closed forms, the boxes
// of non_dominated_boxes against probe points and hypervolume differences, and
// infer_reference_point on hand-worked fronts.
#include "acquisition/pareto.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

/// Exact-arithmetic answers computed two ways (sums of products of the same coordinates in a
/// different order): relative to max(1, |value|).
constexpr double kSumTol = 1e-12;

/// Independent dominance check (maximization).
bool brute_dominates(const VectorXd& a, const VectorXd& b) {
  return (a.array() >= b.array()).all() && (a.array() > b.array()).any();
}

/// True when some row of Y is >= z in every coordinate.
bool weakly_dominated(const MatrixXd& Y, const VectorXd& z) {
  for (Index i = 0; i < Y.rows(); ++i) {
    if ((Y.row(i).transpose().array() >= z.array()).all()) return true;
  }
  return false;
}

std::vector<Index> brute_pareto(const MatrixXd& Y) {
  std::vector<Index> out;
  for (Index i = 0; i < Y.rows(); ++i) {
    bool dominated = false;
    for (Index j = 0; j < Y.rows() && !dominated; ++j) {
      dominated = brute_dominates(Y.row(j).transpose(), Y.row(i).transpose());
    }
    if (!dominated) out.push_back(i);
  }
  return out;
}

/// Hypervolume by cells of the grid of distinct coordinates: a cell is dominated iff its upper
/// corner is weakly dominated by a row strictly above ref.
double brute_hypervolume(const MatrixXd& Y, const VectorXd& ref) {
  const Index m = Y.cols();
  std::vector<VectorXd> pts;
  for (Index i = 0; i < Y.rows(); ++i) {
    if ((Y.row(i).transpose().array() > ref.array()).all()) pts.push_back(Y.row(i).transpose());
  }
  MatrixXd P(static_cast<Index>(pts.size()), m);
  for (std::size_t i = 0; i < pts.size(); ++i) P.row(static_cast<Index>(i)) = pts[i].transpose();
  std::vector<std::vector<double>> axes(static_cast<std::size_t>(m));
  for (Index j = 0; j < m; ++j) {
    auto& a = axes[static_cast<std::size_t>(j)];
    a.push_back(ref(j));
    for (const VectorXd& p : pts) a.push_back(p(j));
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
  }
  std::vector<std::size_t> cell(static_cast<std::size_t>(m), 1);
  double volume = 0.0;
  while (true) {
    VectorXd corner(m);
    double cell_volume = 1.0;
    for (Index j = 0; j < m; ++j) {
      const auto& a = axes[static_cast<std::size_t>(j)];
      const std::size_t c = cell[static_cast<std::size_t>(j)];
      if (c >= a.size()) return volume;  // an axis with no interval: nothing above ref
      corner(j) = a[c];
      cell_volume *= a[c] - a[c - 1];
    }
    if (weakly_dominated(P, corner)) volume += cell_volume;
    Index j = 0;
    for (; j < m; ++j) {
      auto& c = cell[static_cast<std::size_t>(j)];
      if (++c < axes[static_cast<std::size_t>(j)].size()) break;
      c = 1;
    }
    if (j == m) return volume;
  }
}

/// n x m outcomes on a coarse grid (ties and duplicates likely), some rows below ref = 0.
MatrixXd grid_outcomes(Index n, Index m, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> level(-1, 5);
  MatrixXd Y(n, m);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < m; ++j) Y(i, j) = 0.5 * level(rng);
  }
  if (n >= 3) Y.row(n - 1) = Y.row(0);  // a certain duplicate
  return Y;
}

/// n x m continuous outcomes on a curved front plus noise (many Pareto rows).
MatrixXd curved_outcomes(Index n, Index m, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  MatrixXd Y(n, m);
  for (Index i = 0; i < n; ++i) {
    VectorXd v(m);
    for (Index j = 0; j < m; ++j) v(j) = std::abs(normal(rng));
    Y.row(i) = (v / v.norm() * (0.8 + 0.4 * unif(rng))).transpose();
  }
  return Y;
}

double rel_err(double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); }

TEST(Pareto, DominatesOnKnownPairs) {
  const VectorXd a = (VectorXd(3) << 1, 2, 3).finished();
  const VectorXd b = (VectorXd(3) << 1, 2, 2).finished();
  const VectorXd c = (VectorXd(3) << 0, 3, 3).finished();
  EXPECT_TRUE(dominates(a, b));
  EXPECT_FALSE(dominates(b, a));
  EXPECT_FALSE(dominates(a, a));
  EXPECT_FALSE(dominates(a, c));
  EXPECT_FALSE(dominates(c, a));
  EXPECT_THROW(dominates(a, VectorXd::Zero(2)), InvalidArgument);
  const VectorXd nan = (VectorXd(3) << std::numeric_limits<double>::quiet_NaN(), 3, 4).finished();
  EXPECT_FALSE(dominates(nan, b));
  EXPECT_FALSE(dominates(b, nan));
}

TEST(Pareto, IndicesMatchBruteForceWithTiesAndDuplicates) {
  std::mt19937_64 rng(7);
  for (Index m : {1, 2, 3}) {
    for (int rep = 0; rep < 40; ++rep) {
      const Index n = 1 + rep % 25;
      const MatrixXd Y = rep % 2 == 0 ? grid_outcomes(n, m, rng) : curved_outcomes(n, m, rng);
      EXPECT_EQ(pareto_indices(Y), brute_pareto(Y)) << "m=" << m << " rep=" << rep << "\n" << Y;
    }
  }
}

TEST(Pareto, IndicesKeepEveryCopyOfAParetoRow) {
  MatrixXd Y(5, 2);
  Y << 1, 2, 2, 1, 1, 2, 0, 0, 2, 1;
  EXPECT_EQ(pareto_indices(Y), (std::vector<Index>{0, 1, 2, 4}));
  MatrixXd one(3, 1);
  one << 2, 3, 3;
  EXPECT_EQ(pareto_indices(one), (std::vector<Index>{1, 2}));
  EXPECT_TRUE(pareto_indices(MatrixXd(0, 2)).empty());
  Y(3, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(pareto_indices(Y), InvalidArgument);
}

TEST(Hypervolume, ClosedForms) {
  const VectorXd ref = (VectorXd(3) << -1, 0, 0.5).finished();
  MatrixXd one(1, 3);
  one << 1, 2, 3;
  EXPECT_DOUBLE_EQ(hypervolume(one, ref), 2.0 * 2.0 * 2.5);
  // Two points in 2D: [0,3]x[0,1] union [0,1]x[0,2] = 3 + 2 - 1 (their overlap [0,1]x[0,1]).
  MatrixXd two(2, 2);
  two << 3, 1, 1, 2;
  EXPECT_DOUBLE_EQ(hypervolume(two, VectorXd::Zero(2)), 4.0);
  // A point on the reference plane and one below it add nothing.
  MatrixXd extra(4, 2);
  extra << 3, 1, 1, 2, 5, 0, -1, 7;
  EXPECT_DOUBLE_EQ(hypervolume(extra, VectorXd::Zero(2)), 4.0);
  EXPECT_EQ(hypervolume(MatrixXd(0, 2), VectorXd::Zero(2)), 0.0);
  MatrixXd line(3, 1);
  line << 0.5, 2.5, -4;
  EXPECT_DOUBLE_EQ(hypervolume(line, VectorXd::Constant(1, 1.0)), 1.5);
}

TEST(Hypervolume, MatchesGridBruteForce) {
  std::mt19937_64 rng(11);
  for (Index m : {1, 2, 3, 4}) {
    for (int rep = 0; rep < 30; ++rep) {
      const Index n = m == 4 ? 1 + rep % 9 : 1 + rep % 30;
      const MatrixXd Y = rep % 2 == 0 ? grid_outcomes(n, m, rng) : curved_outcomes(n, m, rng);
      const VectorXd ref = rep % 2 == 0 ? VectorXd::Zero(m) : VectorXd::Constant(m, 0.1);
      EXPECT_LT(rel_err(hypervolume(Y, ref), brute_hypervolume(Y, ref)), kSumTol)
          << "m=" << m << " rep=" << rep;
    }
  }
}

TEST(Hypervolume, FiveObjectives) {
  std::mt19937_64 rng(5);
  for (int rep = 0; rep < 5; ++rep) {
    const MatrixXd Y = curved_outcomes(8, 5, rng);
    const VectorXd ref = VectorXd::Zero(5);
    EXPECT_LT(rel_err(hypervolume(Y, ref), brute_hypervolume(Y, ref)), kSumTol);
  }
}

TEST(Hypervolume, RejectsMalformedInput) {
  MatrixXd Y(2, 2);
  Y << 1, 2, 2, 1;
  EXPECT_THROW(hypervolume(Y, VectorXd::Zero(3)), InvalidArgument);
  EXPECT_THROW(hypervolume(MatrixXd(0, 0), VectorXd(0)), InvalidArgument);
  Y(0, 0) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(hypervolume(Y, VectorXd::Zero(2)), InvalidArgument);
  EXPECT_THROW(non_dominated_boxes(Y, VectorXd::Zero(2)), InvalidArgument);
}

/// Overlap of the interiors of boxes a and b.
bool interiors_overlap(const BoxDecomposition& B, Index a, Index b) {
  for (Index j = 0; j < B.lower.cols(); ++j) {
    const double lo = std::max(B.lower(a, j), B.lower(b, j));
    const double hi = std::min(B.upper(a, j), B.upper(b, j));
    if (!(hi > lo)) return false;
  }
  return true;
}

void check_boxes(const MatrixXd& Y, const VectorXd& ref, std::mt19937_64& rng) {
  const Index m = Y.cols();
  const BoxDecomposition B = non_dominated_boxes(Y, ref);
  ASSERT_EQ(B.lower.cols(), m);
  ASSERT_EQ(B.upper.rows(), B.lower.rows());
  ASSERT_GE(B.lower.rows(), 1);
  ASSERT_TRUE(B.lower.allFinite());
  for (Index a = 0; a < B.lower.rows(); ++a) {
    ASSERT_TRUE((B.upper.row(a).array() > B.lower.row(a).array()).all()) << "empty box " << a;
    ASSERT_TRUE((B.lower.row(a).transpose().array() >= ref.array()).all());
    for (Index b = a + 1; b < B.lower.rows(); ++b) {
      ASSERT_FALSE(interiors_overlap(B, a, b)) << "boxes " << a << " and " << b;
    }
  }
  // Probes off the coordinate grid of Y (continuous draws never hit a box face).
  const double top = Y.rows() > 0 ? Y.maxCoeff() + 1.0 : 1.0;
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  for (int s = 0; s < 400; ++s) {
    VectorXd z(m);
    for (Index j = 0; j < m; ++j) z(j) = ref(j) + (top - ref(j)) * unif(rng);
    int inside = 0;
    for (Index b = 0; b < B.lower.rows(); ++b) {
      if ((B.lower.row(b).transpose().array() <= z.array()).all() &&
          (z.array() <= B.upper.row(b).transpose().array()).all()) {
        ++inside;
      }
    }
    EXPECT_EQ(inside, weakly_dominated(Y, z) ? 0 : 1) << "probe " << z.transpose();
  }
  // Improvement of random outcomes, and of one that dominates everything.
  const double base = hypervolume(Y, ref);
  for (int s = 0; s < 60; ++s) {
    VectorXd y(m);
    for (Index j = 0; j < m; ++j) y(j) = ref(j) - 0.3 + (top - ref(j) + 0.3) * unif(rng);
    if (s == 0) y = VectorXd::Constant(m, top + 1.0);
    MatrixXd Yy(Y.rows() + 1, m);
    Yy << Y, y.transpose();
    EXPECT_LT(rel_err(hypervolume_improvement(B, y), hypervolume(Yy, ref) - base), kSumTol)
        << "y = " << y.transpose();
  }
}

TEST(Hypervolume, NonDominatedBoxesPartitionTheComplement) {
  std::mt19937_64 rng(23);
  for (Index m : {1, 2, 3}) {
    for (int rep = 0; rep < 16; ++rep) {
      const Index n = rep % 20;
      const MatrixXd Y = rep % 2 == 0 ? grid_outcomes(n, m, rng) : curved_outcomes(n, m, rng);
      const VectorXd ref = rep % 2 == 0 ? VectorXd::Zero(m) : VectorXd::Constant(m, 0.1);
      SCOPED_TRACE(testing::Message() << "m=" << m << " rep=" << rep);
      check_boxes(Y, ref, rng);
    }
  }
  for (int rep = 0; rep < 3; ++rep) {
    SCOPED_TRACE(testing::Message() << "m=4 rep=" << rep);
    check_boxes(grid_outcomes(7, 4, rng), VectorXd::Zero(4), rng);
  }
}

TEST(Hypervolume, TwoObjectiveBoxesAreTheStaircase) {
  std::mt19937_64 rng(3);
  for (int rep = 0; rep < 20; ++rep) {
    const MatrixXd Y = rep % 2 == 0 ? grid_outcomes(15, 2, rng) : curved_outcomes(15, 2, rng);
    const VectorXd ref = VectorXd::Constant(2, 0.1);
    // Distinct Pareto rows strictly above ref.
    std::vector<Index> above;
    for (Index i = 0; i < Y.rows(); ++i) {
      if ((Y.row(i).transpose().array() > ref.array()).all()) above.push_back(i);
    }
    MatrixXd A(static_cast<Index>(above.size()), 2);
    for (std::size_t i = 0; i < above.size(); ++i) A.row(static_cast<Index>(i)) = Y.row(above[i]);
    std::vector<std::vector<double>> distinct;
    for (Index i : pareto_indices(A)) distinct.push_back({A(i, 0), A(i, 1)});
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    EXPECT_EQ(non_dominated_boxes(Y, ref).lower.rows(), static_cast<Index>(distinct.size()) + 1);
  }
}

TEST(Hypervolume, EmptyFrontIsOneUnboundedBox) {
  const VectorXd ref = (VectorXd(3) << 0, 1, 2).finished();
  MatrixXd below(1, 3);
  below << 5, 5, 1;
  for (const MatrixXd& Y : {MatrixXd(0, 3), below}) {
    const BoxDecomposition B = non_dominated_boxes(Y, ref);
    ASSERT_EQ(B.lower.rows(), 1);
    EXPECT_EQ(VectorXd(B.lower.row(0).transpose()), ref);
    EXPECT_TRUE(B.upper.array().isInf().all());
  }
}

TEST(Hypervolume, InferReferencePointOnExamples) {
  MatrixXd two(3, 2);
  two << 1, 3, 3, 1, 0, 0;  // the last row is dominated and ignored
  EXPECT_TRUE(infer_reference_point(two).isApprox((VectorXd(2) << 0.8, 0.8).finished()));
  MatrixXd one(1, 2);
  one << 2, -4;
  EXPECT_TRUE(infer_reference_point(one).isApprox((VectorXd(2) << 1.8, -4.4).finished()));
  MatrixXd copies(2, 2);
  copies << 2, -4, 2, -4;
  EXPECT_TRUE(infer_reference_point(copies).isApprox((VectorXd(2) << 1.8, -4.4).finished()));
  MatrixXd zero(1, 2);
  zero << 0, 5;
  const VectorXd r0 = infer_reference_point(zero);
  EXPECT_DOUBLE_EQ(r0(0), -1e-8);
  EXPECT_DOUBLE_EQ(r0(1), 4.5);
  MatrixXd flat(2, 3);
  flat << 1, 2, 5, 2, 1, 5;
  EXPECT_TRUE(infer_reference_point(flat).isApprox((VectorXd(3) << 0.9, 0.9, 4.5).finished()));
  EXPECT_THROW(infer_reference_point(MatrixXd(0, 2)), InvalidArgument);
  EXPECT_THROW(infer_reference_point(MatrixXd(2, 0)), InvalidArgument);
  two(0, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(infer_reference_point(two), InvalidArgument);
}

TEST(Hypervolume, FrontReferencePointOnExamples) {
  // The nadir of the Pareto rows, 10% of every row's range beyond it.
  MatrixXd Y(4, 2);
  Y << 1, 3, 3, 1, -7, 0, 0, -1;  // the last two rows are dominated
  // nadir (1, 1); ranges 10 and 4 over all rows; BoTorch's rule gives (0.8, 0.8).
  EXPECT_TRUE(front_reference_point(Y).isApprox((VectorXd(2) << 0.0, 0.6).finished()));
  EXPECT_TRUE(front_reference_point(Y.topRows(2)).isApprox(infer_reference_point(Y.topRows(2))));
  MatrixXd one(1, 2);
  one << 2, -4;  // no range: |nadir|, as infer_reference_point
  EXPECT_TRUE(front_reference_point(one).isApprox((VectorXd(2) << 1.8, -4.4).finished()));
  EXPECT_THROW(front_reference_point(MatrixXd(0, 2)), InvalidArgument);
  one(0, 1) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(front_reference_point(one), InvalidArgument);
}

TEST(Hypervolume, InferredReferenceIsStrictlyBelowTheFront) {
  std::mt19937_64 rng(17);
  for (int rep = 0; rep < 20; ++rep) {
    const MatrixXd Y = curved_outcomes(1 + rep, 3, rng);
    const VectorXd ref = infer_reference_point(Y), ours = front_reference_point(Y);
    for (Index i : pareto_indices(Y)) {
      EXPECT_TRUE((Y.row(i).transpose().array() > ref.array()).all());
      EXPECT_TRUE((Y.row(i).transpose().array() > ours.array()).all());
    }
  }
}

}  // namespace
}  // namespace gpbo
