// Studies with several metrics (StudyOptions::metrics): the tell rules of metric values, the
// best feasible trial, the Pareto front against brute force, the probability of feasibility
// against the GP's own marginal, the acquisition's gradient, batches that never exceed q nor
// repeat a point, the model beating Sobol points, and a stored study's round trip.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <vector>

#include "acquisition/pareto.hpp"
#include "engine/metric_model.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/storage.hpp"
#include "gpbo/study.hpp"
#include "gpbo/test_problems.hpp"
#include "numerics/sobol.hpp"
#include "optim/trust_region.hpp"

namespace gpbo {
namespace {

Space unit_square() {
  Space s;
  s.add_float("x", 0.0, 1.0).add_float("y", 0.0, 1.0);
  return s;
}

Metrics two_objectives_one_constraint() {
  Metrics m;
  m.objectives = {{"f1", Direction::kMinimize, std::nullopt},
                  {"f2", Direction::kMaximize, std::nullopt}};
  m.constraints = {{"c", Bound::kAtMost, 1.2}};
  return m;
}

MetricValues evaluate(const Params& p) {
  const double x = std::get<double>(p.at("x")), y = std::get<double>(p.at("y"));
  return {{"f1", x * x + y}, {"f2", 1.0 - (x - 1.0) * (x - 1.0) - 0.5 * y}, {"c", x + y}};
}

/// A cheaper acquisition search than the default: the logic under test is the same.
StudyOptions fast(Metrics metrics, std::uint64_t seed = 1) {
  StudyOptions o;
  o.seed = seed;
  o.metrics = std::move(metrics);
  o.optimizer.raw_samples = 256;
  o.optimizer.perturbations_per_anchor = 16;
  o.optimizer.anchors = 3;
  o.optimizer.restarts = 4;
  o.optimizer.refine_iterations = 30;
  return o;
}

// ---------------------------------------------------------------- tells

TEST(MetricsStudy, TellRulesOfMetricValues) {
  Study study(unit_square(), fast(two_objectives_one_constraint()));
  const Trial t = study.ask();
  const MetricValues good = evaluate(t.params);
  // Missing, unknown, non-finite: refused, nothing changes.
  MetricValues missing = good;
  missing.erase("c");
  MetricValues unknown = good;
  unknown["memory"] = 1.0;
  MetricValues nan = good;
  nan["f2"] = std::numeric_limits<double>::quiet_NaN();
  for (const MetricValues& bad : {missing, unknown, nan}) {
    EXPECT_THROW(study.tell(t.id, bad), InvalidArgument);
    EXPECT_EQ(study.trial(t.id).state, TrialState::kRunning);
  }
  EXPECT_THROW(study.tell(t.id, 0.5), InvalidArgument);  // several metrics, one value
  const Trial done = study.tell(t.id, good);
  EXPECT_EQ(done.state, TrialState::kComplete);
  EXPECT_EQ(done.values, good);
  EXPECT_FALSE(done.value.has_value());            // several objectives: no one value
  EXPECT_EQ(study.tell(t.id, good).values, good);  // the same again: a no-op
  MetricValues other = good;
  other["f1"] += 1.0;
  EXPECT_THROW(study.tell(t.id, other), Conflict);
  EXPECT_EQ(study.tell(t.id, other, /*skip_if_finished=*/true).values, good);

  // One objective with a constraint: the objective's value is the trial's value.
  Metrics one;
  one.objectives = {{"loss", Direction::kMinimize, std::nullopt}};
  one.constraints = {{"latency", Bound::kAtMost, 20.0}};
  Study constrained(unit_square(), fast(one));
  const Trial u = constrained.ask();
  EXPECT_THROW(constrained.tell(u.id, 0.5), InvalidArgument);  // the latency is missing
  EXPECT_EQ(constrained.tell(u.id, MetricValues{{"loss", 0.5}, {"latency", 30.0}}).value, 0.5);

  // The classic study takes its one metric by the name "value".
  Study classic(unit_square(), fast(Metrics{}));
  const Trial v = classic.ask();
  EXPECT_EQ(classic.tell(v.id, MetricValues{{"value", 2.5}}).value, 2.5);
  EXPECT_TRUE(classic.trial(v.id).values.empty());
  const Trial w = classic.ask();
  EXPECT_THROW(classic.tell(w.id, MetricValues{{"loss", 2.5}}), InvalidArgument);
}

TEST(MetricsStudy, OptionsThatDoNotGoWithMetricsAreRefused) {
  StudyOptions o = fast(two_objectives_one_constraint());
  o.strategy = Strategy::kTrustRegion;
  EXPECT_THROW(Study(unit_square(), o), InvalidArgument);  // several objectives
  Metrics constrained;
  constrained.objectives = {{"f", Direction::kMinimize, std::nullopt}};
  constrained.constraints = {{"c", Bound::kAtMost, 0.0}};
  o = fast(constrained);
  o.strategy = Strategy::kTrustRegion;
  EXPECT_NO_THROW(Study(unit_square(), o));  // one objective with constraints: SCBO
  o.trust_region.n_regions = 2;
  EXPECT_THROW(Study(unit_square(), o), InvalidArgument);
  o = fast(two_objectives_one_constraint());
  o.acquisition = AcquisitionType::kUCB;
  EXPECT_THROW(Study(unit_square(), o), InvalidArgument);
  o = fast(two_objectives_one_constraint());
  o.batch_method = BatchMethod::kQLogNei;
  EXPECT_THROW(Study(unit_square(), o), InvalidArgument);
  Metrics duplicate;
  duplicate.objectives = {{"a", Direction::kMinimize, std::nullopt},
                          {"a", Direction::kMaximize, std::nullopt}};
  EXPECT_THROW(Study(unit_square(), fast(duplicate)), InvalidArgument);
  // The direction follows the first objective; one given apart must agree.
  Metrics maximize;
  maximize.objectives = {{"acc", Direction::kMaximize, std::nullopt}};
  EXPECT_EQ(Study(unit_square(), fast(maximize)).options().direction, Direction::kMaximize);
  StudyOptions d = fast(maximize);
  EXPECT_THROW(set_direction(&d, Direction::kMinimize), InvalidArgument);
  EXPECT_NO_THROW(set_direction(&d, Direction::kMaximize));
}

TEST(MetricsStudy, AnyFiniteMetricValueIsModelled) {
  // Values near the ends of the double range in objectives and in a constraint: the study
  // keeps suggesting from its model (each metric is modelled divided by a power of two).
  Study study(unit_square(), fast(two_objectives_one_constraint()));
  for (int i = 0; i < 10; ++i) {
    const Trial& t = study.ask();
    study.tell(t.id, MetricValues{{"f1", i % 2 ? 1e300 : 1.0 + i},
                                  {"f2", i % 3 ? -1.7e308 : 2.0 * i},
                                  {"c", i % 4 ? 0.5 : 1e300}});
  }
  for (int i = 0; i < 3; ++i) {
    const std::vector<Trial> batch = study.ask(2);
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[0].source, "model");
    for (const Trial& t : batch) study.tell(t.id, evaluate(t.params));
  }
  EXPECT_FALSE(study.pareto().trials.empty());
}

// ---------------------------------------------------------------- SCBO

/// A sphere in 8 dimensions around 0.7, feasible where sum(x) <= 3 (the optimum's sum is 5.6,
/// so the constraint binds): the trust region with one objective and a constraint.
TEST(MetricsStudy, TheTrustRegionFollowsScbosRuleWithConstraints) {
  Space space;
  for (int i = 0; i < 8; ++i) space.add_float("x" + std::to_string(i), 0.0, 1.0);
  Metrics m;
  m.objectives = {{"f", Direction::kMinimize, std::nullopt}};
  m.constraints = {{"sum", Bound::kAtMost, 3.0}};
  StudyOptions o = fast(m, 4);
  o.strategy = Strategy::kTrustRegion;
  o.trust_region.n_candidates = 512;
  o.trust_region.failure_tolerance = 2;
  o.n_initial = 6;
  Study study(space, o);
  const auto evaluate = [](const Params& p) {
    double f = 0.0, sum = 0.0;
    for (const auto& [name, v] : p) {
      const double x = std::get<double>(v);
      f += (x - 0.7) * (x - 0.7);
      sum += x;
    }
    return MetricValues{{"f", f}, {"sum", sum}};
  };
  // An infeasible start: every initial point has sum > 3 (the upper corner of the cube).
  std::vector<double> violations;
  for (int i = 0; i < 6; ++i) {
    Params p;
    for (int j = 0; j < 8; ++j) p["x" + std::to_string(j)] = 0.55 + 0.05 * ((i + j) % 5);
    const MetricValues v = evaluate(p);
    violations.push_back(v.at("sum") - 3.0);
    study.add_trial(p, TrialState::kComplete, v);
  }
  const std::vector<Trial> first = study.ask(3);
  const TrustRegionState* s = study.trust_region();
  ASSERT_NE(s, nullptr);
  // No feasible trial: the region is centred on the smallest violation and keeps it.
  const auto least = std::min_element(violations.begin(), violations.end()) - violations.begin();
  EXPECT_FALSE(s->best_value);
  ASSERT_TRUE(s->best_violation);
  EXPECT_NEAR(*s->best_violation, violations[static_cast<std::size_t>(least)], 1e-12);
  EXPECT_EQ(s->center, space.encode(study.trial(least).params));
  for (const Trial& t : first) {
    EXPECT_TRUE(in_box(study.trust_region_box(), space.encode(t.params)));
    study.tell(t.id, evaluate(t.params));
  }
  // The search reaches the feasible region and then improves inside it; every batch stays in
  // its box, never repeats a point and never exceeds q.
  std::set<std::vector<double>> seen;
  for (int round = 0; round < 12; ++round) {
    const std::vector<Trial> batch = study.ask(3);
    ASSERT_EQ(batch.size(), 3u);
    for (const Trial& t : batch) {
      const Eigen::VectorXd u = space.encode(t.params);
      EXPECT_TRUE(in_box(study.trust_region_box(), u));
      EXPECT_TRUE(seen.insert(std::vector<double>(u.data(), u.data() + u.size())).second);
      study.tell(t.id, evaluate(t.params));
    }
  }
  const std::optional<Trial> best = study.best();
  ASSERT_TRUE(best);  // a feasible trial was found
  EXPECT_LE(best->values.at("sum"), 3.0);
  study.ask();  // the region's update sees it
  s = study.trust_region();
  if (s->best_value) {  // (a region restarted just now has no reference yet)
    EXPECT_FALSE(s->best_violation);
    EXPECT_LE(*best->value, *s->best_value + 1e-12);
  }
  // The sphere's best feasible value is 8 (0.7 - 0.375)^2 = 0.845; the infeasible start's
  // corner is far from it.
  EXPECT_LT(*best->value, 1.2);
}

TEST(MetricsStudy, TheConstrainedTrustRegionSurvivesAStoredStudy) {
  // Never feasible (c >= 1 > 0.5): the region's reference is a violation, and each ask
  // rebuilds the study from the store, so it must survive there.
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  Metrics m;
  m.objectives = {{"f", Direction::kMinimize, std::nullopt}};
  m.constraints = {{"c", Bound::kAtMost, 0.5}};
  StudyOptions o = fast(m, 2);
  o.strategy = Strategy::kTrustRegion;
  o.trust_region.n_candidates = 256;
  o.n_initial = 4;
  PersistentStudy study = PersistentStudy::create(storage, "scbo", unit_square(), o, {});
  std::vector<double> told;
  for (int i = 0; i < 10; ++i) {
    const Trial t = study.ask(1).front();
    const double x = std::get<double>(t.params.at("x")), y = std::get<double>(t.params.at("y"));
    const double c = 1.0 + x + y;
    study.tell(t.id, MetricValues{{"f", x}, {"c", c}});
    told.push_back(c - 0.5);
    if (i < 4) continue;  // the initial design: no region yet
    const nlohmann::json state = nlohmann::json::parse(study.info().state_json);
    ASSERT_TRUE(state.contains("trust_region")) << i;
    const TrustRegionState s = trust_region_state_from_json(state["trust_region"].dump(), 2);
    EXPECT_FALSE(s.best_value);
    ASSERT_TRUE(s.best_violation) << i;
    // The region's reference is the violation of one of its trials, and never below the
    // least violation told so far.
    EXPECT_NE(std::find(told.begin(), told.end(), *s.best_violation), told.end());
    EXPECT_GE(*s.best_violation, *std::min_element(told.begin(), told.end()));
  }
}

// ---------------------------------------------------------------- results

/// Whether a dominates b in the study's directions (f1 minimized, f2 maximized).
bool dominates_mixed(const MetricValues& a, const MetricValues& b) {
  const bool no_worse = a.at("f1") <= b.at("f1") && a.at("f2") >= b.at("f2");
  const bool better = a.at("f1") < b.at("f1") || a.at("f2") > b.at("f2");
  return no_worse && better;
}

TEST(MetricsStudy, TheParetoFrontAndItsHypervolumeAgainstBruteForce) {
  Study study(unit_square(), fast(two_objectives_one_constraint()));
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<MetricValues> told;
  for (int i = 0; i < 40; ++i) {
    Params p{{"x", std::round(u(rng) * 8) / 8}, {"y", std::round(u(rng) * 8) / 8}};  // ties
    told.push_back(evaluate(p));
    study.add_trial(p, TrialState::kComplete, told.back());
  }
  study.add_trial(study.trials()[3].params, TrialState::kComplete, told[3]);  // a duplicate
  told.push_back(told[3]);
  study.add_trial(study.trials()[0].params, TrialState::kFailed, std::nullopt);
  const ParetoFront front = study.pareto();
  std::set<std::int64_t> expected;
  const auto ok = [](const MetricValues& v) { return v.at("c") <= 1.2; };
  for (std::size_t i = 0; i < told.size(); ++i) {
    if (!ok(told[i])) continue;
    bool dominated = false;
    for (const MetricValues& other : told)
      dominated |= ok(other) && dominates_mixed(other, told[i]);
    if (!dominated) expected.insert(static_cast<std::int64_t>(i));
  }
  std::set<std::int64_t> got;
  for (const Trial& t : front.trials) got.insert(t.id);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got.count(3), got.count(40));  // the copies of a point go together
  // The hypervolume against a sum of cells over a fine grid of the exact coordinates.
  ASSERT_EQ(front.reference_point.size(), 2u);
  const double r1 = front.reference_point[0], r2 = front.reference_point[1];
  std::vector<double> xs{r1}, ys{r2};
  for (const Trial& t : front.trials) {
    xs.push_back(t.values.at("f1"));
    ys.push_back(t.values.at("f2"));
  }
  std::sort(xs.begin(), xs.end());
  std::sort(ys.begin(), ys.end());
  double volume = 0.0;
  for (std::size_t i = 0; i + 1 < xs.size(); ++i) {
    for (std::size_t j = 0; j + 1 < ys.size(); ++j) {
      // The cell [xs_i, xs_i+1] x [ys_j, ys_j+1] is dominated (f1 <= , f2 >=) by a front point
      // when one has f1 <= xs_i and f2 >= ys_j+1.
      bool covered = false;
      for (const Trial& t : front.trials) {
        covered |= t.values.at("f1") <= xs[i] && t.values.at("f2") >= ys[j + 1];
      }
      if (covered && xs[i + 1] <= r1 && ys[j] >= r2) {
        volume += (xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j]);
      }
    }
  }
  EXPECT_NEAR(front.hypervolume, volume, 1e-12 * std::max(1.0, volume));
  // Given reference points are used as they are.
  Metrics given = two_objectives_one_constraint();
  given.objectives[0].reference = 3.0;
  given.objectives[1].reference = -2.0;
  const ParetoFront with_ref = pareto_front(with_objective_direction(fast(given)), study.trials());
  EXPECT_EQ(with_ref.reference_point, (std::vector<double>{3.0, -2.0}));
  EXPECT_GT(with_ref.hypervolume, 0.0);
  // Inferred: the front's nadir, 10% of the range of every feasible value beyond it.
  double lo1 = 1e300, hi1 = -1e300, lo2 = 1e300, hi2 = -1e300, nadir1 = -1e300, nadir2 = 1e300;
  for (const MetricValues& v : told) {
    if (!ok(v)) continue;
    lo1 = std::min(lo1, v.at("f1"));
    hi1 = std::max(hi1, v.at("f1"));
    lo2 = std::min(lo2, v.at("f2"));
    hi2 = std::max(hi2, v.at("f2"));
  }
  for (const Trial& t : front.trials) {
    nadir1 = std::max(nadir1, t.values.at("f1"));
    nadir2 = std::min(nadir2, t.values.at("f2"));
  }
  EXPECT_NEAR(r1, nadir1 + 0.1 * (hi1 - lo1), 1e-12);  // f1 minimized
  EXPECT_NEAR(r2, nadir2 - 0.1 * (hi2 - lo2), 1e-12);  // f2 maximized
  // A constraint bounding an objective's worse side is its reference.
  Metrics bounded = two_objectives_one_constraint();
  bounded.constraints.push_back({"f1", Bound::kAtMost, 1.5});
  const ParetoFront with_bound =
      pareto_front(with_objective_direction(fast(bounded)), study.trials());
  EXPECT_EQ(with_bound.reference_point[0], 1.5);
  EXPECT_NEAR(with_bound.reference_point[1], r2, 1e-12);
  // best() has no one answer with several objectives.
  EXPECT_THROW(study.best(), InvalidArgument);
}

TEST(MetricsStudy, TheBestOfOneObjectiveIsTheBestFeasibleTrial) {
  Metrics m;
  m.objectives = {{"loss", Direction::kMinimize, std::nullopt}};
  m.constraints = {{"latency", Bound::kAtMost, 20.0}};
  Study study(unit_square(), fast(m));
  const Params p{{"x", 0.5}, {"y", 0.5}};
  study.add_trial(p, TrialState::kComplete, MetricValues{{"loss", 0.1}, {"latency", 25.0}});
  EXPECT_FALSE(study.best().has_value());  // the only complete trial is infeasible
  EXPECT_TRUE(study.pareto().trials.empty());
  study.add_trial(p, TrialState::kComplete, MetricValues{{"loss", 0.7}, {"latency", 20.0}});
  study.add_trial(p, TrialState::kComplete, MetricValues{{"loss", 0.4}, {"latency", 5.0}});
  ASSERT_TRUE(study.best().has_value());
  EXPECT_EQ(study.best()->id, 2);
  EXPECT_EQ(study.pareto().trials.size(), 1u);
  EXPECT_TRUE(study.pareto().reference_point.empty());
}

// ---------------------------------------------------------------- the model

/// Trials of `values` at the rows of X, all complete.
std::vector<Trial> trials_at(const std::vector<MetricValues>& values) {
  std::vector<Trial> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    out[i].id = static_cast<std::int64_t>(i);
    out[i].state = TrialState::kComplete;
    out[i].values = values[i];
  }
  return out;
}

TEST(MetricModel, TheProbabilityOfFeasibilityIsTheGpMarginal) {
  // Every observed point infeasible: the acquisition is the log probability of feasibility
  // alone, which must be log Phi((b - mu) / sigma) of the constraint's own GP.
  Metrics m;
  m.objectives = {{"f", Direction::kMinimize, std::nullopt}};
  m.constraints = {{"c", Bound::kAtMost, -0.5}};
  StudyOptions o = fast(m);
  SobolSampler sobol(2, 3);
  const Eigen::MatrixXd X = sobol.draw(12);
  std::vector<MetricValues> v;
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    v.push_back({{"f", X(i, 0)}, {"c", std::sin(3 * X(i, 0)) + X(i, 1)}});  // c >= 0 > -0.5
  }
  const std::vector<Trial> trials = trials_at(v);
  std::vector<const Trial*> ptrs;
  for (const Trial& t : trials) ptrs.push_back(&t);
  MetricModel model(o);
  model.fit(X, ptrs, 7);
  ASSERT_FALSE(model.has_feasible());
  GaussianProcess gp(o.gp, o.device);
  Eigen::VectorXd c(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) c(i) = v[static_cast<std::size_t>(i)].at("c");
  gp.condition(X, c, model.hyperparameters().at("c"));
  const Eigen::MatrixXd Xt = SobolSampler(2, 11).draw(50);
  Eigen::VectorXd score;
  model.score(Xt, &score, nullptr);
  const Prediction pred = gp.predict(Xt);
  for (Eigen::Index i = 0; i < Xt.rows(); ++i) {
    const double z = (-0.5 - pred.mean(i)) / pred.stddev(i);
    const double expected = std::log(0.5 * std::erfc(-z / std::sqrt(2.0)));
    EXPECT_NEAR(score(i), expected, 1e-6 * std::max(1.0, std::abs(expected))) << i;
  }
}

TEST(MetricModel, TheAcquisitionsGradientMatchesFiniteDifferences) {
  StudyOptions o = fast(two_objectives_one_constraint());
  SobolSampler sobol(2, 5);
  const Eigen::MatrixXd X = sobol.draw(14);
  std::vector<MetricValues> v;
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    v.push_back(evaluate({{"x", X(i, 0)}, {"y", X(i, 1)}}));
  }
  const std::vector<Trial> trials = trials_at(v);
  std::vector<const Trial*> ptrs;
  for (const Trial& t : trials) ptrs.push_back(&t);
  MetricModel model(o);
  model.fit(X, ptrs, 3);
  ASSERT_TRUE(model.has_feasible());
  model.fantasize(Eigen::RowVector2d(0.3, 0.2));  // a pending point joins the front
  const Eigen::MatrixXd Xt = SobolSampler(2, 17).draw(20);
  Eigen::VectorXd f;
  Eigen::MatrixXd g;
  model.score(Xt, &f, &g);
  ASSERT_TRUE(f.allFinite());
  const double h = 1e-6;
  for (Eigen::Index i = 0; i < Xt.rows(); ++i) {
    for (Eigen::Index j = 0; j < 2; ++j) {
      Eigen::MatrixXd up = Xt.row(i), down = Xt.row(i);
      up(0, j) += h;
      down(0, j) -= h;
      Eigen::VectorXd fu, fd;
      model.score(up, &fu, nullptr);
      model.score(down, &fd, nullptr);
      const double fdiff = (fu(0) - fd(0)) / (2 * h);
      EXPECT_NEAR(g(i, j), fdiff, 1e-4 * std::max(1.0, std::abs(fdiff))) << i << "," << j;
    }
  }
}

// ---------------------------------------------------------------- batches

TEST(MetricsStudy, BatchesNeverExceedQNorRepeatAPoint) {
  for (const BatchMethod method :
       {BatchMethod::kAuto, BatchMethod::kGreedy, BatchMethod::kThompson}) {
    StudyOptions o = fast(two_objectives_one_constraint(), 4);
    o.batch_method = method;
    Study study(unit_square(), o);
    for (int i = 0; i < 6; ++i) {
      const Trial t = study.ask();
      study.tell(t.id, evaluate(t.params));
    }
    std::set<std::pair<double, double>> seen;
    for (const Trial& t : study.trials()) {
      seen.insert({std::get<double>(t.params.at("x")), std::get<double>(t.params.at("y"))});
    }
    // Two batches without a tell in between (the first is pending), then a large one.
    for (const int q : {3, 5, 24}) {
      const std::vector<Trial> batch = study.ask(q);
      EXPECT_EQ(static_cast<int>(batch.size()), q) << to_string(method);
      for (const Trial& t : batch) {
        EXPECT_EQ(t.source, "model");
        EXPECT_TRUE(
            seen.insert({std::get<double>(t.params.at("x")), std::get<double>(t.params.at("y"))})
                .second)
            << "a repeated point, " << to_string(method) << " q = " << q;
      }
    }
  }
}

// ---------------------------------------------------------------- quality

/// Hypervolume of the feasible evaluations of a test problem (objectives minimized).
double hypervolume_of(const TestProblem& p, const std::vector<MetricValues>& evaluations) {
  std::vector<const MetricValues*> ok;
  for (const MetricValues& v : evaluations) {
    if (feasible(p.metrics(), v)) ok.push_back(&v);
  }
  const Eigen::Index m = static_cast<Eigen::Index>(p.metrics().objectives.size());
  Eigen::MatrixXd Y(static_cast<Eigen::Index>(ok.size()), m);
  for (std::size_t i = 0; i < ok.size(); ++i) {
    for (Eigen::Index j = 0; j < m; ++j) {
      Y(static_cast<Eigen::Index>(i), j) =
          -ok[i]->at(p.metrics().objectives[static_cast<std::size_t>(j)].name);
    }
  }
  return ok.empty() ? 0.0 : hypervolume(Y, -p.reference_point());
}

TEST(MetricsStudy, TheModelsFrontBeatsSobolPointsOnZdt1AndBraninCurrin) {
  for (const char* name : {"zdt1", "branincurrin"}) {
    const TestProblem p = TestProblem::make(name);
    const int budget = 40;
    std::vector<double> model_hv, sobol_hv;
    for (std::uint64_t seed = 0; seed < 3; ++seed) {
      StudyOptions o = fast(p.metrics(), seed);
      Study study(p.space(), o);
      std::vector<MetricValues> told;
      for (int i = 0; i < budget; ++i) {
        const Trial t = study.ask();
        told.push_back(p(p.to_vector(t.params)));
        study.tell(t.id, told.back());
      }
      model_hv.push_back(hypervolume_of(p, told));
      SobolSampler sobol(p.dim(), seed + 100);
      std::vector<MetricValues> random;
      const Eigen::MatrixXd U = sobol.draw(budget);
      for (Eigen::Index i = 0; i < budget; ++i) {
        random.push_back(
            p(p.lower().array() + (p.upper() - p.lower()).array() * U.row(i).transpose().array()));
      }
      sobol_hv.push_back(hypervolume_of(p, random));
    }
    std::sort(model_hv.begin(), model_hv.end());
    std::sort(sobol_hv.begin(), sobol_hv.end());
    EXPECT_GT(model_hv[1], sobol_hv[1]) << name;
    EXPECT_LE(model_hv[2], p.best_known() * (1 + 1e-9)) << name;
  }
}

TEST(MetricsStudy, InfeasibleStartsFindTheFeasibleRegion) {
  // The feasible region is a small disc (3% of the square) away from the objective's optimum.
  Metrics m;
  m.objectives = {{"f", Direction::kMinimize, std::nullopt}};
  m.constraints = {{"d", Bound::kAtMost, 0.01}};
  Study study(unit_square(), fast(m, 2));
  int feasible_count = 0;
  for (int i = 0; i < 30; ++i) {
    const Trial t = study.ask();
    const double x = std::get<double>(t.params.at("x")), y = std::get<double>(t.params.at("y"));
    const double d = (x - 0.8) * (x - 0.8) + (y - 0.75) * (y - 0.75);
    feasible_count += d <= 0.01;
    study.tell(t.id, MetricValues{{"f", x + y}, {"d", d}});
  }
  EXPECT_GE(feasible_count, 5) << "the model should sample inside the disc once it knows it";
  ASSERT_TRUE(study.best().has_value());
  // The best feasible f = x + y in the disc is 1.55 - 0.1 sqrt(2) = 1.4086.
  EXPECT_LT(study.best()->value.value(), 1.45);
}

// ---------------------------------------------------------------- a stored study

TEST(MetricsStudy, AStoredStudyTellsValuesAndRebuildsItsModelEachAsk) {
  const std::shared_ptr<Storage> store = Storage::open("memory://");
  PersistentStudy study =
      PersistentStudy::create(store, "mo", unit_square(), fast(two_objectives_one_constraint()));
  for (int i = 0; i < 10; ++i) {
    const std::vector<Trial> asked = study.ask(2, "w" + std::to_string(i % 2));
    for (const Trial& t : asked) study.tell(t.id, evaluate(t.params));
  }
  EXPECT_THROW(study.tell(study.ask(1).front().id, 0.5), InvalidArgument);
  const std::vector<Trial> trials = study.trials();
  EXPECT_EQ(trials[19].source, "model");
  EXPECT_EQ(trials[19].values, evaluate(trials[19].params));
  const ParetoFront front = study.pareto();
  EXPECT_FALSE(front.trials.empty());
  EXPECT_GT(front.hypervolume, 0.0);
  EXPECT_THROW(study.best(), InvalidArgument);
  // The log keeps every value told; the state keeps each metric's fit.
  int tells_with_values = 0;
  for (const LogEntry& e : study.log()) {
    tells_with_values += e.event == "tell" && e.detail_json.find("\"values\"") != std::string::npos;
  }
  EXPECT_EQ(tells_with_values, 20);
  EXPECT_NE(study.info().state_json.find("metric_hyper"), std::string::npos);
  // add_trials takes values too, and refuses a trial that lacks a metric (nothing written).
  Trial imported;
  imported.params = {{"x", 0.25}, {"y", 0.5}};
  imported.state = TrialState::kComplete;
  imported.values = evaluate(imported.params);
  Trial lacking = imported;
  lacking.values.erase("c");
  EXPECT_THROW(study.add_trials({imported, lacking}), InvalidArgument);
  EXPECT_EQ(study.trials().size(), 21u);
  EXPECT_EQ(study.add_trials({imported}).front().values, imported.values);
}

}  // namespace
}  // namespace gpbo
