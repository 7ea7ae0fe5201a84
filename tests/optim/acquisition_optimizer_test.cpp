// Tests of optimize_acquisition (src/optim/acquisition_optimizer.hpp): the candidates it returns
// are feasible, ordered, correctly scored, and the best one is the acquisition's maximum (checked
// against a dense grid scored with Backend::score).
#include "optim/acquisition_optimizer.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/space.hpp"
#include "numerics/lbfgsb.hpp"

namespace gpbo {
namespace {

constexpr double kTwoPi = 6.283185307179586;

// Scores the rows of X with the backend (the reference the optimizer must match).
Eigen::VectorXd score(const GaussianProcess& gp, const AcquisitionParams& acq,
                      const Eigen::MatrixXd& X) {
  Eigen::VectorXd v;
  gp.backend().score(gp.factor(), acq, X, &v, nullptr);
  return v;
}

// Acquisition parameters whose incumbent is the best standardized observation.
AcquisitionParams params_for(const GaussianProcess& gp, const Eigen::VectorXd& y,
                             AcquisitionType type) {
  AcquisitionParams acq;
  acq.type = type;
  acq.beta = 4.0;
  acq.best_f = (y.maxCoeff() - gp.y_mean()) / gp.y_scale();
  return acq;
}

// Observed points sorted by decreasing y (the anchors Study passes).
Eigen::MatrixXd anchors_for(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, int k) {
  std::vector<Eigen::Index> order(X.rows());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return y(a) > y(b); });
  k = std::min<int>(k, static_cast<int>(X.rows()));
  Eigen::MatrixXd A(k, X.cols());
  for (int i = 0; i < k; ++i) A.row(i) = X.row(order[i]);
  return A;
}

double tolerance(double v) { return 1e-6 * std::max(1.0, std::abs(v)); }

// Checks shape, bounds, finiteness, and that `values` are the backend's scores of the rows.
void expect_well_formed(const AcquisitionCandidates& c, const GaussianProcess& gp,
                        const AcquisitionParams& acq, int D) {
  ASSERT_GT(c.X.rows(), 0);
  ASSERT_EQ(c.X.cols(), D);
  ASSERT_EQ(c.values.size(), c.X.rows());
  EXPECT_TRUE(c.X.allFinite());
  EXPECT_TRUE(c.values.allFinite());
  EXPECT_GE(c.X.minCoeff(), 0.0);
  EXPECT_LE(c.X.maxCoeff(), 1.0);
  const Eigen::VectorXd rescored = score(gp, acq, c.X);
  for (Eigen::Index i = 0; i < c.values.size(); ++i) {
    EXPECT_NEAR(c.values(i), rescored(i), tolerance(rescored(i))) << "candidate " << i;
  }
}

// The documented contract: candidates sorted by decreasing acquisition value.
void expect_sorted(const AcquisitionCandidates& c) {
  for (Eigen::Index i = 1; i < c.values.size(); ++i) {
    EXPECT_GE(c.values(i - 1), c.values(i))
        << "candidates " << i - 1 << " and " << i << " are out of order";
  }
}

// The refined block (first `restarts` rows) alone is sorted.
void expect_refined_block_sorted(const AcquisitionCandidates& c, int restarts) {
  for (int i = 1; i < std::min<int>(restarts, static_cast<int>(c.values.size())); ++i) {
    EXPECT_GE(c.values(i - 1), c.values(i)) << "refined candidates " << i - 1 << ", " << i;
  }
}

// A 1-d GP with fixed hyperparameters conditioned on a wiggly function at a few points.
struct OneDimProblem {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  GaussianProcess gp{GpOptions{}, Device::cpu()};
  Space space;

  OneDimProblem() {
    const std::vector<double> xs = {0.05, 0.22, 0.4, 0.63, 0.81, 0.97};
    X.resize(static_cast<Eigen::Index>(xs.size()), 1);
    y.resize(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      X(i, 0) = xs[i];
      y(i) = std::sin(kTwoPi * 2.3 * xs[i]) + 0.4 * xs[i];
    }
    GpHyperparameters h;
    h.lengthscales = Eigen::VectorXd::Constant(1, 0.12);
    h.outputscale = 1.0;
    h.noise = 1e-6;
    h.mean = 0.0;
    gp.condition(X, y, h);
    space.add_float("x", 0.0, 1.0);
  }
};

class AcquisitionOptimizerOneDimTest : public ::testing::TestWithParam<AcquisitionType> {};

TEST_P(AcquisitionOptimizerOneDimTest, FindsTheMaximumOfADenseGrid) {
  OneDimProblem p;
  const AcquisitionParams acq = params_for(p.gp, p.y, GetParam());
  AcquisitionOptimizerOptions options;
  std::mt19937_64 rng(3);
  const AcquisitionCandidates c = optimize_acquisition(p.gp.backend(), p.gp.factor(), acq, p.space,
                                                       anchors_for(p.X, p.y, 5), options, rng);
  expect_well_formed(c, p.gp, acq, 1);
  expect_refined_block_sorted(c, options.restarts);

  constexpr int kGrid = 2001;
  Eigen::MatrixXd G(kGrid, 1);
  for (int i = 0; i < kGrid; ++i) G(i, 0) = static_cast<double>(i) / (kGrid - 1);
  const Eigen::VectorXd g = score(p.gp, acq, G);
  Eigen::Index arg;
  const double grid_max = g.maxCoeff(&arg);
  const double best = c.values.maxCoeff();
  EXPECT_EQ(best, c.values(0)) << "the first candidate is not the best one";
  EXPECT_GE(c.values(0), grid_max - tolerance(grid_max))
      << to_string(GetParam()) << ": optimizer found " << c.values(0) << " at x = " << c.X(0, 0)
      << ", the grid " << grid_max << " at x = " << G(arg, 0);
  // The maximizer is where the grid says it is (the grid spacing is 5e-4; allow a few cells, as
  // the acquisition may be flat near its top).
  EXPECT_NEAR(c.X(0, 0), G(arg, 0), 0.01) << to_string(GetParam());
}

INSTANTIATE_TEST_SUITE_P(AcquisitionOptimizerAll, AcquisitionOptimizerOneDimTest,
                         ::testing::Values(AcquisitionType::kLogEI, AcquisitionType::kEI,
                                           AcquisitionType::kUCB, AcquisitionType::kPI),
                         [](const ::testing::TestParamInfo<AcquisitionType>& info) {
                           return to_string(info.param);
                         });

TEST(AcquisitionOptimizerTest, TwoDimFitGpFindsTheMaximumOfADenseGrid) {
  // GP fitted by MAP on 14 scattered points of a 2-d function with several bumps.
  std::mt19937_64 gen(17);
  std::uniform_real_distribution<double> unif;
  Eigen::MatrixXd X(14, 2);
  Eigen::VectorXd y(14);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    X(i, 0) = unif(gen);
    X(i, 1) = unif(gen);
    y(i) = std::sin(5.0 * X(i, 0)) * std::cos(4.0 * X(i, 1)) - 0.5 * X(i, 0) * X(i, 1);
  }
  GaussianProcess gp(GpOptions{}, Device::cpu());
  gp.fit(X, y, 5);
  Space space;
  space.add_float("a", 0.0, 1.0).add_float("b", -3.0, 3.0);
  const AcquisitionParams acq = params_for(gp, y, AcquisitionType::kLogEI);
  AcquisitionOptimizerOptions options;
  std::mt19937_64 rng(8);
  const AcquisitionCandidates c = optimize_acquisition(gp.backend(), gp.factor(), acq, space,
                                                       anchors_for(X, y, 5), options, rng);
  expect_well_formed(c, gp, acq, 2);
  expect_refined_block_sorted(c, options.restarts);

  constexpr int kGrid = 201;
  Eigen::MatrixXd G(kGrid * kGrid, 2);
  for (int i = 0; i < kGrid; ++i) {
    for (int j = 0; j < kGrid; ++j) {
      G(i * kGrid + j, 0) = static_cast<double>(i) / (kGrid - 1);
      G(i * kGrid + j, 1) = static_cast<double>(j) / (kGrid - 1);
    }
  }
  const double grid_max = score(gp, acq, G).maxCoeff();
  EXPECT_GE(c.values.maxCoeff(), grid_max - tolerance(grid_max));
  EXPECT_GE(c.values(0), grid_max - tolerance(grid_max))
      << "best candidate " << c.values(0) << " at (" << c.X(0, 0) << ", " << c.X(0, 1)
      << "), grid maximum " << grid_max;
}

// A mixed space: float x, int k in [0, 3], categorical c in {a, b, c} (encoded D = 5).
struct MixedProblem {
  Space space;
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  GaussianProcess gp{GpOptions{}, Device::cpu()};

  static double f(const Params& p) {
    const double x = std::get<double>(p.at("x"));
    const auto k = std::get<std::int64_t>(p.at("k"));
    const std::string& c = std::get<std::string>(p.at("c"));
    const double shift = c == "a" ? 0.0 : c == "b" ? 0.7 : -0.3;
    return std::sin(6.0 * x + k) + shift - 0.1 * (k - 2) * (k - 2);
  }

  MixedProblem() {
    space.add_float("x", -2.0, 2.0).add_int("k", 0, 3).add_categorical("c", {"a", "b", "c"});
    std::mt19937_64 gen(21);
    std::uniform_real_distribution<double> unif;
    const int n = 12;
    X.resize(n, space.encoded_dim());
    y.resize(n);
    for (int i = 0; i < n; ++i) {
      Eigen::VectorXd u(space.encoded_dim());
      for (Eigen::Index j = 0; j < u.size(); ++j) u(j) = unif(gen);
      const Params p = space.decode(u);
      X.row(i) = space.encode(p).transpose();
      y(i) = f(p);
    }
    gp.fit(X, y, 2);
  }
};

// Every row's discrete coordinates are exact feasible encodings (snap leaves them unchanged, and
// the row decodes to a valid point that encodes back to the same vector).
void expect_feasible(const Space& space, const Eigen::MatrixXd& X) {
  const std::vector<bool>& discrete = space.discrete_mask();
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    Eigen::VectorXd u = X.row(i).transpose();
    Eigen::VectorXd snapped = u;
    space.snap(snapped);
    for (Eigen::Index j = 0; j < u.size(); ++j) {
      if (discrete[j]) {
        EXPECT_EQ(u(j), snapped(j)) << "row " << i << ", discrete dim " << j << " is infeasible";
      } else {
        EXPECT_EQ(u(j), snapped(j)) << "row " << i << ", float dim " << j << " outside [0, 1]";
      }
    }
    const Params p = space.decode(u);
    EXPECT_NO_THROW(space.validate(p));
    const Eigen::VectorXd back = space.encode(p);
    for (Eigen::Index j = 0; j < u.size(); ++j) {
      if (discrete[j]) {
        EXPECT_EQ(back(j), u(j)) << "row " << i << ", dim " << j;
      } else {
        EXPECT_NEAR(back(j), u(j), 1e-12) << "row " << i << ", dim " << j;
      }
    }
  }
}

TEST(AcquisitionOptimizerTest, MixedSpaceCandidatesAreFeasibleAndBestMatchesEnumeration) {
  MixedProblem p;
  const int D = p.space.encoded_dim();
  ASSERT_EQ(D, 5);
  const AcquisitionParams acq = params_for(p.gp, p.y, AcquisitionType::kLogEI);
  AcquisitionOptimizerOptions options;
  std::mt19937_64 rng(4);
  const AcquisitionCandidates c = optimize_acquisition(p.gp.backend(), p.gp.factor(), acq, p.space,
                                                       anchors_for(p.X, p.y, 5), options, rng);
  expect_well_formed(c, p.gp, acq, D);
  expect_refined_block_sorted(c, options.restarts);
  expect_feasible(p.space, c.X);

  // Enumerate the discrete combinations, with a 1001-point grid on the float.
  constexpr int kGrid = 1001;
  Eigen::MatrixXd G(kGrid * 4 * 3, D);
  Eigen::Index r = 0;
  for (std::int64_t k = 0; k <= 3; ++k) {
    for (const char* cat : {"a", "b", "c"}) {
      for (int i = 0; i < kGrid; ++i) {
        Params q{{"x", -2.0 + 4.0 * i / (kGrid - 1)}, {"k", k}, {"c", std::string(cat)}};
        G.row(r++) = p.space.encode(q).transpose();
      }
    }
  }
  const double grid_max = score(p.gp, acq, G).maxCoeff();
  EXPECT_GE(c.values(0), grid_max - tolerance(grid_max))
      << "best candidate " << c.values(0) << ", enumerated maximum " << grid_max;
}

TEST(AcquisitionOptimizerTest, RefinementKeepsDiscreteDimsAtTheirStartingValues) {
  // With refinement on and off from the same random state, the raw candidates are the same; the
  // refined rows may move only their float coordinate, and never lose acquisition value.
  MixedProblem p;
  const AcquisitionParams acq = params_for(p.gp, p.y, AcquisitionType::kLogEI);
  const Eigen::MatrixXd anchors = anchors_for(p.X, p.y, 5);
  AcquisitionOptimizerOptions refine, no_refine;
  no_refine.refine_iterations = 0;
  std::mt19937_64 rng_a(99), rng_b(99);
  const AcquisitionCandidates a =
      optimize_acquisition(p.gp.backend(), p.gp.factor(), acq, p.space, anchors, refine, rng_a);
  const AcquisitionCandidates b =
      optimize_acquisition(p.gp.backend(), p.gp.factor(), acq, p.space, anchors, no_refine, rng_b);
  ASSERT_EQ(a.X.rows(), b.X.rows());
  const int R = refine.restarts;
  // Without refinement the first rows are the best raw candidates: the starting points.
  expect_feasible(p.space, a.X);
  expect_feasible(p.space, b.X);
  EXPECT_GE(a.values(0), b.values(0) - tolerance(b.values(0)));
  // Every row of the refined list is either a raw candidate (also in b) or a refined start that
  // kept the discrete coordinates of one of the R starting rows.
  const std::vector<bool>& discrete = p.space.discrete_mask();
  for (Eigen::Index i = 0; i < a.X.rows(); ++i) {
    bool raw = false;
    for (Eigen::Index j = 0; j < b.X.rows() && !raw; ++j) raw = a.X.row(i) == b.X.row(j);
    if (raw) continue;
    bool matched = false;
    for (int j = 0; j < R && !matched; ++j) {
      bool same = true;
      for (Eigen::Index d = 0; d < a.X.cols(); ++d) {
        if (discrete[d] && a.X(i, d) != b.X(j, d)) same = false;
      }
      matched = same;
    }
    EXPECT_TRUE(matched) << "row " << i << " is neither raw nor a refined start";
  }
}

// Regression: refined restarts and raw fallbacks used to come back as two separately sorted
// blocks, so a refined point stuck in a worse discrete cell could rank above a better raw one.
TEST(AcquisitionOptimizerTest, CandidatesAreSortedByDecreasingValue) {
  OneDimProblem one;
  MixedProblem mixed;
  for (AcquisitionType type : {AcquisitionType::kLogEI, AcquisitionType::kUCB}) {
    for (std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
      {
        const AcquisitionParams acq = params_for(one.gp, one.y, type);
        std::mt19937_64 rng(seed);
        const AcquisitionCandidates c =
            optimize_acquisition(one.gp.backend(), one.gp.factor(), acq, one.space,
                                 anchors_for(one.X, one.y, 5), AcquisitionOptimizerOptions{}, rng);
        SCOPED_TRACE("1-d, " + to_string(type) + ", seed " + std::to_string(seed));
        expect_sorted(c);
      }
      {
        const AcquisitionParams acq = params_for(mixed.gp, mixed.y, type);
        std::mt19937_64 rng(seed);
        const AcquisitionCandidates c = optimize_acquisition(
            mixed.gp.backend(), mixed.gp.factor(), acq, mixed.space,
            anchors_for(mixed.X, mixed.y, 5), AcquisitionOptimizerOptions{}, rng);
        SCOPED_TRACE("mixed, " + to_string(type) + ", seed " + std::to_string(seed));
        expect_sorted(c);
      }
    }
  }
}

TEST(AcquisitionOptimizerTest, AllDiscreteSpaceReturnsTheBestFeasiblePoint) {
  // 3 x 4 = 12 points: the raw Sobol samples cover them all, so the best candidate is the exact
  // maximum over the enumeration.
  Space space;
  space.add_int("n", 1, 3).add_categorical("opt", {"sgd", "adam", "rmsprop", "lamb"});
  const int D = space.encoded_dim();
  std::vector<Params> all;
  for (std::int64_t n = 1; n <= 3; ++n) {
    for (const char* o : {"sgd", "adam", "rmsprop", "lamb"}) {
      all.push_back(Params{{"n", n}, {"opt", std::string(o)}});
    }
  }
  Eigen::MatrixXd X(5, D);
  Eigen::VectorXd y(5);
  const int observed[5] = {0, 3, 5, 8, 10};
  for (int i = 0; i < 5; ++i) {
    X.row(i) = space.encode(all[observed[i]]).transpose();
    y(i) = std::cos(1.3 * observed[i]);
  }
  GaussianProcess gp(GpOptions{}, Device::cpu());
  gp.fit(X, y, 1);
  const AcquisitionParams acq = params_for(gp, y, AcquisitionType::kLogEI);
  std::mt19937_64 rng(6);
  const AcquisitionCandidates c =
      optimize_acquisition(gp.backend(), gp.factor(), acq, space, anchors_for(X, y, 5),
                           AcquisitionOptimizerOptions{}, rng);
  expect_well_formed(c, gp, acq, D);
  expect_feasible(space, c.X);
  Eigen::MatrixXd E(static_cast<Eigen::Index>(all.size()), D);
  for (std::size_t i = 0; i < all.size(); ++i) E.row(i) = space.encode(all[i]).transpose();
  const double enum_max = score(gp, acq, E).maxCoeff();
  EXPECT_DOUBLE_EQ(c.values(0), enum_max);
}

TEST(AcquisitionOptimizerTest, ZeroRestartsReturnsOnlyRawCandidates) {
  OneDimProblem p;
  const AcquisitionParams acq = params_for(p.gp, p.y, AcquisitionType::kLogEI);
  AcquisitionOptimizerOptions options;
  options.restarts = 0;
  std::mt19937_64 rng(10);
  const AcquisitionCandidates c = optimize_acquisition(p.gp.backend(), p.gp.factor(), acq, p.space,
                                                       anchors_for(p.X, p.y, 5), options, rng);
  expect_well_formed(c, p.gp, acq, 1);
  expect_sorted(c);  // a single block of raw candidates
}

TEST(AcquisitionOptimizerTest, WorksWithoutAnchors) {
  OneDimProblem p;
  const AcquisitionParams acq = params_for(p.gp, p.y, AcquisitionType::kEI);
  std::mt19937_64 rng(12);
  const AcquisitionCandidates c =
      optimize_acquisition(p.gp.backend(), p.gp.factor(), acq, p.space, Eigen::MatrixXd(0, 1),
                           AcquisitionOptimizerOptions{}, rng);
  expect_well_formed(c, p.gp, acq, 1);
}

// Backend::top_k's CPU default: the k best rows by score, best first, ties in row order, over
// more rows than one scoring chunk.
TEST(BackendTopK, MatchesAStableSortOfTheScores) {
  OneDimProblem p;
  const AcquisitionParams acq = params_for(p.gp, p.y, AcquisitionType::kLogEI);
  const Eigen::Index m = 9000;
  Eigen::MatrixXd Xc(m, 1);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  for (Eigen::Index i = 0; i < m; ++i) Xc(i, 0) = unif(rng);
  // Copies of one point far apart in the list: equal values must come out in row order.
  Xc.row(8500) = Xc.row(17);
  Xc.row(6000) = Xc.row(17);
  const Eigen::VectorXd all = score(p.gp, acq, Xc);
  std::vector<Eigen::Index> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return all(a) > all(b); });
  for (int k : {0, 1, 7, 500}) {
    Eigen::VectorXd values;
    const std::vector<Eigen::Index> top = p.gp.backend().top_k(p.gp.factor(), acq, Xc, k, &values);
    ASSERT_EQ(top.size(), static_cast<std::size_t>(k));
    ASSERT_EQ(values.size(), k);
    for (int i = 0; i < k; ++i) {
      EXPECT_EQ(top[i], order[i]) << "rank " << i << " of k = " << k;
      EXPECT_DOUBLE_EQ(values(i), all(order[i]));
    }
  }
  // The tied copies, wherever they rank, keep their row order.
  const std::vector<Eigen::Index> every = p.gp.backend().top_k(p.gp.factor(), acq, Xc, m, nullptr);
  const auto pos = [&](Eigen::Index r) { return std::find(every.begin(), every.end(), r); };
  EXPECT_LT(pos(17), pos(6000));
  EXPECT_LT(pos(6000), pos(8500));
  // k beyond m returns every row.
  EXPECT_EQ(p.gp.backend().top_k(p.gp.factor(), acq, Xc.topRows(10), 50, nullptr).size(), 10u);
}

// A backend that forwards to the CPU's and records how the optimizer used it.
class RecordingBackend final : public Backend {
 public:
  explicit RecordingBackend(const Backend& inner) : inner_(inner) {}
  Device device() const override { return inner_.device(); }
  MemoryNeed memory_need(Eigen::Index n) const override { return inner_.memory_need(n); }
  std::unique_ptr<LikelihoodScratch> likelihood_scratch() const override {
    return inner_.likelihood_scratch();
  }
  using Backend::log_marginal_likelihood;
  double log_marginal_likelihood(KernelType kernel, const GpHyperparameters& h,
                                 const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                 Eigen::VectorXd* grad, LikelihoodScratch* scratch) const override {
    return inner_.log_marginal_likelihood(kernel, h, X, y, grad, scratch);
  }
  std::unique_ptr<PosteriorFactor> factor(KernelType kernel, const GpHyperparameters& h,
                                          const Eigen::MatrixXd& X,
                                          const Eigen::VectorXd& y) const override {
    return inner_.factor(kernel, h, X, y);
  }
  Eigen::MatrixXd cholesky(const Eigen::MatrixXd& S, double* jitter) const override {
    return inner_.cholesky(S, jitter);
  }
  void score(const PosteriorFactor& f, const AcquisitionParams& acq, const Eigen::MatrixXd& Xc,
             Eigen::VectorXd* values, Eigen::MatrixXd* grad) const override {
    max_score_rows = std::max<Eigen::Index>(max_score_rows, Xc.rows());
    inner_.score(f, acq, Xc, values, grad);
  }
  std::vector<Eigen::Index> top_k(const PosteriorFactor& f, const AcquisitionParams& acq,
                                  const Eigen::MatrixXd& Xc, int k,
                                  Eigen::VectorXd* values) const override {
    top_k_calls.push_back({Xc.rows(), k});
    return inner_.top_k(f, acq, Xc, k, values);
  }
  mutable std::vector<std::pair<Eigen::Index, int>> top_k_calls;  // (rows, k)
  mutable Eigen::Index max_score_rows = 0;

 private:
  const Backend& inner_;
};

// The raw candidates are ranked by the backend's top_k (on a GPU only the winners come back),
// never scored whole through score(): only the refined points and L-BFGS-B's steps are.
TEST(AcquisitionOptimizerTest, RanksRawCandidatesWithTheBackendsTopK) {
  MixedProblem p;
  const AcquisitionParams acq = params_for(p.gp, p.y, AcquisitionType::kLogEI);
  const Eigen::MatrixXd anchors = anchors_for(p.X, p.y, 5);
  const AcquisitionOptimizerOptions options;
  const RecordingBackend recorder(p.gp.backend());
  std::mt19937_64 rng_a(41), rng_b(41);
  const AcquisitionCandidates a =
      optimize_acquisition(recorder, p.gp.factor(), acq, p.space, anchors, options, rng_a);
  const Eigen::Index n_raw =
      options.raw_samples + options.anchors * options.perturbations_per_anchor;
  ASSERT_EQ(recorder.top_k_calls.size(), 1u);
  EXPECT_EQ(recorder.top_k_calls[0].first, n_raw);
  EXPECT_EQ(recorder.top_k_calls[0].second, 4 * options.restarts + 16);
  EXPECT_LE(recorder.max_score_rows, options.restarts);
  // Same answer as through the plain CPU backend.
  const AcquisitionCandidates b =
      optimize_acquisition(p.gp.backend(), p.gp.factor(), acq, p.space, anchors, options, rng_b);
  EXPECT_EQ(a.X, b.X);
  EXPECT_EQ(a.values, b.values);
  expect_sorted(a);
}

TEST(AcquisitionOptimizerTest, SameRandomStateGivesIdenticalCandidates) {
  MixedProblem p;
  const AcquisitionParams acq = params_for(p.gp, p.y, AcquisitionType::kLogEI);
  const Eigen::MatrixXd anchors = anchors_for(p.X, p.y, 5);
  std::mt19937_64 rng_a(31), rng_b(31);
  const AcquisitionCandidates a = optimize_acquisition(
      p.gp.backend(), p.gp.factor(), acq, p.space, anchors, AcquisitionOptimizerOptions{}, rng_a);
  const AcquisitionCandidates b = optimize_acquisition(
      p.gp.backend(), p.gp.factor(), acq, p.space, anchors, AcquisitionOptimizerOptions{}, rng_b);
  EXPECT_EQ(a.X, b.X);
  EXPECT_EQ(a.values, b.values);
}

}  // namespace
}  // namespace gpbo

// minimize_in_box keeps its best point when LBFGS++ gives up, but an error thrown by the
// objective itself (a failed device, say) is the caller's: it must come through.
TEST(MinimizeInBox, ObjectiveErrorsPropagateAndSolverFailuresDoNot) {
  int calls = 0;
  const gpbo::BoxObjective failing_device = [&](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    if (++calls == 3) throw gpbo::BackendUnavailable("device lost");
    g = 2.0 * (x.array() - 0.3).matrix();
    return (x.array() - 0.3).square().sum();
  };
  const Eigen::VectorXd lb = Eigen::VectorXd::Zero(2), ub = Eigen::VectorXd::Ones(2);
  EXPECT_THROW(gpbo::minimize_in_box(failing_device, Eigen::VectorXd::Constant(2, 0.9), lb, ub),
               gpbo::BackendUnavailable);
  // A non-smooth objective whose line search fails: the best point seen comes back.
  const gpbo::BoxObjective kink = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    g = Eigen::VectorXd::Constant(x.size(), 1.0);  // a wrong gradient: the search gives up
    return (x.array() - 0.5).abs().sum();
  };
  const gpbo::BoxResult r = gpbo::minimize_in_box(kink, Eigen::VectorXd::Constant(2, 0.9), lb, ub);
  EXPECT_TRUE(std::isfinite(r.value));
  EXPECT_LE(r.value, 0.8 + 1e-12);  // no worse than the start
}
