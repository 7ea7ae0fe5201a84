#include "gpbo/test_functions.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

constexpr double kPi = 3.14159265358979323846;

// (name, dim) pairs covering every function, its default and some non-default dimensions.
std::vector<std::pair<std::string, int>> all_cases() {
  return {{"branin", 2},
          {"hartmann3", 3},
          {"hartmann6", 6},
          {"ackley", 1},
          {"ackley", 10},
          {"levy", 1},
          {"levy", 4},
          {"rosenbrock", 2},
          {"rosenbrock", 6},
          {"styblinski-tang", 1},
          {"styblinski-tang", 7},
          {"michalewicz", 2},
          {"michalewicz", 5},
          {"michalewicz", 10},
          {"griewank", 1},
          {"griewank", 10}};
}

// Hartmann optimizers are published to ~6 digits; the rest are exact or computed.
double optimum_tolerance(const std::string& name) {
  return name.rfind("hartmann", 0) == 0 ? 1e-4 : 1e-9;
}

template <typename Fn>
void expect_invalid(Fn fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected InvalidArgument mentioning '" << needle << "'";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(TestFunctions, NamesAndDefaultDims) {
  const std::vector<std::string> expected = {"branin",          "hartmann3",   "hartmann6",
                                             "ackley",          "levy",        "rosenbrock",
                                             "styblinski-tang", "michalewicz", "griewank"};
  EXPECT_EQ(TestFunction::names(), expected);
  const std::vector<int> default_dims = {2, 3, 6, 10, 10, 6, 10, 10, 10};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const TestFunction f = TestFunction::make(expected[i]);
    EXPECT_EQ(f.name(), expected[i]);
    EXPECT_EQ(f.dim(), default_dims[i]) << expected[i];
    EXPECT_EQ(f.optimizer().size(), f.dim());
    EXPECT_EQ(f.upper().size(), f.dim());
  }
}

TEST(TestFunctions, NamesAreCaseInsensitiveWithAliases) {
  EXPECT_EQ(TestFunction::make("BRANIN").name(), "branin");
  EXPECT_EQ(TestFunction::make("Hartmann6").name(), "hartmann6");
  EXPECT_EQ(TestFunction::make("styblinski_tang", 3).name(), "styblinski-tang");
  EXPECT_EQ(TestFunction::make("StyblinskiTang", 3).name(), "styblinski-tang");
  EXPECT_EQ(TestFunction::make("Styblinski-Tang", 3).dim(), 3);
}

TEST(TestFunctions, RejectsUnknownNamesAndBadDims) {
  expect_invalid([] { TestFunction::make("sphere"); }, "branin");
  expect_invalid([] { TestFunction::make(""); }, "griewank");
  expect_invalid([] { TestFunction::make("branin", 3); }, "2");
  expect_invalid([] { TestFunction::make("hartmann3", 6); }, "3");
  expect_invalid([] { TestFunction::make("hartmann6", 3); }, "6");
  expect_invalid([] { TestFunction::make("rosenbrock", 1); }, "2");
  expect_invalid([] { TestFunction::make("michalewicz", 3); }, "2, 5, 10");
  expect_invalid([] { TestFunction::make("ackley", -1); }, "dimension");
  EXPECT_EQ(TestFunction::make("branin", 2).dim(), 2);
  const TestFunction f = TestFunction::make("levy", 3);
  expect_invalid([&] { f(Eigen::VectorXd::Zero(2)); }, "3");
}

TEST(TestFunctions, OptimizerAttainsOptimalValueAndIsStrictLocalMin) {
  for (const auto& [name, d] : all_cases()) {
    const TestFunction f = TestFunction::make(name, d);
    ASSERT_EQ(f.dim(), d) << name;
    const Eigen::VectorXd& x = f.optimizer();
    EXPECT_TRUE((x.array() >= f.lower().array()).all() && (x.array() <= f.upper().array()).all())
        << name;
    EXPECT_NEAR(f(x), f.optimal_value(), optimum_tolerance(name)) << name << " d=" << d;
    for (int i = 0; i < d; ++i) {
      const double step = 1e-3 * (f.upper()[i] - f.lower()[i]);
      for (double sign : {-1.0, 1.0}) {
        Eigen::VectorXd y = x;
        y[i] += sign * step;
        EXPECT_GT(f(y), f.optimal_value()) << name << " d=" << d << " coordinate " << i;
      }
    }
  }
}

TEST(TestFunctions, PublishedOptimalValues) {
  EXPECT_DOUBLE_EQ(TestFunction::make("branin").optimal_value(), 0.39788735772973816);
  EXPECT_DOUBLE_EQ(TestFunction::make("hartmann3").optimal_value(), -3.86278214782076);
  EXPECT_DOUBLE_EQ(TestFunction::make("hartmann6").optimal_value(), -3.32236801141551);
  for (const char* name : {"ackley", "levy", "rosenbrock", "griewank"})
    EXPECT_EQ(TestFunction::make(name).optimal_value(), 0.0) << name;
  EXPECT_NEAR(TestFunction::make("styblinski-tang", 4).optimal_value(), -39.16616570377142 * 4,
              1e-12);
  // Branin has three minimizers; all attain f* = 10 t = 10 / (8 pi).
  const TestFunction branin = TestFunction::make("branin");
  EXPECT_NEAR(branin.optimal_value(), 10.0 / (8 * kPi), 1e-15);
  EXPECT_NEAR(branin(Eigen::Vector2d(-kPi, 12.275)), branin.optimal_value(), 1e-12);
  EXPECT_NEAR(branin(Eigen::Vector2d(3 * kPi, 2.475)), branin.optimal_value(), 1e-12);
}

TEST(TestFunctions, MichalewiczMatchesPublishedOptima) {
  const TestFunction m2 = TestFunction::make("michalewicz", 2);
  EXPECT_NEAR(m2.optimal_value(), -1.8013034100985537, 1e-8);
  EXPECT_NEAR(m2(Eigen::Vector2d(2.202905513296628, 1.570796322320509)), m2.optimal_value(),
              1e-12);  // BoTorch's stored optimizer
  EXPECT_NEAR(TestFunction::make("michalewicz", 5).optimal_value(), -4.687658179, 1e-4);
  EXPECT_NEAR(TestFunction::make("michalewicz", 10).optimal_value(), -9.66015, 1e-4);
  // Per-coordinate minimizers as tabulated by Hedar's global-optimization test set.
  const std::vector<double> published = {
      2.20290552094332, 1.57079632679490, 1.28499157179788, 1.92305846996689, 1.72046977393433,
      1.57079632679490, 1.45441397073036, 1.75608652112611, 1.65571741732520, 1.57079632679490};
  const TestFunction m10 = TestFunction::make("michalewicz", 10);
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(m10.optimizer()[i], published[i], 1e-7) << i;
  EXPECT_NEAR(m10.optimal_value(), -9.660151715641344, 1e-10);
}

TEST(TestFunctions, KnownValuesAwayFromOptimum) {
  EXPECT_NEAR(TestFunction::make("branin")(Eigen::Vector2d(0, 0)), 55.602112642270262, 1e-10);
  for (int d : {2, 3, 6})
    EXPECT_NEAR(TestFunction::make("rosenbrock", d)(Eigen::VectorXd::Zero(d)), d - 1.0, 1e-12);
  EXPECT_NEAR(TestFunction::make("rosenbrock", 2)(Eigen::Vector2d(2, 2)), 401.0, 1e-12);
  // Ackley at (1, ..., 1): cos(2 pi) = 1 cancels the e term, leaving 20 - 20 exp(-0.2).
  for (int d : {1, 5})
    EXPECT_NEAR(TestFunction::make("ackley", d)(Eigen::VectorXd::Ones(d)),
                20.0 - 20.0 * std::exp(-0.2), 1e-12);
  // Styblinski-Tang: 0 at the origin, 0.5 (1 - 16 + 5) = -5 per coordinate at ones.
  const TestFunction st = TestFunction::make("styblinski-tang", 3);
  EXPECT_NEAR(st(Eigen::VectorXd::Zero(3)), 0.0, 1e-12);
  EXPECT_NEAR(st(Eigen::VectorXd::Ones(3)), -15.0, 1e-12);
  // Levy at the origin (d = 3), where w = 3/4 for every coordinate.
  const double s = std::sin(0.75 * kPi + 1);
  const double levy0 = 0.5 + 2 * 0.0625 * (1 + 10 * s * s) + 0.0625 * 2;
  EXPECT_NEAR(TestFunction::make("levy", 3)(Eigen::VectorXd::Zero(3)), levy0, 1e-12);
  // Griewank at x_i = 2 pi sqrt(i): every cosine is 1, leaving sum x_i^2 / 4000.
  Eigen::VectorXd g(4);
  double g_expected = 0.0;
  for (int i = 0; i < 4; ++i) {
    g[i] = 2 * kPi * std::sqrt(i + 1.0);
    g_expected += g[i] * g[i] / 4000;
  }
  EXPECT_NEAR(TestFunction::make("griewank", 4)(g), g_expected, 1e-12);
  // Published value from the docstring of michalewicz5 in Julia's BenchmarkFunctions.
  Eigen::VectorXd m(5);
  m << 1, 2, 3, 4, 5;
  EXPECT_NEAR(TestFunction::make("michalewicz", 5)(m), 0.7958946159933006, 1e-12);
}

TEST(TestFunctions, RandomPointsNeverBeatTheOptimum) {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (const auto& [name, d] : all_cases()) {
    const TestFunction f = TestFunction::make(name, d);
    // The hartmann optimizers are published to ~6 digits, so f* itself may be off by that much.
    const double slack = name.rfind("hartmann", 0) == 0 ? 1e-4 : 1e-9;
    for (int k = 0; k < 2000; ++k) {
      Eigen::VectorXd x(d);
      for (int i = 0; i < d; ++i) x[i] = f.lower()[i] + unit(rng) * (f.upper()[i] - f.lower()[i]);
      ASSERT_GE(f(x), f.optimal_value() - slack) << name << " d=" << d;
    }
  }
}

TEST(TestFunctions, SpaceMatchesBox) {
  for (const auto& [name, d] : all_cases()) {
    const TestFunction f = TestFunction::make(name, d);
    const Space s = f.space();
    ASSERT_EQ(static_cast<int>(s.size()), d) << name;
    for (int i = 0; i < d; ++i) {
      const ParamSpec& p = s.params()[i];
      EXPECT_EQ(p.name, "x" + std::to_string(i));
      EXPECT_EQ(p.type, ParamType::kFloat);
      EXPECT_FALSE(p.log);
      EXPECT_EQ(p.low, f.lower()[i]);
      EXPECT_EQ(p.high, f.upper()[i]);
    }
  }
  const TestFunction branin = TestFunction::make("branin");
  EXPECT_EQ(branin.lower(), Eigen::Vector2d(-5, 0));
  EXPECT_EQ(branin.upper(), Eigen::Vector2d(10, 15));
  EXPECT_EQ(TestFunction::make("ackley", 2).lower(), Eigen::Vector2d(-5, -5));
  EXPECT_EQ(TestFunction::make("griewank", 2).upper(), Eigen::Vector2d(600, 600));
  EXPECT_NEAR(TestFunction::make("michalewicz", 2).upper()[1], kPi, 1e-15);
}

TEST(TestFunctions, ToVectorReadsPointsOfTheSpace) {
  const TestFunction f = TestFunction::make("hartmann3");
  const Params p = {{"x0", 0.25}, {"x1", 0.5}, {"x2", 0.75}};
  EXPECT_EQ(f.to_vector(p), Eigen::Vector3d(0.25, 0.5, 0.75));
  expect_invalid([&] { f.to_vector({{"x0", 0.25}, {"x1", 0.5}}); }, "x2");
  expect_invalid([&] { f.to_vector({{"x0", 0.25}, {"x1", std::int64_t{1}}, {"x2", 0.5}}); }, "x1");
  // A point decoded from the space reads back to the coordinates it encodes.
  const Space s = f.space();
  const Eigen::VectorXd x = f.to_vector(s.decode(Eigen::Vector3d(0.0, 0.5, 1.0)));
  EXPECT_NEAR((x - Eigen::Vector3d(0.0, 0.5, 1.0)).norm(), 0.0, 1e-12);
}

}  // namespace
}  // namespace gpbo
