// Standard optimization test functions. Definitions and optima follow Surjanovic & Bingham,
// "Virtual Library of Simulation Experiments" (https://www.sfu.ca/~ssurjano/optimization.html),
// unless noted otherwise.
#include "gpbo/test_functions.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <variant>

#include "common/text.hpp"
#include "functions/box_space.hpp"
#include "gpbo/error.hpp"

namespace gpbo {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kE = 2.71828182845904523536;

// Hartmann constants (alpha, A, P), shared by the published 3-D and 6-D variants.
constexpr double kHartmannAlpha[4] = {1.0, 1.2, 3.0, 3.2};
constexpr double kHartmann3A[4][3] = {{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}};
constexpr double kHartmann3P[4][3] = {
    {3689, 1170, 2673}, {4699, 4387, 7470}, {1091, 8732, 5547}, {381, 5743, 8828}};
constexpr double kHartmann6A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                      {0.05, 10, 17, 0.1, 8, 14},
                                      {3, 3.5, 1.7, 10, 17, 8},
                                      {17, 8, 0.05, 10, 0.1, 14}};
constexpr double kHartmann6P[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                      {2329, 4135, 8307, 3736, 1004, 9991},
                                      {2348, 1451, 3522, 2883, 3047, 6650},
                                      {4047, 8828, 8732, 5743, 1091, 381}};

// f = -sum_i alpha_i exp(-sum_j A_ij (x_j - 1e-4 P_ij)^2).
template <int D>
double hartmann(const double (&a)[4][D], const double (&p)[4][D],
                const Eigen::Ref<const Eigen::VectorXd>& x) {
  double f = 0.0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0.0;
    for (int j = 0; j < D; ++j) inner += a[i][j] * std::pow(x[j] - 1e-4 * p[i][j], 2);
    f -= kHartmannAlpha[i] * std::exp(-inner);
  }
  return f;
}

// One Michalewicz term (m = 10) negated, g_i(x) = sin(x) sin(i x^2 / pi)^20, and its derivative.
double michalewicz_term(int i, double x) {
  const double s2 = std::pow(std::sin(i * x * x / kPi), 2);
  const double s4 = s2 * s2, s8 = s4 * s4;
  return std::sin(x) * s8 * s8 * s4;
}
double michalewicz_term_derivative(int i, double x) {
  const double u = i * x * x / kPi;
  const double s = std::sin(u);
  return std::cos(x) * std::pow(s, 20) +
         std::sin(x) * 20.0 * std::pow(s, 19) * std::cos(u) * 2.0 * i * x / kPi;
}

// Michalewicz is separable, so its minimizer is found one coordinate at a time: a grid fine
// enough to land on the tallest peak of g_i (peaks are ~0.03 wide for i = 10), golden-section
// search around the best grid point, then Newton on g_i' for full double precision (golden
// section alone stalls at ~sqrt(eps) because g_i is flat at its maximum).
double michalewicz_argmax(int i) {
  constexpr int kGrid = 4096;
  const double h = kPi / kGrid;
  int best = 0;
  for (int k = 1; k <= kGrid; ++k)
    if (michalewicz_term(i, k * h) > michalewicz_term(i, best * h)) best = k;
  double lo = std::max(0.0, (best - 1) * h), hi = std::min(kPi, (best + 1) * h);
  const double r = (std::sqrt(5.0) - 1.0) / 2.0;
  double a = hi - r * (hi - lo), b = lo + r * (hi - lo);
  double fa = michalewicz_term(i, a), fb = michalewicz_term(i, b);
  for (int it = 0; it < 100 && hi - lo > 1e-12; ++it) {
    if (fa > fb) {
      hi = b, b = a, fb = fa, a = hi - r * (hi - lo), fa = michalewicz_term(i, a);
    } else {
      lo = a, a = b, fa = fb, b = lo + r * (hi - lo), fb = michalewicz_term(i, b);
    }
  }
  double x = 0.5 * (lo + hi);
  for (int it = 0; it < 5; ++it) {
    const double e = 1e-6;
    const double g2 =
        (michalewicz_term_derivative(i, x + e) - michalewicz_term_derivative(i, x - e)) / (2 * e);
    if (g2 >= 0.0) break;  // not concave here; keep the golden-section answer
    const double next = x - michalewicz_term_derivative(i, x) / g2;
    if (!(std::abs(next - x) < h)) break;  // a Newton step must not leave the peak
    x = next;
  }
  return x;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::vector<std::string> TestFunction::names() {
  return {"branin",     "hartmann3",       "hartmann6",   "ackley",  "levy",
          "rosenbrock", "styblinski-tang", "michalewicz", "griewank"};
}

TestFunction TestFunction::make(const std::string& name, int dim) {
  std::string key = to_lower(name);
  if (key == "styblinski_tang" || key == "styblinskitang") key = "styblinski-tang";
  if (dim < 0 || dim > kMaxTestDim) {
    throw InvalidArgument("test function '" + name + "': dimension must be in 0.." +
                          std::to_string(kMaxTestDim) + ", got " + std::to_string(dim));
  }

  TestFunction f;
  f.name_ = key;
  // Validates `dim` against the fixed or minimal dimension and returns the one to use.
  auto pick_dim = [&](int fixed_or_min, bool fixed, int default_dim) {
    const int d = dim == 0 ? default_dim : dim;
    if (fixed ? d != fixed_or_min : d < fixed_or_min)
      throw InvalidArgument("test function '" + key + "' supports dimension " +
                            (fixed ? "" : ">= ") + std::to_string(fixed_or_min) + ", got " +
                            std::to_string(d));
    return d;
  };
  auto set_box = [&](int d, double lo, double hi) {
    f.lower_ = Eigen::VectorXd::Constant(d, lo);
    f.upper_ = Eigen::VectorXd::Constant(d, hi);
  };

  if (key == "branin") {
    pick_dim(2, true, 2);
    f.kind_ = Kind::kBranin;
    f.lower_ = Eigen::Vector2d(-5.0, 0.0);
    f.upper_ = Eigen::Vector2d(10.0, 15.0);
    f.optimizer_ = Eigen::Vector2d(kPi, 2.275);
    f.optimal_value_ = 0.39788735772973816;
  } else if (key == "hartmann3") {
    pick_dim(3, true, 3);
    f.kind_ = Kind::kHartmann3;
    set_box(3, 0.0, 1.0);
    f.optimizer_ = Eigen::Vector3d(0.114614, 0.555649, 0.852547);
    f.optimal_value_ = -3.86278214782076;
  } else if (key == "hartmann6") {
    pick_dim(6, true, 6);
    f.kind_ = Kind::kHartmann6;
    set_box(6, 0.0, 1.0);
    f.optimizer_.resize(6);
    f.optimizer_ << 0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573;
    f.optimal_value_ = -3.32236801141551;
  } else if (key == "ackley") {
    const int d = pick_dim(1, false, 10);
    f.kind_ = Kind::kAckley;
    set_box(d, -5.0, 10.0);  // the benchmark protocol's box, not the library's [-32.768, 32.768]
    f.optimizer_ = Eigen::VectorXd::Zero(d);
  } else if (key == "levy") {
    const int d = pick_dim(1, false, 10);
    f.kind_ = Kind::kLevy;
    set_box(d, -10.0, 10.0);
    f.optimizer_ = Eigen::VectorXd::Ones(d);
  } else if (key == "rosenbrock") {
    const int d = pick_dim(2, false, 6);
    f.kind_ = Kind::kRosenbrock;
    set_box(d, -5.0, 10.0);
    f.optimizer_ = Eigen::VectorXd::Ones(d);
  } else if (key == "styblinski-tang") {
    const int d = pick_dim(1, false, 10);
    f.kind_ = Kind::kStyblinskiTang;
    set_box(d, -5.0, 5.0);
    f.optimizer_ = Eigen::VectorXd::Constant(d, -2.903534027771178);
    f.optimal_value_ = -39.16616570377142 * d;
  } else if (key == "michalewicz") {
    // Only d in {2, 5, 10} has a published optimum to check ours against.
    const int d = dim == 0 ? 10 : dim;
    if (d != 2 && d != 5 && d != 10)
      throw InvalidArgument("test function 'michalewicz' supports dimensions 2, 5, 10, got " +
                            std::to_string(d));
    f.kind_ = Kind::kMichalewicz;
    set_box(d, 0.0, kPi);
    f.optimizer_.resize(d);
    for (int i = 0; i < d; ++i) {
      f.optimizer_[i] = michalewicz_argmax(i + 1);
      f.optimal_value_ -= michalewicz_term(i + 1, f.optimizer_[i]);
    }
  } else if (key == "griewank") {
    const int d = pick_dim(1, false, 10);
    f.kind_ = Kind::kGriewank;
    set_box(d, -600.0, 600.0);
    f.optimizer_ = Eigen::VectorXd::Zero(d);
  } else {
    throw InvalidArgument("unknown test function '" + name + "'; valid names: " + join(names()));
  }
  return f;
}

double TestFunction::operator()(const Eigen::Ref<const Eigen::VectorXd>& x) const {
  const int d = dim();
  if (x.size() != d)
    throw InvalidArgument("test function '" + name_ + "' expects " + std::to_string(d) +
                          " coordinates, got " + std::to_string(x.size()));
  switch (kind_) {
    case Kind::kBranin: {
      // a (x2 - b x1^2 + c x1 - r)^2 + s (1 - t) cos(x1) + s
      const double b = 5.1 / (4 * kPi * kPi), c = 5 / kPi, t = 1 / (8 * kPi);
      return std::pow(x[1] - b * x[0] * x[0] + c * x[0] - 6, 2) + 10 * (1 - t) * std::cos(x[0]) +
             10;
    }
    case Kind::kHartmann3:
      return hartmann(kHartmann3A, kHartmann3P, x);
    case Kind::kHartmann6:
      return hartmann(kHartmann6A, kHartmann6P, x);
    case Kind::kAckley: {
      // -a exp(-b sqrt(mean x^2)) - exp(mean cos(c x)) + a + e
      const double mean_sq = x.squaredNorm() / d;
      const double mean_cos = (2 * kPi * x.array()).cos().sum() / d;
      return -20 * std::exp(-0.2 * std::sqrt(mean_sq)) - std::exp(mean_cos) + 20 + kE;
    }
    case Kind::kLevy: {
      // w = 1 + (x - 1)/4; sin^2(pi w1) + sum_{i<d} (wi-1)^2 (1 + 10 sin^2(pi wi + 1))
      //                   + (wd-1)^2 (1 + sin^2(2 pi wd))
      const Eigen::ArrayXd w = 1.0 + (x.array() - 1.0) / 4.0;
      double f = std::pow(std::sin(kPi * w[0]), 2);
      for (int i = 0; i + 1 < d; ++i)
        f += std::pow(w[i] - 1, 2) * (1 + 10 * std::pow(std::sin(kPi * w[i] + 1), 2));
      return f + std::pow(w[d - 1] - 1, 2) * (1 + std::pow(std::sin(2 * kPi * w[d - 1]), 2));
    }
    case Kind::kRosenbrock: {
      // sum_{i<d} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
      double f = 0.0;
      for (int i = 0; i + 1 < d; ++i)
        f += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1 - x[i], 2);
      return f;
    }
    case Kind::kStyblinskiTang: {
      // 0.5 sum x^4 - 16 x^2 + 5 x
      const Eigen::ArrayXd a = x.array();
      return 0.5 * (a.pow(4) - 16 * a.square() + 5 * a).sum();
    }
    case Kind::kMichalewicz: {
      // -sum_i sin(x_i) sin(i x_i^2 / pi)^(2m), m = 10
      double f = 0.0;
      for (int i = 0; i < d; ++i) f -= michalewicz_term(i + 1, x[i]);
      return f;
    }
    case Kind::kGriewank: {
      // sum x^2 / 4000 - prod cos(x_i / sqrt(i)) + 1
      double prod = 1.0;
      for (int i = 0; i < d; ++i) prod *= std::cos(x[i] / std::sqrt(i + 1.0));
      return x.squaredNorm() / 4000 - prod + 1;
    }
  }
  return 0.0;  // unreachable: every Kind is handled above
}

Space TestFunction::space() const { return box_space(lower_, upper_); }

Eigen::VectorXd TestFunction::to_vector(const Params& p) const {
  return box_point(p, dim(), "test function '" + name_ + "'");
}

}  // namespace gpbo
