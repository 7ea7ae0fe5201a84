#include "gpbo/test_problems.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/test_functions.hpp"

namespace gpbo {
namespace {

constexpr double kPi = 3.14159265358979323846;

template <typename Fn>
void expect_invalid(Fn fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected InvalidArgument mentioning '" << needle << "'";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// The exact hypervolume dominated by 2-D points (both minimized) w.r.t. `ref`: a sweep in f1.
double hypervolume_2d(std::vector<std::pair<double, double>> points, double ref1, double ref2) {
  std::sort(points.begin(), points.end());
  double hv = 0.0, level = ref2;
  for (const auto& [f1, f2] : points) {
    if (f1 >= ref1 || f2 >= level) continue;
    hv += (ref1 - f1) * (level - f2);
    level = f2;
  }
  return hv;
}

// A problem's two objectives at x, if x is feasible.
bool feasible_pair(const TestProblem& p, const Eigen::VectorXd& x, std::pair<double, double>* out) {
  const MetricValues v = p(x);
  if (!feasible(p.metrics(), v)) return false;
  *out = {v.at(p.metrics().objectives[0].name), v.at(p.metrics().objectives[1].name)};
  return true;
}

TEST(TestProblems, NamesDefaultDimsAndMetrics) {
  const std::vector<std::string> expected = {"branincurrin",          "zdt1",   "dtlz2", "c2dtlz2",
                                             "constrained-hartmann6", "gramacy"};
  EXPECT_EQ(TestProblem::names(), expected);
  const std::vector<int> dims = {2, 6, 6, 4, 6, 2};
  const std::vector<std::vector<std::string>> metric_names = {
      {"branin", "currin"}, {"f1", "f2"},          {"f1", "f2", "f3"},
      {"f1", "f2", "c"},    {"hartmann6", "norm"}, {"f", "c1", "c2"}};
  const std::vector<std::size_t> objectives = {2, 2, 3, 2, 1, 1};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const TestProblem p = TestProblem::make(expected[i]);
    SCOPED_TRACE(expected[i]);
    EXPECT_EQ(p.name(), expected[i]);
    EXPECT_EQ(p.dim(), dims[i]);
    EXPECT_EQ(p.lower().size(), p.dim());
    EXPECT_EQ(p.upper().size(), p.dim());
    EXPECT_TRUE((p.lower().array() < p.upper().array()).all());
    EXPECT_NO_THROW(check_metrics(p.metrics()));
    EXPECT_EQ(p.metrics().names(), metric_names[i]);
    ASSERT_EQ(p.metrics().objectives.size(), objectives[i]);
    for (const Objective& o : p.metrics().objectives)
      EXPECT_EQ(o.direction, Direction::kMinimize) << o.name;
    // A single-objective problem has no hypervolume reference point.
    EXPECT_EQ(p.reference_point().size(),
              objectives[i] > 1 ? static_cast<Eigen::Index>(objectives[i]) : 0);
    EXPECT_TRUE(std::isfinite(p.best_known()));
    // The evaluation reports exactly the declared metrics, finite at the box's centre.
    const MetricValues v = p(0.5 * (p.lower() + p.upper()));
    std::vector<std::string> keys;
    for (const auto& [k, value] : v) {
      keys.push_back(k);
      EXPECT_TRUE(std::isfinite(value)) << k;
    }
    std::vector<std::string> sorted = metric_names[i];
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(keys, sorted);
  }
}

TEST(TestProblems, ConstraintsAndReferencePoints) {
  using C = OutcomeConstraint;
  auto same = [](const std::vector<C>& a, const std::vector<C>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i].metric != b[i].metric || a[i].side != b[i].side || a[i].bound != b[i].bound)
        return false;
    return true;
  };
  EXPECT_TRUE(TestProblem::make("branincurrin").metrics().constraints.empty());
  EXPECT_TRUE(TestProblem::make("zdt1").metrics().constraints.empty());
  EXPECT_TRUE(TestProblem::make("dtlz2").metrics().constraints.empty());
  EXPECT_TRUE(
      same(TestProblem::make("c2dtlz2").metrics().constraints, {C{"c", Bound::kAtLeast, 0.0}}));
  EXPECT_TRUE(same(TestProblem::make("constrained-hartmann6").metrics().constraints,
                   {C{"norm", Bound::kAtMost, 1.0}}));
  EXPECT_TRUE(same(TestProblem::make("gramacy").metrics().constraints,
                   {C{"c1", Bound::kAtMost, 0.0}, C{"c2", Bound::kAtMost, 0.0}}));

  // BoTorch's reference points.
  EXPECT_EQ(TestProblem::make("branincurrin").reference_point(), Eigen::Vector2d(18, 6));
  EXPECT_EQ(TestProblem::make("zdt1").reference_point(), Eigen::Vector2d(11, 11));
  EXPECT_EQ(TestProblem::make("zdt1", 3).reference_point(), Eigen::Vector2d(11, 11));
  EXPECT_EQ(TestProblem::make("dtlz2").reference_point(), Eigen::Vector3d::Constant(1.1));
  EXPECT_EQ(TestProblem::make("dtlz2", 10).reference_point(), Eigen::Vector3d::Constant(1.1));
  EXPECT_EQ(TestProblem::make("c2dtlz2").reference_point(), Eigen::Vector2d(1.1, 1.1));
}

TEST(TestProblems, NamesAreCaseInsensitiveWithSeparatorsIgnored) {
  EXPECT_EQ(TestProblem::make("BraninCurrin").name(), "branincurrin");
  EXPECT_EQ(TestProblem::make("branin-currin").name(), "branincurrin");
  EXPECT_EQ(TestProblem::make("ZDT1").name(), "zdt1");
  EXPECT_EQ(TestProblem::make("C2-DTLZ2").name(), "c2dtlz2");
  EXPECT_EQ(TestProblem::make("constrained_hartmann6").name(), "constrained-hartmann6");
  EXPECT_EQ(TestProblem::make("ConstrainedHartmann6").name(), "constrained-hartmann6");
  EXPECT_EQ(TestProblem::make("Gramacy").name(), "gramacy");
}

TEST(TestProblems, RejectsUnknownNamesAndBadDims) {
  expect_invalid([] { TestProblem::make("branin"); }, "branincurrin");
  expect_invalid([] { TestProblem::make(""); }, "gramacy");
  expect_invalid([] { TestProblem::make("zdt2"); }, "zdt1");
  expect_invalid([] { TestProblem::make("branincurrin", 3); }, "2");
  expect_invalid([] { TestProblem::make("zdt1", 1); }, ">= 2");
  expect_invalid([] { TestProblem::make("dtlz2", 3); }, ">= 4");
  expect_invalid([] { TestProblem::make("c2dtlz2", 2); }, ">= 3");
  expect_invalid([] { TestProblem::make("constrained-hartmann6", 3); }, "6");
  expect_invalid([] { TestProblem::make("gramacy", 3); }, "2");
  expect_invalid([] { TestProblem::make("zdt1", -1); }, "dimension");
  EXPECT_EQ(TestProblem::make("zdt1", 2).dim(), 2);
  EXPECT_EQ(TestProblem::make("zdt1", 30).dim(), 30);
  EXPECT_EQ(TestProblem::make("dtlz2", 4).dim(), 4);
  EXPECT_EQ(TestProblem::make("c2dtlz2", 12).dim(), 12);
  const TestProblem p = TestProblem::make("zdt1", 3);
  expect_invalid([&] { p(Eigen::VectorXd::Zero(2)); }, "3");
}

TEST(TestProblems, BraninCurrinKnownValues) {
  const TestProblem p = TestProblem::make("branincurrin");
  EXPECT_EQ(p.lower(), Eigen::Vector2d(0, 0));
  EXPECT_EQ(p.upper(), Eigen::Vector2d(1, 1));
  // Branin on [-5, 10] x [0, 15] and Currin, written out here independently.
  auto branin = [](double a, double b) {
    return std::pow(b - 5.1 / (4 * kPi * kPi) * a * a + 5 / kPi * a - 6, 2) +
           10 * (1 - 1 / (8 * kPi)) * std::cos(a) + 10;
  };
  auto currin = [](double x0, double x1) {
    return (1 - std::exp(-1 / (2 * x1))) *
           (2300 * std::pow(x0, 3) + 1900 * x0 * x0 + 2092 * x0 + 60) /
           (100 * std::pow(x0, 3) + 500 * x0 * x0 + 4 * x0 + 20);
  };
  for (const Eigen::Vector2d& x : {Eigen::Vector2d(0.5, 0.5), Eigen::Vector2d(0.1, 0.9),
                                   Eigen::Vector2d(0.8, 0.3), Eigen::Vector2d(1, 1)}) {
    const MetricValues v = p(x);
    EXPECT_NEAR(v.at("branin"), branin(15 * x[0] - 5, 15 * x[1]), 1e-12) << x.transpose();
    EXPECT_NEAR(v.at("currin"), currin(x[0], x[1]), 1e-12) << x.transpose();
  }
  // Branin's minimizer (pi, 2.275) in unit coordinates; Currin's factor is 1 at x1 = 0.
  EXPECT_NEAR(p(Eigen::Vector2d((kPi + 5) / 15, 2.275 / 15)).at("branin"), 0.39788735772973816,
              1e-12);
  EXPECT_NEAR(p(Eigen::Vector2d(0, 0)).at("currin"), 60.0 / 20.0, 1e-15);
  EXPECT_NEAR(p(Eigen::Vector2d(1, 0)).at("currin"), 6352.0 / 624.0, 1e-12);
  EXPECT_NEAR(p(Eigen::Vector2d(0, 1)).at("currin"), 3 * (1 - std::exp(-0.5)), 1e-15);
}

TEST(TestProblems, BraninCurrinBestKnownBoundsTheHypervolume) {
  const TestProblem p = TestProblem::make("branincurrin");
  constexpr double kBotorchNsga2 = 59.36011874867746;
  EXPECT_GT(p.best_known(), kBotorchNsga2);
  std::pair<double, double> f;
  std::vector<std::pair<double, double>> points;
  constexpr int kGrid = 801;
  for (int i = 0; i < kGrid; ++i)
    for (int j = 0; j < kGrid; ++j)
      if (feasible_pair(p, Eigen::Vector2d(i / (kGrid - 1.0), j / (kGrid - 1.0)), &f))
        points.push_back(f);
  EXPECT_LE(hypervolume_2d(points, 18, 6), p.best_known());
  // Near-front points: for each Currin level c, the x minimizing Branin subject to currin <= c
  // over a grid of x0. Branin is a quadratic in x1 with its minimum at q(x0) / 15, and Currin
  // falls as x1 grows, so the best x1 is the larger of q / 15 and the least x1 with currin <= c.
  constexpr int kX0 = 20001, kLevels = 2001;
  const double b = 5.1 / (4 * kPi * kPi), c5 = 5 / kPi;
  Eigen::ArrayXd x0 = Eigen::ArrayXd::LinSpaced(kX0, 0.0, 1.0), q(kX0), ratio(kX0), rest(kX0);
  for (int i = 0; i < kX0; ++i) {
    const double a = 15 * x0[i] - 5;
    q[i] = b * a * a - c5 * a + 6;
    rest[i] = 10 * (1 - 1 / (8 * kPi)) * std::cos(a);
    ratio[i] = (2300 * std::pow(x0[i], 3) + 1900 * x0[i] * x0[i] + 2092 * x0[i] + 60) /
               (100 * std::pow(x0[i], 3) + 500 * x0[i] * x0[i] + 4 * x0[i] + 20);
  }
  for (int k = 1; k < kLevels; ++k) {
    const double level = 6.0 * k / (kLevels - 1);
    double best = std::numeric_limits<double>::infinity();
    Eigen::Vector2d argbest = Eigen::Vector2d::Zero();
    for (int i = 0; i < kX0; ++i) {
      const double v = level / ratio[i];  // currin <= level <=> 1 - exp(-1 / (2 x1)) <= v
      if (v < 1 - std::exp(-0.5)) continue;
      const double x1_min = v >= 1 ? 0.0 : -1 / (2 * std::log1p(-v));
      const double x1 = std::clamp(std::max(x1_min, q[i] / 15), 0.0, 1.0);
      const double branin = std::pow(15 * x1 - q[i], 2) + rest[i];
      if (branin < best) best = branin, argbest = Eigen::Vector2d(x0[i], x1);
    }
    if (std::isfinite(best) && feasible_pair(p, argbest, &f)) points.push_back(f);
  }
  const double hv = hypervolume_2d(points, 18, 6);
  EXPECT_LE(hv, p.best_known());
  EXPECT_GT(hv, kBotorchNsga2 + 0.01);
  EXPECT_GT(hv, p.best_known() - 0.03);
}

TEST(TestProblems, Zdt1ParetoSet) {
  for (int d : {2, 6, 30}) {
    const TestProblem p = TestProblem::make("zdt1", d);
    for (double x0 : {0.0, 0.01, 0.3, 0.77, 1.0}) {
      Eigen::VectorXd x = Eigen::VectorXd::Zero(d);
      x[0] = x0;
      MetricValues v = p(x);
      EXPECT_DOUBLE_EQ(v.at("f1"), x0);
      EXPECT_NEAR(v.at("f2"), 1 - std::sqrt(x0), 1e-15) << "d=" << d;
      // Off the Pareto set g = 1 + 9 mean(x_1..) > 1 and f2 = g - sqrt(x0 g).
      x.tail(d - 1).setConstant(0.4);
      v = p(x);
      const double g = 1 + 9 * 0.4;
      EXPECT_NEAR(v.at("f2"), g - std::sqrt(x0 * g), 1e-12) << "d=" << d;
    }
  }
}

TEST(TestProblems, Dtlz2ParetoSetIsTheUnitSphere) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int d : {4, 6, 9}) {
    const TestProblem p = TestProblem::make("dtlz2", d);
    for (int trial = 0; trial < 200; ++trial) {
      Eigen::VectorXd x(d);
      for (int i = 0; i < d; ++i) x[i] = u(rng);
      // g = sum_{j >= 2} (x_j - 1/2)^2 scales the radius: |f| = 1 + g.
      const double g = (x.tail(d - 2).array() - 0.5).square().sum();
      MetricValues v = p(x);
      double norm2 = v.at("f1") * v.at("f1") + v.at("f2") * v.at("f2") + v.at("f3") * v.at("f3");
      EXPECT_NEAR(norm2, (1 + g) * (1 + g), 1e-12);
      EXPECT_GE(v.at("f1"), 0.0);
      EXPECT_GE(v.at("f2"), 0.0);
      EXPECT_GE(v.at("f3"), 0.0);
      x.tail(d - 2).setConstant(0.5);  // the Pareto set
      v = p(x);
      norm2 = v.at("f1") * v.at("f1") + v.at("f2") * v.at("f2") + v.at("f3") * v.at("f3");
      EXPECT_NEAR(norm2, 1.0, 1e-14);
    }
    // The spherical coordinates: f = (cos a cos b, cos a sin b, sin a), a = x0 pi/2, b = x1 pi/2.
    Eigen::VectorXd x = Eigen::VectorXd::Constant(d, 0.5);
    x[0] = 0.2;
    x[1] = 0.7;
    const MetricValues v = p(x);
    const double a = 0.2 * kPi / 2, b = 0.7 * kPi / 2;
    EXPECT_NEAR(v.at("f1"), std::cos(a) * std::cos(b), 1e-15);
    EXPECT_NEAR(v.at("f2"), std::cos(a) * std::sin(b), 1e-15);
    EXPECT_NEAR(v.at("f3"), std::sin(a), 1e-15);
  }
  // Every point lies on or outside the unit sphere and the Pareto set reaches it, so the
  // dominated volume below (1.1, 1.1, 1.1) is the cube less the ball's positive octant.
  EXPECT_NEAR(TestProblem::make("dtlz2").best_known(), 1.331 - kPi / 6, 1e-15);
  EXPECT_NEAR(TestProblem::make("dtlz2").best_known(), 0.8074012244017013, 1e-15);
}

TEST(TestProblems, Zdt1BestKnownIsTheFrontsHypervolume) {
  const TestProblem p = TestProblem::make("zdt1");
  EXPECT_NEAR(p.best_known(), 120 + 2.0 / 3.0, 1e-12);  // BoTorch's ZDT1._max_hv
  std::vector<std::pair<double, double>> front;
  constexpr int kPoints = 20001;
  for (int i = 0; i < kPoints; ++i) {
    Eigen::VectorXd x = Eigen::VectorXd::Zero(p.dim());
    x[0] = static_cast<double>(i) / (kPoints - 1);
    const MetricValues v = p(x);
    front.emplace_back(v.at("f1"), v.at("f2"));
  }
  const double hv = hypervolume_2d(front, 11, 11);
  EXPECT_LE(hv, p.best_known());
  EXPECT_GT(hv, p.best_known() - 1e-3);
}

// C2-DTLZ2 (M = 2): feasible within r = 0.2 of (1, 0) or (0, 1), or within r sqrt(2) of
// (1, 1) / sqrt(2) (BoTorch's slack, which subtracts r^2 once per summand).
double c2_slack(double f1, double f2) {
  const double r2 = 0.04, a = 1 / std::sqrt(2.0);
  const double near_axis =
      std::min((f1 - 1) * (f1 - 1) + f2 * f2 - r2, f1 * f1 + (f2 - 1) * (f2 - 1) - r2);
  const double near_diagonal = (f1 - a) * (f1 - a) + (f2 - a) * (f2 - a) - 2 * r2;
  return -std::min(near_axis, near_diagonal);
}

TEST(TestProblems, C2Dtlz2ConstraintSign) {
  const TestProblem p = TestProblem::make("c2dtlz2");
  ASSERT_EQ(p.dim(), 4);
  auto at = [&](double x0, double rest) {
    Eigen::VectorXd x = Eigen::VectorXd::Constant(p.dim(), rest);
    x[0] = x0;
    return p(x);
  };
  // On the Pareto set (rest = 0.5) f = (cos(x0 pi/2), sin(x0 pi/2)).
  MetricValues v = at(0.0, 0.5);  // (1, 0): the centre of a disc
  EXPECT_NEAR(v.at("c"), 0.04, 1e-15);
  EXPECT_TRUE(feasible(p.metrics(), v));
  v = at(1.0, 0.5);  // (0, 1)
  EXPECT_NEAR(v.at("c"), 0.04, 1e-12);
  EXPECT_TRUE(feasible(p.metrics(), v));
  v = at(0.5, 0.5);  // (1, 1) / sqrt(2), the centre of the diagonal disc
  EXPECT_NEAR(v.at("c"), 0.08, 1e-15);
  EXPECT_TRUE(feasible(p.metrics(), v));
  v = at(0.25, 0.5);  // angle pi/8, between the discs
  EXPECT_LT(v.at("c"), 0.0);
  EXPECT_FALSE(feasible(p.metrics(), v));
  v = at(0.0, 0.0);  // radius 1 + g = 1.75: beyond every disc
  EXPECT_NEAR(v.at("f1"), 1.75, 1e-15);
  EXPECT_LT(v.at("c"), 0.0);
  EXPECT_FALSE(feasible(p.metrics(), v));
  // Everywhere: the slack written out here, and feasibility is its sign.
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int feasible_count = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    Eigen::VectorXd x(p.dim());
    for (int i = 0; i < p.dim(); ++i) x[i] = trial % 2 ? u(rng) : 0.5 + 0.2 * (u(rng) - 0.5);
    v = p(x);
    EXPECT_NEAR(v.at("c"), c2_slack(v.at("f1"), v.at("f2")), 1e-14);
    EXPECT_EQ(feasible(p.metrics(), v), v.at("c") >= 0);
    feasible_count += v.at("c") >= 0;
  }
  EXPECT_GT(feasible_count, 0);
  EXPECT_LT(feasible_count, 2000);
}

TEST(TestProblems, C2Dtlz2BestKnownIsTheFeasibleFrontsHypervolume) {
  const TestProblem p = TestProblem::make("c2dtlz2");
  // The closed form exceeds BoTorch's NSGA-II estimate, 0.3996406303723544.
  EXPECT_NEAR(p.best_known(), 0.40005666817601965, 1e-14);
  // The feasible points of the Pareto set (g = 0), densely: their hypervolume approaches the
  // closed form from below.
  std::vector<std::pair<double, double>> front;
  constexpr int kPoints = 200001;
  Eigen::VectorXd x = Eigen::VectorXd::Constant(p.dim(), 0.5);
  std::pair<double, double> f;
  for (int i = 0; i < kPoints; ++i) {
    x[0] = static_cast<double>(i) / (kPoints - 1);
    if (feasible_pair(p, x, &f)) front.push_back(f);
  }
  const double hv = hypervolume_2d(front, 1.1, 1.1);
  EXPECT_LE(hv, p.best_known());
  EXPECT_GT(hv, p.best_known() - 1e-5);
  EXPECT_GT(hv, 0.3996406303723544);
  // Points off the Pareto set (g > 0) add nothing.
  for (int i = 0; i <= 400; ++i) {
    for (int j = 0; j <= 100; ++j) {
      x[0] = i / 400.0;
      x[1] = 0.5 + 0.5 * j / 100.0;
      if (feasible_pair(p, x, &f)) front.push_back(f);
    }
  }
  EXPECT_LE(hypervolume_2d(front, 1.1, 1.1), p.best_known());
}

TEST(TestProblems, ConstrainedHartmann6) {
  const TestProblem p = TestProblem::make("constrained-hartmann6");
  const TestFunction h6 = TestFunction::make("hartmann6");
  EXPECT_EQ(p.lower(), Eigen::VectorXd::Zero(6));
  EXPECT_EQ(p.upper(), Eigen::VectorXd::Ones(6));
  Eigen::VectorXd x(6);
  x << 0.1, 0.2, 0.3, 0.4, 0.5, 0.6;
  MetricValues v = p(x);
  EXPECT_DOUBLE_EQ(v.at("hartmann6"), h6(x));
  EXPECT_NEAR(v.at("norm"), std::sqrt(0.91), 1e-15);
  EXPECT_TRUE(feasible(p.metrics(), v));
  v = p(Eigen::VectorXd::Ones(6));
  EXPECT_NEAR(v.at("norm"), std::sqrt(6.0), 1e-15);
  EXPECT_FALSE(feasible(p.metrics(), v));
  Eigen::VectorXd edge = Eigen::VectorXd::Zero(6);
  edge[2] = 1.0;  // on the boundary ||x|| = 1: feasible
  EXPECT_TRUE(feasible(p.metrics(), p(edge)));
  edge[3] = 1e-3;
  EXPECT_FALSE(feasible(p.metrics(), p(edge)));
  // Hartmann6's global minimizer lies inside the unit ball, so it is the constrained optimum.
  const MetricValues at_opt = p(h6.optimizer());
  EXPECT_LT(at_opt.at("norm"), 0.95);
  EXPECT_TRUE(feasible(p.metrics(), at_opt));
  EXPECT_DOUBLE_EQ(p.best_known(), -3.32236801141551);
  EXPECT_NEAR(at_opt.at("hartmann6"), p.best_known(), 1e-4);
}

TEST(TestProblems, Gramacy) {
  const TestProblem p = TestProblem::make("gramacy");
  const Eigen::Vector2d x(0.3, 0.6);
  const MetricValues v = p(x);
  EXPECT_DOUBLE_EQ(v.at("f"), 0.9);
  EXPECT_NEAR(v.at("c1"), 1.5 - 0.3 - 1.2 - 0.5 * std::sin(2 * kPi * (0.09 - 1.2)), 1e-15);
  EXPECT_NEAR(v.at("c2"), 0.09 + 0.36 - 1.5, 1e-15);
  // A feasible point within 1e-7 of best_known (c1 is active at the optimum).
  const MetricValues best = p(Eigen::Vector2d(0.19512268858915166, 0.4046653734209085));
  EXPECT_TRUE(feasible(p.metrics(), best));
  EXPECT_NEAR(best.at("f"), p.best_known(), 1e-7);
  // The published optimizer (0.1954, 0.4044) is feasible and a little worse.
  const MetricValues published = p(Eigen::Vector2d(0.1954, 0.4044));
  EXPECT_TRUE(feasible(p.metrics(), published));
  EXPECT_GT(published.at("f"), p.best_known());
  // No feasible point of a fine grid beats it.
  constexpr int kGrid = 1001;
  double grid_best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < kGrid; ++i) {
    for (int j = 0; j < kGrid; ++j) {
      const MetricValues g = p(Eigen::Vector2d(i / (kGrid - 1.0), j / (kGrid - 1.0)));
      if (feasible(p.metrics(), g)) grid_best = std::min(grid_best, g.at("f"));
    }
  }
  EXPECT_GE(grid_best, p.best_known());
  EXPECT_LT(grid_best, p.best_known() + 5e-3);
}

TEST(TestProblems, SpaceAndToVectorRoundTrip) {
  for (const std::string& name : TestProblem::names()) {
    const TestProblem p = TestProblem::make(name);
    SCOPED_TRACE(name);
    const Space s = p.space();
    ASSERT_EQ(static_cast<int>(s.size()), p.dim());
    Params params;
    Eigen::VectorXd x(p.dim());
    for (int i = 0; i < p.dim(); ++i) {
      EXPECT_EQ(s.params()[i].name, "x" + std::to_string(i));
      EXPECT_EQ(s.params()[i].type, ParamType::kFloat);
      EXPECT_EQ(s.params()[i].low, p.lower()[i]);
      EXPECT_EQ(s.params()[i].high, p.upper()[i]);
      x[i] = p.lower()[i] + (p.upper()[i] - p.lower()[i]) * (i + 1.0) / (p.dim() + 2.0);
      params["x" + std::to_string(i)] = x[i];
    }
    EXPECT_NO_THROW(s.validate(params));
    EXPECT_EQ(p.to_vector(params), x);
    EXPECT_EQ(p(p.to_vector(s.decode(s.encode(params)))).size(), p.metrics().names().size());
    params.erase("x0");
    expect_invalid([&] { p.to_vector(params); }, "x0");
  }
}

}  // namespace
}  // namespace gpbo
