// Every suggestion of a Study or a PersistentStudy meets the space's linear constraints, lies on
// its grids and carries the fixed values (the space's and an ask's), on every path: the initial
// design, the greedy, qLogNEI and Thompson batches, one and several trust regions, and the
// models of studies with outcome constraints or several objectives. Enqueued points must meet
// the constraints; told and restored ones need not.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/storage.hpp"
#include "gpbo/study.hpp"
#include "storage/temp_dir.hpp"

namespace gpbo {
namespace {

double num(const ParamValue& v) {
  return std::holds_alternative<double>(v) ? std::get<double>(v)
                                           : static_cast<double>(std::get<std::int64_t>(v));
}

// a + b + c <= 1 (in name order, as the space sums), and n - 4 d >= 1; g on a grid of 0.1.
const char* kSpace = R"({"params": [
    {"name": "a", "type": "float", "low": 0, "high": 1},
    {"name": "b", "type": "float", "low": 0, "high": 1},
    {"name": "c", "type": "float", "low": 0, "high": 1},
    {"name": "d", "type": "float", "low": 0, "high": 2},
    {"name": "g", "type": "float", "low": 0, "high": 1, "step": 0.1},
    {"name": "n", "type": "int", "low": 0, "high": 8},
    {"name": "opt", "type": "categorical", "choices": ["sgd", "adam", "rms"]}],
  "constraints": [{"terms": {"a": 1, "b": 1, "c": 1}, "<=": 1},
                  {"terms": {"n": 1, "d": -4}, ">=": 1}]})";

// Best outside the constraints (a = b = c = 0.6), so the model presses against them.
double objective(const Params& p) {
  double f = 0.0;
  for (const char* k : {"a", "b", "c"}) f += (num(p.at(k)) - 0.6) * (num(p.at(k)) - 0.6);
  f += (num(p.at("d")) - 1.5) * (num(p.at("d")) - 1.5) + 0.1 * num(p.at("g"));
  f += 0.05 * num(p.at("n")) + (std::get<std::string>(p.at("opt")) == "adam" ? 0.0 : 0.3);
  return f;
}

void expect_admitted(const Space& space, const Trial& t, const Params& fixed = {}) {
  const Params& p = t.params;
  ASSERT_NO_THROW(space.validate(p)) << "trial " << t.id;  // bounds and grid
  EXPECT_LE(num(p.at("a")) + num(p.at("b")) + num(p.at("c")), 1.0)
      << "trial " << t.id << " (" << t.source << ")";
  EXPECT_GE(num(p.at("d")) * -4 + num(p.at("n")), 1.0)
      << "trial " << t.id << " (" << t.source << ")";
  for (const auto& [name, value] : fixed) EXPECT_EQ(p.at(name), value) << name << " " << t.id;
}

struct Case {
  const char* name;
  BatchMethod batch = BatchMethod::kAuto;
  Strategy strategy = Strategy::kGlobal;
  int regions = 1;
  int metrics = 0;  // 0: classic; 1: an outcome constraint; 2: two objectives
  int q = 1;
};

StudyOptions options_of(const Case& c) {
  StudyOptions o;
  o.seed = 11;
  o.n_initial = 6;
  o.batch_method = c.batch;
  o.strategy = c.strategy;
  o.trust_region.n_regions = c.regions;
  o.optimizer.raw_samples = 256;
  o.optimizer.restarts = 4;
  if (c.metrics == 1) {
    o.metrics.objectives = {{"loss"}};
    o.metrics.constraints = {{"cost", Bound::kAtMost, 0.5}};
  } else if (c.metrics == 2) {
    o.metrics.objectives = {{"loss"}, {"cost"}};
  }
  return o;
}

void tell(Study& study, const Trial& t, int metrics) {
  const double f = objective(t.params);
  if (metrics == 0) {
    study.tell(t.id, f);
  } else {
    study.tell(t.id, MetricValues{{"loss", f}, {"cost", num(t.params.at("d")) / 2}});
  }
}

TEST(LinearConstraintsStudy, EverySuggestionOfEveryPathIsAdmitted) {
  const Space space = Space::from_json(kSpace);
  const Case cases[] = {
      {"greedy", BatchMethod::kGreedy, Strategy::kGlobal, 1, 0, 1},
      {"greedy q=3", BatchMethod::kGreedy, Strategy::kGlobal, 1, 0, 3},
      {"qlognei", BatchMethod::kQLogNei, Strategy::kGlobal, 1, 0, 3},
      {"thompson", BatchMethod::kThompson, Strategy::kGlobal, 1, 0, 4},
      {"trust region", BatchMethod::kAuto, Strategy::kTrustRegion, 1, 0, 2},
      {"trust region greedy", BatchMethod::kGreedy, Strategy::kTrustRegion, 1, 0, 1},
      {"three trust regions", BatchMethod::kAuto, Strategy::kTrustRegion, 3, 0, 3},
      {"outcome constraint", BatchMethod::kGreedy, Strategy::kGlobal, 1, 1, 2},
      {"outcome constraint thompson", BatchMethod::kThompson, Strategy::kGlobal, 1, 1, 4},
      {"scbo", BatchMethod::kAuto, Strategy::kTrustRegion, 1, 1, 2},
      {"two objectives", BatchMethod::kGreedy, Strategy::kGlobal, 1, 2, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Study study(space, options_of(c));
    int model = 0;
    while (study.trials().size() < 22) {
      for (const Trial& t : study.ask(c.q)) {
        expect_admitted(space, t);
        model += t.source == "model";
        tell(study, t, c.metrics);
      }
    }
    EXPECT_GT(model, 8);
  }
}

TEST(LinearConstraintsStudy, FixedValuesOfTheSpaceAndOfAnAskAreCarriedExactly) {
  Space space = Space::from_json(kSpace).with_fixed({{"opt", std::string("rms")}});
  const Case cases[] = {
      {"greedy", BatchMethod::kGreedy, Strategy::kGlobal, 1, 0, 2},
      {"thompson", BatchMethod::kThompson, Strategy::kGlobal, 1, 0, 3},
      {"qlognei", BatchMethod::kQLogNei, Strategy::kGlobal, 1, 0, 2},
      {"trust regions", BatchMethod::kAuto, Strategy::kTrustRegion, 2, 0, 2},
      {"outcome constraint", BatchMethod::kGreedy, Strategy::kGlobal, 1, 1, 1},
      {"scbo", BatchMethod::kAuto, Strategy::kTrustRegion, 1, 1, 2},
  };
  const Params per_ask = {{"a", 0.15}, {"g", 0.7}, {"n", std::int64_t{6}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Study study(space, options_of(c));
    int free_a = 0;
    for (int round = 0; round < 12; ++round) {
      const bool pin = round % 2 == 1;
      const std::vector<Trial> got = pin ? study.ask(c.q, per_ask) : study.ask(c.q);
      for (const Trial& t : got) {
        Params expect = {{"opt", std::string("rms")}};
        if (pin) expect.insert(per_ask.begin(), per_ask.end());
        expect_admitted(space, t, expect);
        free_a += !pin && num(t.params.at("a")) != 0.15;
        tell(study, t, c.metrics);
      }
    }
    EXPECT_GT(free_a, 0);  // the ask's values do not stick to the study
    EXPECT_EQ(study.space(), space);
  }
}

TEST(LinearConstraintsStudy, BadFixedValuesAreRefusedBeforeAnythingChanges) {
  Study study(Space::from_json(kSpace));
  EXPECT_THROW(study.ask(1, {{"zz", 1.0}}), InvalidArgument);
  EXPECT_THROW(study.ask(1, {{"a", 1.5}}), InvalidArgument);
  EXPECT_THROW(study.ask(1, {{"g", 0.15}}), InvalidArgument);
  EXPECT_THROW(study.ask(1, {{"opt", std::string("lion")}}), InvalidArgument);
  // Each value is fine alone; together they leave no point of a + b + c <= 1.
  EXPECT_THROW(study.ask(1, {{"a", 0.6}, {"b", 0.6}}), InvalidArgument);
  EXPECT_TRUE(study.trials().empty());
  EXPECT_EQ(study.ask(1, {{"a", 0.6}}).size(), 1u);
}

TEST(LinearConstraintsStudy, EnqueueMustMeetTheConstraintsButToldDataNeedNot) {
  const Space space = Space::from_json(kSpace);
  Study study(space);
  const Params outside = {{"a", 0.5},
                          {"b", 0.5},
                          {"c", 0.5},
                          {"d", 0.0},
                          {"g", 0.0},
                          {"n", std::int64_t{4}},
                          {"opt", std::string("sgd")}};
  EXPECT_THROW(study.enqueue(outside), InvalidArgument);
  Params inside = outside;
  inside["c"] = 0.0;
  EXPECT_NO_THROW(study.enqueue(inside));
  const std::int64_t id = study.add_trial(outside, TrialState::kComplete, 1.0);
  EXPECT_EQ(study.trial(id).params, space.canonical(outside));
  EXPECT_EQ(study.ask(1).front().params, space.canonical(inside));
}

TEST(LinearConstraintsStudy, DiscreteConstrainedSpaceIsWalkedOnlyThroughAdmittedPoints) {
  Space space;
  space.add_int("i", 0, 3).add_int("j", 0, 3);
  space.add_constraint({{{"i", 1.0}, {"j", 1.0}}, 2.0, false});  // 6 admitted points of 16
  Study study(space);
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  for (int k = 0; k < 6; ++k) {
    const Trial& t = study.ask();
    const auto i = std::get<std::int64_t>(t.params.at("i"));
    const auto j = std::get<std::int64_t>(t.params.at("j"));
    EXPECT_LE(i + j, 2);
    EXPECT_TRUE(seen.insert({i, j}).second);
    study.tell(t.id, static_cast<double>(i - j));
  }
  EXPECT_THROW(study.ask(), Conflict);
}

class LinearConstraintsStore : public ::testing::TestWithParam<std::string> {
 protected:
  std::shared_ptr<Storage> open() {
    if (GetParam() == "memory") return Storage::open("memory://");
    return Storage::open("sqlite://" + (dir_.path() / "s.db").string());
  }
  TempDir dir_{"gpbo-constraints"};
};

TEST_P(LinearConstraintsStore, SpaceRoundTripsAndAsksAreAdmitted) {
  const Space space = Space::from_json(kSpace).with_fixed({{"opt", std::string("adam")}});
  std::shared_ptr<Storage> storage = open();
  StudyOptions o;
  o.n_initial = 4;
  o.optimizer.raw_samples = 256;
  PersistentStudy study = PersistentStudy::create(storage, "s", space, o);
  PersistentStudy again(GetParam() == "memory" ? storage : open(), "s");
  EXPECT_EQ(Space::from_json(again.info().space_json), space);
  const Params outside = {{"a", 0.5},
                          {"b", 0.5},
                          {"c", 0.5},
                          {"d", 0.0},
                          {"g", 0.0},
                          {"n", std::int64_t{4}},
                          {"opt", std::string("sgd")}};
  EXPECT_THROW(study.enqueue(outside), InvalidArgument);
  EXPECT_THROW(study.ask(1, "", {{"zz", 1.0}}), InvalidArgument);
  EXPECT_TRUE(study.trials().empty());
  for (int round = 0; round < 8; ++round) {
    const Params pin = round % 2 ? Params{{"b", 0.25}} : Params{};
    for (const Trial& t : study.ask(2, "", pin)) {
      Params expect = {{"opt", std::string("adam")}};
      expect.insert(pin.begin(), pin.end());
      expect_admitted(space, t, expect);
      study.tell(t.id, objective(t.params));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, LinearConstraintsStore, ::testing::Values("memory", "sqlite"));

}  // namespace
}  // namespace gpbo
