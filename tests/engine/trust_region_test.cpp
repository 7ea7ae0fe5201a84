// The trust-region strategy (StudyOptions::strategy, include/gpbo/study.hpp; TuRBO, Eriksson et
// al. 2019): the grow/shrink rule, the restart on collapse, suggestions inside the region and
// the space, the state's JSON round trip (directly and through a stored study), and mixed
// spaces in high dimension.
#include "optim/trust_region.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/study.hpp"

namespace gpbo {
namespace {

/// Options for fast trust-region tests: few candidates, a short initial design.
StudyOptions tr_options(std::uint64_t seed = 0) {
  StudyOptions o;
  o.seed = seed;
  o.strategy = Strategy::kTrustRegion;
  o.n_initial = 6;
  o.trust_region.n_candidates = 256;
  o.gp.n_starts = 1;
  return o;
}

Space float_space(int d) {
  Space s;
  for (int i = 0; i < d; ++i) s.add_float("x" + std::to_string(i), -1.0, 1.0);
  return s;
}

double sphere(const Params& p) {
  double v = 0.0;
  for (const auto& [name, value] : p) {
    if (const double* x = std::get_if<double>(&value)) v += (*x - 0.3) * (*x - 0.3);
  }
  return v;
}

/// Every encoded coordinate of `u` within the box (a discrete coordinate may snap to the
/// centre of the bin the box reaches into: `slack` allows that).
void expect_in_box(const Space& space, const Eigen::MatrixXd& box, const Eigen::VectorXd& u) {
  for (std::size_t p = 0; p < space.size(); ++p) {
    const ParamSpec& spec = space.params()[p];
    if (spec.type == ParamType::kCategorical) continue;
    const int j = space.offset(p);
    const double slack =
        spec.type == ParamType::kInt ? 1.0 / (double(spec.high) - double(spec.low) + 1.0) : 1e-12;
    EXPECT_GE(u(j), box(0, j) - slack) << spec.name;
    EXPECT_LE(u(j), box(1, j) + slack) << spec.name;
  }
}

TEST(TrustRegion, StrategyParsesAndPrints) {
  for (Strategy s : {Strategy::kAuto, Strategy::kGlobal, Strategy::kTrustRegion}) {
    EXPECT_EQ(parse_strategy(to_string(s)), s);
  }
  EXPECT_EQ(parse_strategy("TuRBO"), Strategy::kTrustRegion);
  EXPECT_EQ(parse_strategy("trust_region"), Strategy::kTrustRegion);
  EXPECT_THROW(parse_strategy("local"), InvalidArgument);
}

TEST(TrustRegion, AutoPicksTheRegionFromFortyParameters) {
  EXPECT_EQ(Study(float_space(39)).strategy(), Strategy::kGlobal);
  EXPECT_EQ(Study(float_space(40)).strategy(), Strategy::kTrustRegion);
  StudyOptions o;
  o.strategy = Strategy::kGlobal;
  EXPECT_EQ(Study(float_space(100), o).strategy(), Strategy::kGlobal);
}

TEST(TrustRegion, BadOptionsAreRejected) {
  StudyOptions o;
  o.trust_region.length_min = 0.0;
  EXPECT_THROW(Study(float_space(2), o), InvalidArgument);
  o = {};
  o.trust_region.length_init = 2.0;  // above length_max
  EXPECT_THROW(Study(float_space(2), o), InvalidArgument);
  o = {};
  o.trust_region.success_tolerance = 0;
  EXPECT_THROW(Study(float_space(2), o), InvalidArgument);
}

TEST(TrustRegion, FailureToleranceFollowsTurbo) {
  EXPECT_EQ(default_failure_tolerance(20, 4), 5);    // ceil(max(1, 5))
  EXPECT_EQ(default_failure_tolerance(100, 50), 2);  // ceil(max(0.08, 2))
  EXPECT_EQ(default_failure_tolerance(3, 1), 4);     // ceil(max(4, 3))
  EXPECT_EQ(default_failure_tolerance(300, 100), 3);
}

TEST(TrustRegion, CountGrowsAfterSuccessesShrinksAfterFailuresAndCollapses) {
  TrustRegionOptions o;
  TrustRegionState s;
  s.length = 0.8;
  // Two successes then a failure: the streak breaks, nothing changes.
  EXPECT_FALSE(trust_region_count(&s, true, 2, o));
  EXPECT_FALSE(trust_region_count(&s, true, 2, o));
  EXPECT_FALSE(trust_region_count(&s, false, 2, o));
  EXPECT_DOUBLE_EQ(s.length, 0.8);
  EXPECT_EQ(s.success_count, 0);
  EXPECT_EQ(s.failure_count, 1);
  // Three successes in a row double L, capped at length_max.
  for (int i = 0; i < 3; ++i) trust_region_count(&s, true, 2, o);
  EXPECT_DOUBLE_EQ(s.length, 1.6);
  for (int i = 0; i < 3; ++i) trust_region_count(&s, true, 2, o);
  EXPECT_DOUBLE_EQ(s.length, 1.6);
  // failure_tolerance failures in a row halve it; 1.6 / 2^8 < 0.5^7 collapses at the 8th halving.
  int halvings = 0;
  bool collapsed = false;
  while (!collapsed) {
    EXPECT_FALSE(trust_region_count(&s, false, 2, o));
    collapsed = trust_region_count(&s, false, 2, o);
    ++halvings;
    EXPECT_DOUBLE_EQ(s.length, 1.6 / std::pow(2.0, halvings));
  }
  EXPECT_EQ(halvings, 8);
  EXPECT_LT(s.length, o.length_min);
}

TEST(TrustRegion, BoundsScaleWithLengthscalesAndKeepTheVolume) {
  Space space = float_space(3);
  Eigen::VectorXd c(3), ls(3);
  c << 0.5, 0.5, 0.95;
  ls << 0.1, 0.4, 0.2;  // geometric mean 0.2
  const Eigen::MatrixXd box = trust_region_bounds(space, c, ls, 0.4);
  EXPECT_NEAR(box(1, 0) - box(0, 0), 0.4 * 0.5, 1e-12);
  EXPECT_NEAR(box(1, 1) - box(0, 1), 0.4 * 2.0, 1e-12);
  EXPECT_NEAR(box(0, 2), 0.95 - 0.2, 1e-12);
  EXPECT_DOUBLE_EQ(box(1, 2), 1.0);  // clipped to the cube
}

TEST(TrustRegion, CandidatesMoveFewCoordinatesInsideTheBox) {
  const int d = 200;
  Space space = float_space(d);
  Eigen::VectorXd c = Eigen::VectorXd::Constant(d, 0.5);
  const Eigen::MatrixXd box = trust_region_bounds(space, c, Eigen::VectorXd::Constant(d, 0.3), 0.2);
  std::mt19937_64 rng(3);
  const Eigen::MatrixXd C = trust_region_candidates(space, c, box, 500, rng);
  double moved = 0.0;
  for (Eigen::Index i = 0; i < C.rows(); ++i) {
    expect_in_box(space, box, C.row(i).transpose());
    const int m = static_cast<int>(((C.row(i).transpose() - c).array().abs() > 0).count());
    EXPECT_GE(m, 1);
    moved += m;
  }
  // Each coordinate moves with probability 20 / d: about 20 per candidate.
  EXPECT_NEAR(moved / C.rows(), 20.0, 3.0);
}

/// Asks a batch, tells `value(trial)` for each, returns the batch.
std::vector<Trial> round(Study& study, int q, const std::function<double(const Trial&)>& value) {
  std::vector<Trial> batch = study.ask(q);
  for (const Trial& t : batch) study.tell(t.id, value(t));
  return batch;
}

TEST(TrustRegion, ShrinksAfterFailuresAndRestartsOnCollapse) {
  const Space space = float_space(4);
  StudyOptions o = tr_options();
  o.trust_region.failure_tolerance = 2;
  Study study(space, o);
  round(study, 6, [](const Trial& t) { return sphere(t.params); });  // the initial design
  EXPECT_FALSE(study.trust_region());
  // Every model point is much worse than the incumbent: a failed batch each round.
  const auto bad = [](const Trial&) { return 1e6; };
  round(study, 2, bad);  // creates the region
  ASSERT_TRUE(study.trust_region());
  const Eigen::VectorXd first_center = study.trust_region()->center;
  EXPECT_DOUBLE_EQ(study.trust_region()->length, 0.8);
  double expected = 0.8;
  for (int batch = 1; batch <= 14; ++batch) {
    const Eigen::MatrixXd box = study.trust_region_box();
    round(study, 2, bad);
    const TrustRegionState& s = *study.trust_region();
    if (batch % 2 == 0) expected /= 2.0;
    if (batch < 14) {
      EXPECT_DOUBLE_EQ(s.length, expected) << "batch " << batch;
      EXPECT_EQ(s.failure_count, batch % 2);
      EXPECT_EQ(s.restarts, 0);
      EXPECT_EQ((s.center - first_center).norm(), 0.0);  // failures never move the centre
    } else {
      // 0.8 / 2^7 < 0.5^7: collapsed at this ask, restarted at the initial length with a centre
      // outside the old box and no reference value yet.
      EXPECT_EQ(s.restarts, 1);
      EXPECT_DOUBLE_EQ(s.length, 0.8);
      EXPECT_EQ(s.failure_count, 0);
      EXPECT_FALSE(s.best_value);
      bool outside = false;
      for (int j = 0; j < 4; ++j)
        outside = outside || s.center(j) < box(0, j) || s.center(j) > box(1, j);
      EXPECT_TRUE(outside);
      EXPECT_EQ(s.region_start, static_cast<std::int64_t>(study.trials().size()) - 2);
    }
  }
  // The data stays: the best is still the initial design's incumbent, and the new region's
  // first results become its reference.
  // The batch asked at the collapse is the new region's first: the next ask takes its best
  // (1e6) as the reference, the one after counts 5e5 as a success.
  EXPECT_LT(*study.best()->value, 1e6);
  round(study, 2, [](const Trial&) { return 5e5; });
  ASSERT_TRUE(study.trust_region()->best_value);
  EXPECT_EQ(*study.trust_region()->best_value, 1e6);
  EXPECT_EQ(study.trust_region()->success_count, 0);
  round(study, 2, [](const Trial&) { return 5e5; });
  EXPECT_EQ(*study.trust_region()->best_value, 5e5);
  EXPECT_EQ(study.trust_region()->success_count, 1);
}

TEST(TrustRegion, GrowsAfterSuccessesAndFollowsTheBest) {
  const Space space = float_space(4);
  Study study(space, tr_options(1));
  round(study, 6, [](const Trial& t) { return 10.0 + sphere(t.params); });
  double next = 5.0;
  // Every batch beats the last by far: L doubles after three successes, then stays at 1.6.
  const auto good = [&](const Trial&) { return next; };
  round(study, 2, good);  // creates the region
  for (int batch = 1; batch <= 7; ++batch) {
    next /= 2.0;
    const std::vector<Trial> b = round(study, 2, good);
    const TrustRegionState& s = *study.trust_region();
    EXPECT_DOUBLE_EQ(s.length, batch < 3 ? 0.8 : 1.6) << "batch " << batch;
    EXPECT_EQ(*s.best_value, next * 2.0);  // the previous batch's value, counted at this ask
  }
  // The centre is the best complete point of the region.
  const TrustRegionState& s = *study.trust_region();
  const Trial& best = *study.best();
  EXPECT_EQ(*best.value, *s.best_value / 2.0);  // the last batch is not counted yet
  bool found = false;
  for (const Trial& t : study.trials()) {
    if (t.value && *t.value == *s.best_value)
      found = found || (space.encode(t.params) - s.center).norm() == 0.0;
  }
  EXPECT_TRUE(found);
}

TEST(TrustRegion, SuggestionsStayInTheRegionAndTheSpace) {
  Space space = float_space(30);
  space.add_int("k", 0, 40).add_categorical("c", {"a", "b", "c"});
  for (BatchMethod m : {BatchMethod::kAuto, BatchMethod::kGreedy, BatchMethod::kQLogNei}) {
    StudyOptions o = tr_options(2);
    o.batch_method = m;
    o.optimizer.restarts = 2;
    o.optimizer.refine_iterations = 20;
    Study study(space, o);
    round(study, 6, [](const Trial& t) { return sphere(t.params); });
    for (int r = 0; r < 4; ++r) {
      const std::vector<Trial> batch = study.ask(4);
      const Eigen::MatrixXd& box = study.trust_region_box();
      ASSERT_EQ(box.rows(), 2);
      EXPECT_TRUE(in_box(box, study.trust_region()->center));
      for (const Trial& t : batch) {
        EXPECT_NO_THROW(space.validate(t.params));
        expect_in_box(space, box, space.encode(t.params));
        study.tell(t.id, sphere(t.params));
      }
    }
    EXPECT_EQ(study.last_batch_method(), m == BatchMethod::kAuto ? BatchMethod::kThompson : m);
  }
}

TEST(TrustRegion, StateRoundTripsThroughJson) {
  TrustRegionState s;
  s.length = 0.123;
  s.success_count = 2;
  s.failure_count = 1;
  s.restarts = 3;
  s.center = Eigen::VectorXd::LinSpaced(5, 0.0, 1.0);
  s.best_value = -2.5;
  s.region_start = 40;
  s.n_seen = 37;
  const TrustRegionState r = trust_region_state_from_json(trust_region_state_to_json(s), 5);
  EXPECT_EQ(r.length, s.length);
  EXPECT_EQ(r.success_count, 2);
  EXPECT_EQ(r.failure_count, 1);
  EXPECT_EQ(r.restarts, 3);
  EXPECT_EQ(r.center, s.center);
  EXPECT_EQ(r.best_value, s.best_value);
  EXPECT_EQ(r.region_start, 40);
  EXPECT_EQ(r.n_seen, 37);
  s.best_value.reset();
  EXPECT_FALSE(trust_region_state_from_json(trust_region_state_to_json(s)).best_value);
  EXPECT_FALSE(trust_region_state_from_json(trust_region_state_to_json(s)).best_violation);
  s.best_violation = 0.25;  // with constraints, before the region has a feasible trial
  EXPECT_EQ(trust_region_state_from_json(trust_region_state_to_json(s)).best_violation, 0.25);
  s.best_violation = -1.0;
  EXPECT_THROW(trust_region_state_from_json(trust_region_state_to_json(s)), InvalidArgument);
  s.best_violation.reset();
  EXPECT_THROW(trust_region_state_from_json(trust_region_state_to_json(s), 4), InvalidArgument);
  EXPECT_THROW(trust_region_state_from_json("{\"length\": 1}"), InvalidArgument);
  s.length = -1.0;
  EXPECT_THROW(trust_region_state_from_json(trust_region_state_to_json(s)), InvalidArgument);
}

TEST(TrustRegion, StateSurvivesAStoredStudy) {
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  StudyOptions o = tr_options();
  o.trust_region.failure_tolerance = 1;
  PersistentStudy study = PersistentStudy::create(storage, "tr", float_space(3), o, {});
  // The options carry the strategy.
  StudyOptions back;
  PersistenceOptions p;
  study_options_from_json(study.info().options_json, &back, &p);
  EXPECT_EQ(back.strategy, Strategy::kTrustRegion);
  EXPECT_EQ(back.trust_region.failure_tolerance, 1);
  EXPECT_EQ(back.trust_region.n_candidates, 256);
  EXPECT_THROW(study_options_from_json(R"({"trust_region": {"length_min": -1}})", &back, &p),
               InvalidArgument);
  EXPECT_THROW(study_options_from_json(R"({"trust_region": {"radius": 1}})", &back, &p),
               InvalidArgument);
  EXPECT_THROW(study_options_from_json(R"({"strategy": "local"})", &back, &p), InvalidArgument);
  for (const Trial& t : study.ask(6)) study.tell(t.id, sphere(t.params));
  // Each ask rebuilds the Study from the store: the length halves once per failed batch only
  // if the counters and L survive between asks.
  double expected = 0.8;
  for (int batch = 0; batch < 4; ++batch) {
    for (const Trial& t : study.ask(2)) {
      for (int j = 0; j < 3; ++j) {
        const double x = std::get<double>(t.params.at("x" + std::to_string(j)));
        EXPECT_GE(x, -1.0);
        EXPECT_LE(x, 1.0);
      }
      study.tell(t.id, 1e6);
    }
    const nlohmann::json state = nlohmann::json::parse(study.info().state_json);
    ASSERT_TRUE(state.contains("trust_region"));
    const TrustRegionState s = trust_region_state_from_json(state["trust_region"].dump(), 3);
    if (batch > 0) expected /= 2.0;  // the first ask creates the region
    EXPECT_DOUBLE_EQ(s.length, expected) << "batch " << batch;
  }
}

// ------------------------------------------------------------ several regions (TuRBO-m)

/// Options for a study with `m` trust regions.
StudyOptions multi_options(int m, std::uint64_t seed = 0) {
  StudyOptions o = tr_options(seed);
  o.trust_region.n_regions = m;
  return o;
}

/// The region that suggested trial `id` (-1: none).
int region_of(const Study& study, std::int64_t id) {
  int found = -1;
  for (std::size_t r = 0; r < study.trust_regions().size(); ++r) {
    for (std::int64_t m : study.trust_regions()[r].members) {
      if (m == id) {
        EXPECT_EQ(found, -1) << "trial " << id << " belongs to two regions";
        found = static_cast<int>(r);
      }
    }
  }
  return found;
}

TEST(TrustRegions, StartApartAndEachSuggestionComesFromOneRegionInsideIt) {
  const Space space = float_space(4);
  StudyOptions o = multi_options(3, 4);
  o.trust_region.max_points = 10;  // past 10 trials the regions fit their own local models
  Study study(space, o);
  round(study, 6, [](const Trial& t) { return sphere(t.params); });
  EXPECT_TRUE(study.trust_regions().empty());
  for (int batch = 0; batch < 5; ++batch) {
    const std::vector<Trial> b = study.ask(6);
    ASSERT_EQ(b.size(), 6u);
    ASSERT_EQ(study.trust_regions().size(), 3u);
    for (const Trial& t : b) {
      const int r = region_of(study, t.id);
      ASSERT_GE(r, 0) << "trial " << t.id << " has no region";
      const Eigen::MatrixXd& box = study.trust_region_box(static_cast<std::size_t>(r));
      ASSERT_EQ(box.rows(), 2);
      EXPECT_TRUE(in_box(box, space.encode(t.params))) << "trial " << t.id << ", region " << r;
    }
    for (const Trial& t : b) study.tell(t.id, sphere(t.params));
  }
  // Created around the incumbent and the best trials outside the earlier regions: three
  // distinct centres, the second and third outside the first region's initial box.
  const std::vector<TrustRegionState>& regions = study.trust_regions();
  for (std::size_t a = 0; a < regions.size(); ++a) {
    for (std::size_t b = a + 1; b < regions.size(); ++b)
      EXPECT_GT((regions[a].center - regions[b].center).norm(), 0.0) << a << ", " << b;
  }
  // Every model trial is in exactly one region's list (no region restarted in 5 batches).
  std::size_t members = 0, with_points = 0;
  for (const TrustRegionState& r : regions) {
    EXPECT_EQ(r.restarts, 0);
    members += r.members.size();
    with_points += !r.members.empty();
  }
  EXPECT_EQ(members, 30u);
  EXPECT_GE(with_points, 2u);  // the batches were split, not all given to one region
}

TEST(TrustRegions, EachRegionCountsOnlyItsOwnTrials) {
  // Region 0's points keep improving, every other point is terrible: region 0 only succeeds,
  // the others only fail, each in the batches where it got points.
  const Space space = float_space(3);
  StudyOptions o = multi_options(2, 5);
  o.trust_region.failure_tolerance = 1;
  o.trust_region.success_tolerance = 1;
  Study study(space, o);
  round(study, 6, [](const Trial& t) { return 1.0 + sphere(t.params); });
  double next = 0.5;
  std::vector<double> length(2, 0.8);
  std::vector<bool> got(2, false), ever(2, false);  // points in the last batch, in any batch
  for (int batch = 0; batch < 6; ++batch) {
    const std::vector<Trial> b = study.ask(4);
    const std::vector<TrustRegionState>& regions = study.trust_regions();
    ASSERT_EQ(regions.size(), 2u);
    // This ask counted the batch told last, per region and only where the region had points:
    // a success doubles L (up to length_max), a failure halves it.
    if (got[0]) length[0] = std::min(1.6, 2.0 * length[0]);
    if (got[1]) length[1] /= 2.0;
    for (std::size_t r = 0; r < 2; ++r) {
      EXPECT_DOUBLE_EQ(regions[r].length, length[r]) << "region " << r << ", batch " << batch;
      EXPECT_EQ(regions[r].restarts, 0);
    }
    got.assign(2, false);
    for (const Trial& t : b) {
      const int r = region_of(study, t.id);
      ASSERT_GE(r, 0);
      got[static_cast<std::size_t>(r)] = ever[static_cast<std::size_t>(r)] = true;
      study.tell(t.id, r == 0 ? next : 1e6);
      if (r == 0) next /= 2.0;
    }
  }
  EXPECT_TRUE(ever[0]);
  EXPECT_TRUE(ever[1]);
  // Region 0 follows its best point; the incumbent is one of its trials.
  const Trial best = *study.best();
  EXPECT_EQ(region_of(study, best.id), 0);
}

TEST(TrustRegions, StateRoundTripsThroughJsonAndAStoredStudy) {
  TrustRegionState s;
  s.center = Eigen::VectorXd::Constant(3, 0.25);
  s.members = {7, 9, 12};
  TrustRegionState r = trust_region_state_from_json(trust_region_state_to_json(s), 3);
  EXPECT_EQ(r.members, s.members);
  s.members = {3, -1};
  EXPECT_THROW(trust_region_state_from_json(trust_region_state_to_json(s), 3), InvalidArgument);

  std::shared_ptr<Storage> storage = Storage::open("memory://");
  StudyOptions o = multi_options(3, 6);
  PersistentStudy study = PersistentStudy::create(storage, "trm", float_space(3), o, {});
  StudyOptions back;
  PersistenceOptions p;
  study_options_from_json(study.info().options_json, &back, &p);
  EXPECT_EQ(back.trust_region.n_regions, 3);
  for (const Trial& t : study.ask(6)) study.tell(t.id, sphere(t.params));
  for (int batch = 0; batch < 3; ++batch) {
    for (const Trial& t : study.ask(3)) study.tell(t.id, sphere(t.params));
  }
  // Each ask rebuilt the Study from the store: the regions and their members carried over.
  const nlohmann::json state = nlohmann::json::parse(study.info().state_json);
  ASSERT_TRUE(state.contains("trust_regions"));
  ASSERT_EQ(state["trust_regions"].size(), 3u);
  std::set<std::int64_t> ids;
  for (const nlohmann::json& j : state["trust_regions"]) {
    const TrustRegionState region = trust_region_state_from_json(j.dump(), 3);
    for (std::int64_t id : region.members) {
      EXPECT_GE(id, 6);  // the initial design belongs to no region
      EXPECT_TRUE(ids.insert(id).second) << "trial " << id << " in two regions";
    }
  }
  EXPECT_EQ(ids.size(), 9u);
}

TEST(TrustRegions, ComposeWithTheWarmModel) {
  // gpbo serve's path: kept hyperparameters, a background refit, several regions.
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  PersistentStudy study =
      PersistentStudy::create(storage, "warm", float_space(3), multi_options(2, 8), {});
  study.keep_model_warm({0.1, 5});
  std::set<std::int64_t> ids;
  for (int batch = 0; batch < 8; ++batch) {
    for (const Trial& t : study.ask(3, "w")) {
      EXPECT_TRUE(ids.insert(t.id).second);
      study.tell(t.id, sphere(t.params));
    }
    study.wait_for_refit();
  }
  EXPECT_GT(study.warm_stats().warm_asks, 0);
  const nlohmann::json state = nlohmann::json::parse(study.info().state_json);
  ASSERT_TRUE(state.contains("trust_regions"));
  std::size_t members = 0;
  for (const nlohmann::json& j : state["trust_regions"])
    members += trust_region_state_from_json(j.dump(), 3).members.size();
  EXPECT_EQ(members, 24u - 6u);  // every model trial, none of the initial design
}

TEST(TrustRegions, BadCombinationsAreRejected) {
  const Space space = float_space(3);
  for (int m : {0, -1, kMaxTrustRegions + 1}) {
    EXPECT_THROW(Study(space, multi_options(m)), InvalidArgument) << m;
  }
  for (BatchMethod b : {BatchMethod::kGreedy, BatchMethod::kQLogNei}) {
    StudyOptions o = multi_options(2);
    o.batch_method = b;
    EXPECT_THROW(Study(space, o), InvalidArgument) << to_string(b);
    std::shared_ptr<Storage> storage = Storage::open("memory://");
    EXPECT_THROW(PersistentStudy::create(storage, "bad", space, o, {}), InvalidArgument);
  }
  StudyOptions ok = multi_options(2);
  ok.batch_method = BatchMethod::kThompson;
  EXPECT_NO_THROW(Study(space, ok));
  StudyOptions back;
  PersistenceOptions p;
  EXPECT_THROW(study_options_from_json(R"({"trust_region": {"n_regions": 0}})", &back, &p),
               InvalidArgument);
  EXPECT_THROW(study_options_from_json(
                   R"({"batch_method": "qlognei", "trust_region": {"n_regions": 2}})", &back, &p),
               InvalidArgument);
}

TEST(TrustRegion, MixedSpaceInFiftyDimensions) {
  // 36 floats, 8 ints (two on a log scale), 6 categoricals: 50 parameters, auto -> trust region.
  Space space;
  for (int i = 0; i < 36; ++i) space.add_float("f" + std::to_string(i), 0.0, 1.0, false);
  for (int i = 0; i < 6; ++i) space.add_int("i" + std::to_string(i), -5, 5);
  space.add_int("li0", 1, 1000, true).add_int("li1", 1, 64, true);
  for (int i = 0; i < 6; ++i) space.add_categorical("c" + std::to_string(i), {"a", "b", "c", "d"});
  const auto objective = [](const Params& p) {
    double v = 0.0;
    for (const auto& [name, value] : p) {
      if (const double* x = std::get_if<double>(&value)) v += (*x - 0.7) * (*x - 0.7);
      if (const std::int64_t* k = std::get_if<std::int64_t>(&value))
        v += name[0] == 'l' ? std::abs(std::log(double(*k)) - 2.0) : 0.1 * std::abs(*k - 2);
      if (const std::string* c = std::get_if<std::string>(&value)) v += *c == "c" ? 0.0 : 0.5;
    }
    return v;
  };
  StudyOptions o;
  o.seed = 5;
  o.trust_region.n_candidates = 512;
  o.gp.n_starts = 1;
  Study study(space, o);
  EXPECT_EQ(study.strategy(), Strategy::kTrustRegion);
  std::set<std::string> categories_seen;
  std::set<std::int64_t> ints_seen;
  const double initial_best = [&] {
    for (const Trial& t : study.ask(20)) study.tell(t.id, objective(t.params));
    return *study.best()->value;
  }();
  for (int r = 0; r < 10; ++r) {
    const std::vector<Trial> batch = study.ask(8);
    ASSERT_EQ(batch.size(), 8u);
    std::set<std::vector<double>> distinct;
    for (const Trial& t : batch) {
      ASSERT_NO_THROW(space.validate(t.params));
      EXPECT_EQ(t.source, "model");
      const Eigen::VectorXd u = space.encode(t.params);
      expect_in_box(space, study.trust_region_box(), u);
      distinct.insert(std::vector<double>(u.data(), u.data() + u.size()));
      categories_seen.insert(std::get<std::string>(t.params.at("c0")));
      ints_seen.insert(std::get<std::int64_t>(t.params.at("i0")));
      study.tell(t.id, objective(t.params));
    }
    EXPECT_EQ(distinct.size(), batch.size());
  }
  // Discrete parameters are searched too, and 80 model points improve on the design.
  EXPECT_GE(categories_seen.size(), 2u);
  EXPECT_GE(ints_seen.size(), 2u);
  EXPECT_LT(*study.best()->value, initial_best);
}

}  // namespace
}  // namespace gpbo
