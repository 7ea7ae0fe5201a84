// Warm starts from earlier studies: matching a source to a new space by name (shared, added,
// removed, renamed, re-bounded parameters, changed kinds), the transferred prior (a stack of
// residual GPs) against a cold GP, negative transfer, and a warm-started stored study that keeps
// its sources across restarts of its store.
#include "engine/warm_start.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "codec/warm_start_json.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/storage.hpp"
#include "gpbo/study.hpp"
#include "model/prior_mean.hpp"
#include "storage/temp_dir.hpp"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using gpbo::Direction;
using gpbo::InvalidArgument;
using gpbo::Params;
using gpbo::Space;
using gpbo::Study;
using gpbo::StudyOptions;
using gpbo::WarmStartSource;

/// A smooth 2-d function of the unit square with its minimum near (0.7, 0.3).
double bowl(double x, double y) {
  return std::pow(x - 0.7, 2) + 2.0 * std::pow(y - 0.3, 2) + 0.3 * std::sin(6.0 * x);
}

/// `n` observations of `f` on a grid-like Sobol-free lattice of [0,1]^2 as params {x, y}.
WarmStartSource source_of(const std::string& name, int n, double (*f)(double, double),
                          double sign = 1.0) {
  WarmStartSource s;
  s.study = name;
  s.direction = Direction::kMinimize;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < n; ++i) {
    const double x = u(rng), y = u(rng);
    s.observations.push_back({Params{{"x", x}, {"y", y}}, sign * f(x, y)});
  }
  return s;
}

Space unit_square() {
  Space s;
  s.add_float("x", 0.0, 1.0).add_float("y", 0.0, 1.0);
  return s;
}

TEST(WarmStartMatch, SharedAddedAndRemovedParametersByName) {
  WarmStartSource src;
  src.study = "old";
  src.observations.push_back({Params{{"x", 0.25}, {"y", 0.5}, {"old", std::int64_t{3}}}, 1.0});
  Space space;
  space.add_float("x", 0.0, 1.0).add_float("new", -1.0, 1.0).add_float("y", 0.0, 1.0);
  const gpbo::MatchedSource m = gpbo::match_source(space, src);
  EXPECT_EQ(m.shared, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(m.added, (std::vector<std::string>{"new"}));
  EXPECT_EQ(m.dropped, (std::vector<std::string>{"old"}));
  EXPECT_EQ(m.columns, (std::vector<int>{0, 2}));
  ASSERT_EQ(m.X.rows(), 1);
  EXPECT_NEAR(m.X(0, 0), 0.25, 1e-12);
  EXPECT_NEAR(m.X(0, 1), 0.5, 1e-12);  // the added parameter sits at the centre
  EXPECT_NEAR(m.X(0, 2), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(m.y(0), -1.0);  // a minimizing source, maximized internally
}

TEST(WarmStartMatch, RenamedIsRemovedPlusAdded) {
  WarmStartSource src;
  src.study = "old";
  src.observations.push_back({Params{{"x", 0.5}, {"lr", 0.01}}, 2.0});
  Space space;
  space.add_float("x", 0.0, 1.0).add_float("learning_rate", 1e-4, 1.0, true);
  const gpbo::MatchedSource m = gpbo::match_source(space, src);
  EXPECT_EQ(m.shared, (std::vector<std::string>{"x"}));
  EXPECT_EQ(m.added, (std::vector<std::string>{"learning_rate"}));
  EXPECT_EQ(m.dropped, (std::vector<std::string>{"lr"}));
  EXPECT_EQ(m.columns, (std::vector<int>{0}));
}

TEST(WarmStartMatch, ReboundedParametersDropPointsOutsideAndEncodeInTheNewBounds) {
  WarmStartSource src;
  src.study = "old";
  for (double x : {1.0, 2.5, 4.0, 7.0, 9.0}) {
    src.observations.push_back({Params{{"k", std::int64_t{3}}, {"x", x}}, x});
  }
  src.observations.push_back({Params{{"k", std::int64_t{12}}, {"x", 1.0}}, 0.0});
  src.observations.push_back({Params{{"x", 1.0}}, 0.0});  // lacks k: dropped
  Space space;
  space.add_float("x", 0.0, 5.0).add_int("k", 0, 10);
  const gpbo::MatchedSource m = gpbo::match_source(space, src);
  // x = 7 and 9 lie outside [0, 5]; k = 12 outside [0, 10]; one lacks k; the rest kept.
  EXPECT_EQ(m.outside, 4u);
  ASSERT_EQ(m.X.rows(), 3);
  EXPECT_NEAR(m.X(0, 0), 0.2, 1e-12);
  EXPECT_NEAR(m.X(1, 0), 0.5, 1e-12);
  EXPECT_NEAR(m.X(2, 0), 0.8, 1e-12);
}

TEST(WarmStartMatch, ChangedKindCountsAsRemovedAndAdded) {
  WarmStartSource src;
  src.study = "old";
  src.observations.push_back({Params{{"x", 0.5}, {"opt", 1.0}, {"act", "relu"}}, 1.0});
  src.observations.push_back({Params{{"x", 0.5}, {"opt", 2.0}, {"act", "gelu"}}, 2.0});
  Space space;
  space.add_float("x", 0.0, 1.0)
      .add_categorical("opt", {"adam", "sgd"})
      .add_categorical("act", {"relu", "tanh"});
  const gpbo::MatchedSource m = gpbo::match_source(space, src);
  EXPECT_EQ(m.shared, (std::vector<std::string>{"x", "act"}));
  EXPECT_EQ(m.added, (std::vector<std::string>{"opt"}));
  EXPECT_EQ(m.dropped, (std::vector<std::string>{"opt"}));
  EXPECT_EQ(m.outside, 1u);  // "gelu" is not a choice any more
  ASSERT_EQ(m.X.rows(), 1);
}

TEST(WarmStartMatch, RefusesSourcesThatMatchNothing) {
  WarmStartSource src;
  src.study = "old";
  src.observations.push_back({Params{{"a", 0.5}}, 1.0});
  try {
    gpbo::match_source(unit_square(), src);
    FAIL() << "no shared parameter must be refused";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("no parameter of the source matches"), std::string::npos)
        << e.what();
  }
  WarmStartSource empty;
  empty.study = "empty";
  EXPECT_THROW(gpbo::match_source(unit_square(), empty), InvalidArgument);
  WarmStartSource outside;
  outside.study = "outside";
  outside.observations.push_back({Params{{"x", 3.0}}, 1.0});
  EXPECT_THROW(gpbo::match_source(unit_square(), outside), InvalidArgument);
  const WarmStartSource good = source_of("dup", 5, bowl);
  EXPECT_THROW(gpbo::check_warm_start(unit_square(), {good, good}), InvalidArgument);
}

TEST(WarmStartStudy, RefusesAfterTrialsAndWithConstraints) {
  Study s(unit_square());
  s.ask();
  EXPECT_THROW(s.warm_start_from({source_of("a", 5, bowl)}), InvalidArgument);
  StudyOptions o;
  o.metrics.objectives.push_back({"loss", Direction::kMinimize, std::nullopt});
  o.metrics.constraints.push_back({"mem", gpbo::Bound::kAtMost, 1.0});
  Study constrained(unit_square(), o);
  EXPECT_THROW(constrained.warm_start_from({source_of("a", 5, bowl)}), InvalidArgument);
}

/// RMSE of a posterior mean (standardized units mapped back by `mean`, `scale`) against bowl.
double rmse(const gpbo::PosteriorFactor& f, double mean, double scale) {
  MatrixXd grid(121, 2);
  for (int i = 0; i < 11; ++i)
    for (int j = 0; j < 11; ++j) grid.row(i * 11 + j) << i / 10.0, j / 10.0;
  VectorXd mu;
  f.predict(grid, &mu, nullptr);
  double ss = 0.0;
  for (int r = 0; r < grid.rows(); ++r) {
    // Internally maximized: the model predicts -bowl.
    const double e = (mu(r) * scale + mean) + bowl(grid(r, 0), grid(r, 1));
    ss += e * e;
  }
  return std::sqrt(ss / grid.rows());
}

/// A cold GP and a warm one (the prior of `source`) on the same 4 observations of bowl.
void cold_and_warm(const WarmStartSource& source, double* cold_rmse, double* warm_rmse,
                   double* weight) {
  const Space space = unit_square();
  const gpbo::MatchedSource m = gpbo::match_source(space, source);
  auto prior = std::make_shared<gpbo::StackedPrior>(gpbo::GpOptions{}, gpbo::Device::cpu(),
                                                    gpbo::ScorePrecision::kDouble);
  prior->add_level(m.X, m.columns, m.y, 1, nullptr);
  MatrixXd X(4, 2);
  X << 0.1, 0.9, 0.5, 0.5, 0.8, 0.2, 0.3, 0.1;
  VectorXd y(4);
  for (int i = 0; i < 4; ++i) y(i) = -bowl(X(i, 0), X(i, 1));
  gpbo::GaussianProcess cold({}, gpbo::Device::cpu());
  cold.fit(X, y, 1);
  *cold_rmse = rmse(cold.factor(), cold.y_mean(), cold.y_scale());
  gpbo::GaussianProcess warm({}, gpbo::Device::cpu());
  VectorXd p;
  prior->predict(X, &p, nullptr);
  const gpbo::PriorFit f = gpbo::fit_on_prior(&warm, X, y, p, prior->top_sd(), 1, nullptr, nullptr);
  *weight = f.weight;
  const gpbo::PriorMeanFactor factor(warm.factor().clone(), prior, f.weight / warm.y_scale());
  *warm_rmse = rmse(factor, f.mu + f.sd * warm.y_mean(), f.sd * warm.y_scale());
}

TEST(WarmStartModel, TransferredPriorPredictsTheSourceFunctionBetterThanACold) {
  double cold = 0, warm = 0, weight = 0;
  cold_and_warm(source_of("same", 60, bowl), &cold, &warm, &weight);
  EXPECT_GT(weight, 0.5);
  EXPECT_LT(warm, 0.5 * cold) << "cold " << cold << ", warm " << warm;
}

TEST(WarmStartModel, NegatedSourceIsDroppedByTheMarginalLikelihood) {
  double cold = 0, warm = 0, weight = 0;
  cold_and_warm(source_of("negated", 60, bowl, -1.0), &cold, &warm, &weight);
  EXPECT_EQ(weight, 0.0);
  EXPECT_NEAR(warm, cold, 1e-6 + 1e-6 * cold);
}

TEST(WarmStartModel, PriorMeanAndVarianceGradientsMatchFiniteDifferences) {
  const Space space = unit_square();
  const gpbo::MatchedSource m = gpbo::match_source(space, source_of("same", 30, bowl));
  auto prior = std::make_shared<gpbo::StackedPrior>(gpbo::GpOptions{}, gpbo::Device::cpu(),
                                                    gpbo::ScorePrecision::kDouble);
  prior->add_level(m.X, m.columns, m.y, 1, nullptr);
  MatrixXd X(3, 2);
  X << 0.2, 0.4, 0.6, 0.7, 0.9, 0.1;
  gpbo::GaussianProcess gp({}, gpbo::Device::cpu());
  gp.fit(X, VectorXd::Zero(3) + VectorXd::LinSpaced(3, 0.0, 1.0), 1);
  const gpbo::PriorMeanFactor f(gp.factor().clone(), prior, 0.7);
  MatrixXd x(1, 2);
  x << 0.37, 0.61;
  VectorXd mu, var;
  MatrixXd dmu, dvar;
  f.predict(x, &mu, &var, &dmu, &dvar);
  // The variance is the inner factor's plus the prior's, and the covariance agrees with it.
  VectorXd inner_var;
  gp.factor().predict(x, nullptr, &inner_var);
  EXPECT_GT(var(0), inner_var(0));
  EXPECT_NEAR(f.covariance(x, x)(0, 0), var(0), 1e-10);
  for (int j = 0; j < 2; ++j) {
    const double h = 1e-5;
    MatrixXd a = x, b = x;
    a(0, j) += h;
    b(0, j) -= h;
    VectorXd ma, mb, va, vb;
    f.predict(a, &ma, &va);
    f.predict(b, &mb, &vb);
    EXPECT_NEAR(dmu(0, j), (ma(0) - mb(0)) / (2 * h), 1e-5 * std::max(1.0, std::abs(dmu(0, j))));
    EXPECT_NEAR(dvar(0, j), (va(0) - vb(0)) / (2 * h), 1e-5 * std::max(1.0, std::abs(dvar(0, j))));
  }
}

TEST(WarmStartStudy, StartsAtTheSourcesBestAndBeatsAColdStart) {
  const WarmStartSource src = source_of("same", 40, bowl);
  StudyOptions o;
  o.seed = 3;
  o.device = gpbo::Device::cpu();
  Study warm(unit_square(), o), cold(unit_square(), o);
  warm.warm_start_from({src});
  EXPECT_EQ(warm.n_initial(), 3);
  std::size_t best = 0;
  for (std::size_t i = 1; i < src.observations.size(); ++i) {
    if (src.observations[i].value < src.observations[best].value) best = i;
  }
  for (int i = 0; i < 6; ++i) {
    for (Study* s : {&warm, &cold}) {
      const gpbo::Trial t = s->ask();
      s->tell(t.id, bowl(std::get<double>(t.params.at("x")), std::get<double>(t.params.at("y"))));
    }
  }
  EXPECT_NEAR(std::get<double>(warm.trial(0).params.at("x")),
              std::get<double>(src.observations[best].params.at("x")), 1e-9);
  EXPECT_GT(warm.transfer_weight(), 0.0);
  EXPECT_EQ(warm.prior_hyperparameters().size(), 1u);
  EXPECT_LT(*warm.best()->value, *cold.best()->value);
}

TEST(WarmStartStored, SurvivesRestartsAndTheSourcesDeletion) {
  gpbo::TempDir dir("gpbo-warm");
  const std::string url = "sqlite://" + (dir.path() / "s.db").string();
  StudyOptions o;
  o.device = gpbo::Device::cpu();
  {
    auto storage = std::shared_ptr<gpbo::Storage>(gpbo::Storage::open(url));
    auto src = gpbo::PersistentStudy::create(storage, "old", unit_square(), o);
    for (int i = 0; i < 12; ++i) {
      const gpbo::Trial t = src.ask().front();
      src.tell(t.id, bowl(std::get<double>(t.params.at("x")), std::get<double>(t.params.at("y"))));
    }
    EXPECT_THROW(gpbo::PersistentStudy::warm_start_source(*storage, "missing"), InvalidArgument);
    const WarmStartSource s = gpbo::PersistentStudy::warm_start_source(*storage, "old");
    EXPECT_EQ(s.observations.size(), 12u);
    EXPECT_THROW(gpbo::PersistentStudy::create(storage, "old2", unit_square(), o, {}, {s, s}),
                 InvalidArgument);
    WarmStartSource self = s;
    self.study = "new";
    EXPECT_THROW(gpbo::PersistentStudy::create(storage, "new", unit_square(), o, {}, {self}),
                 InvalidArgument);
    EXPECT_THROW(gpbo::PersistentStudy(storage, "new"), gpbo::NotFound);  // nothing written
    gpbo::PersistentStudy::create(storage, "new", unit_square(), o, {}, {s});
    storage->delete_study("old");
  }
  std::vector<double> firsts;
  for (int round = 0; round < 4; ++round) {  // a fresh process each round
    auto storage = std::shared_ptr<gpbo::Storage>(gpbo::Storage::open(url));
    gpbo::PersistentStudy study(storage, "new");
    const gpbo::Trial t = study.ask().front();
    study.tell(t.id, bowl(std::get<double>(t.params.at("x")), std::get<double>(t.params.at("y"))));
    firsts.push_back(std::get<double>(study.trial(0).params.at("x")));
    const nlohmann::json state = nlohmann::json::parse(study.info().state_json);
    ASSERT_TRUE(state.contains("warm_start"));
    EXPECT_EQ(state.at("warm_start").at(0).at("study"), "old");
    EXPECT_EQ(state.at("warm_start").at(0).at("observations").size(), 12u);
    if (round == 3) EXPECT_TRUE(state.contains("prior_hyper"));
    // The source's best point, the centre, one Sobol point, then the transferred model.
    EXPECT_EQ(t.source, round < 3 ? "initial" : "model");
    if (round == 3) EXPECT_GT(state.at("transfer_weight").get<double>(), 0.0);
  }
  EXPECT_EQ(firsts[0], firsts[3]);
}

TEST(WarmStartJson, ReadsAnExportedStudyAndRefusesMalformedSources) {
  const nlohmann::json exported = nlohmann::json::parse(R"({"study": "old", "trials": [
      {"id": 0, "state": "complete", "params": {"x": 0.5, "k": 2}, "value": 1.5},
      {"id": 1, "state": "failed", "params": {"x": 0.1, "k": 1}, "value": null},
      {"id": 2, "state": "running", "params": {"x": 0.2, "k": 1}, "value": null}]})");
  const WarmStartSource s =
      gpbo::warm_start_source_from_export(exported, Direction::kMaximize, "file:old.json");
  ASSERT_EQ(s.observations.size(), 1u);
  EXPECT_EQ(s.direction, Direction::kMaximize);
  EXPECT_EQ(std::get<std::int64_t>(s.observations[0].params.at("k")), 2);
  const WarmStartSource back =
      gpbo::warm_start_source_from_json(gpbo::warm_start_source_to_json(s));
  EXPECT_EQ(back.study, "file:old.json");
  EXPECT_EQ(back.observations.size(), 1u);
  EXPECT_THROW(
      gpbo::warm_start_source_from_export(nlohmann::json::array(), Direction::kMinimize, "x"),
      InvalidArgument);
  EXPECT_THROW(gpbo::warm_start_source_from_json(nlohmann::json::parse(R"({"study": "a"})")),
               InvalidArgument);
  EXPECT_THROW(gpbo::warm_start_source_from_json(nlohmann::json::parse(
                   R"({"study": "a", "observations": [{"params": {"x": 1}, "value": "no"}]})")),
               InvalidArgument);
}

}  // namespace
