// Conditional parameters (issue 20): the JSON form and its validation, which parameters a point
// holds, the fixed encoding of inactive ones, every kind of suggestion satisfying the conditions
// exactly, refused points, and round trips through the stores.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/metrics.hpp"
#include "gpbo/options.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/report.hpp"
#include "gpbo/space.hpp"
#include "gpbo/storage.hpp"
#include "gpbo/study.hpp"

namespace gpbo {
namespace {

// Nested to depth two (model -> kernel -> degree), an int parent with a range (layers -> width3,
// and width3's own child), and an unconditional float.
const char* kSpaceJson = R"({"params": [
  {"name": "x", "type": "float", "low": -1, "high": 1},
  {"name": "model", "type": "categorical", "choices": ["svm", "rf", "lin"]},
  {"name": "C", "type": "float", "low": 0.001, "high": 1000, "log": true,
   "condition": {"parent": "model", "in": ["svm", "lin"]}},
  {"name": "kernel", "type": "categorical", "choices": ["rbf", "poly"],
   "condition": {"parent": "model", "in": ["svm"]}},
  {"name": "degree", "type": "int", "low": 2, "high": 5,
   "condition": {"parent": "kernel", "in": ["poly"]}},
  {"name": "layers", "type": "int", "low": 1, "high": 4,
   "condition": {"parent": "model", "in": ["rf"]}},
  {"name": "width3", "type": "int", "low": 8, "high": 64, "step": 8,
   "condition": {"parent": "layers", "low": 3}},
  {"name": "drop3", "type": "float", "low": 0, "high": 0.5,
   "condition": {"parent": "width3", "high": 32}}
]})";

Space nested_space() { return Space::from_json(kSpaceJson); }

// The active set written out by hand, independently of the Space's own logic.
std::set<std::string> expected_active(const Params& p) {
  std::set<std::string> a = {"x", "model"};
  const std::string model = std::get<std::string>(p.at("model"));
  if (model == "svm" || model == "lin") a.insert("C");
  if (model == "svm") {
    a.insert("kernel");
    if (std::get<std::string>(p.at("kernel")) == "poly") a.insert("degree");
  }
  if (model == "rf") {
    a.insert("layers");
    if (std::get<std::int64_t>(p.at("layers")) >= 3) {
      a.insert("width3");
      if (std::get<std::int64_t>(p.at("width3")) <= 32) a.insert("drop3");
    }
  }
  return a;
}

// Equal points: the same names and values, floats within rounding (a float's decode inverts
// its encoding to a few ulps).
void expect_same_point(const Params& a, const Params& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, v] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    const ParamValue& w = b.at(name);
    ASSERT_EQ(v.index(), w.index()) << name;
    if (const auto* x = std::get_if<double>(&v)) {
      EXPECT_NEAR(*x, std::get<double>(w), 1e-12 * std::max(1.0, std::abs(*x))) << name;
    } else {
      EXPECT_EQ(v, w) << name;
    }
  }
}

// A suggestion holds exactly its active parameters, is valid, and its encoding holds the fixed
// value in every inactive dimension.
void expect_exact(const Space& space, const Params& p) {
  std::set<std::string> names;
  for (const auto& e : p) names.insert(e.first);
  ASSERT_TRUE(p.count("model"));
  EXPECT_EQ(names, expected_active(p));
  EXPECT_NO_THROW(space.validate(p));
  const Eigen::VectorXd u = space.encode(p);
  expect_same_point(space.decode(u), p);
  for (std::size_t i = 0; i < space.size(); ++i) {
    const ParamSpec& s = space.params()[i];
    if (p.count(s.name)) continue;
    if (s.type == ParamType::kCategorical) {
      for (std::size_t j = 0; j < s.choices.size(); ++j)
        EXPECT_EQ(u[space.offset(i) + static_cast<int>(j)], 0.0) << s.name;
    } else {
      EXPECT_EQ(u[space.offset(i)], kInactiveNumeric) << s.name;
    }
  }
}

double objective(const Params& p) {
  const double x = std::get<double>(p.at("x"));
  const std::string model = std::get<std::string>(p.at("model"));
  double y = x * x;
  if (model == "svm") y += std::abs(std::log10(std::get<double>(p.at("C")))) * 0.1;
  if (model == "lin") y += 1.0;
  if (model == "rf") y += 0.5 - 0.1 * static_cast<double>(std::get<std::int64_t>(p.at("layers")));
  if (p.count("drop3")) y += std::get<double>(p.at("drop3"));
  return y;
}

TEST(SpaceConditions, JsonRoundTripAndTodaysSpacesUnchanged) {
  const Space s = nested_space();
  EXPECT_TRUE(s.has_conditions());
  EXPECT_EQ(Space::from_json(s.to_json()), s);
  EXPECT_EQ(Space::from_json(s.to_json()).to_json(), s.to_json());
  EXPECT_EQ(s.params()[6].condition.parent, "layers");
  EXPECT_EQ(*s.params()[6].condition.low, 3);
  EXPECT_FALSE(s.params()[6].condition.high.has_value());
  // A space without conditions: no "condition" key, and the same space as before.
  Space plain;
  plain.add_float("a", 0, 1).add_categorical("b", {"u", "v"});
  EXPECT_FALSE(plain.has_conditions());
  EXPECT_EQ(plain.to_json().find("condition"), std::string::npos);
  EXPECT_EQ(Space::from_json(plain.to_json()), plain);
  // Conditions take part in equality.
  Space a, b;
  a.add_categorical("m", {"p", "q"}).add_float("z", 0, 1);
  b = a;
  EXPECT_EQ(a, b);
  b.set_condition("z", {"m", {"p"}, {}, {}});
  EXPECT_FALSE(a == b);
  // Both range bounds, inclusive.
  const Space both = Space::from_json(R"([{"name": "n", "type": "int", "low": 1, "high": 9},
    {"name": "w", "type": "float", "low": 0, "high": 1,
     "condition": {"parent": "n", "low": 2, "high": 4}}])");
  EXPECT_EQ(Space::from_json(both.to_json()), both);
  EXPECT_FALSE(both.active(1, {{"n", std::int64_t{1}}}));
  EXPECT_TRUE(both.active(1, {{"n", std::int64_t{2}}}));
  EXPECT_TRUE(both.active(1, {{"n", std::int64_t{4}}}));
  EXPECT_FALSE(both.active(1, {{"n", std::int64_t{5}}}));
}

// Each malformed condition is refused with InvalidArgument naming the parameter.
TEST(SpaceConditions, MalformedConditionsAreRefused) {
  const std::string head = R"({"params": [
    {"name": "m", "type": "categorical", "choices": ["a", "b"]},
    {"name": "n", "type": "int", "low": 1, "high": 5},
    {"name": "s", "type": "int", "low": 0, "high": 20, "step": 10},
    {"name": "f", "type": "float", "low": 0, "high": 1},)";
  const auto child = [&](const std::string& cond) {
    return head + R"({"name": "kid", "type": "float", "low": 0, "high": 1, "condition": )" + cond +
           "}]}";
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {child(R"({"parent": "nope", "in": ["a"]})"), "not a parameter"},
      {child(R"({"parent": "kid", "in": ["a"]})"), "itself"},
      {child(R"({"parent": "f", "low": 0})"), "is a float"},
      {child(R"({"parent": "m", "in": ["c"]})"), "'c' is not a choice of 'm'"},
      {child(R"({"parent": "m", "in": []})"), "at least one choice"},
      {child(R"({"parent": "m", "in": ["a", "a"]})"), "twice"},
      {child(R"({"parent": "m", "in": "a"})"), "array"},
      {child(R"({"parent": "m", "low": 1})"), "needs \"in\""},
      {child(R"({"parent": "n", "in": ["a"]})"), "needs \"low\""},
      {child(R"({"parent": "n", "in": ["a"], "low": 2})"), "not both"},
      {child(R"({"parent": "n"})"), "needs \"in\""},
      {child(R"({"parent": "n", "low": 6})"), "can never hold"},
      {child(R"({"parent": "n", "high": 0})"), "can never hold"},
      {child(R"({"parent": "n", "low": 4, "high": 3})"), "range is empty"},
      {child(R"({"parent": "s", "low": 1, "high": 9})"), "can never hold"},
      {child(R"({"parent": "n", "low": 2.5})"), "must be an integer"},
      {child(R"({"parent": "n", "low": 2, "above": 3})"), "unknown key"},
      {child(R"({"in": ["a"]})"), "needs \"parent\""},
      {child(R"(["m", "a"])"), "must be an object"},
      // A parent declared after its child (so no cycle can be written).
      {R"([{"name": "kid", "type": "float", "low": 0, "high": 1,
            "condition": {"parent": "m", "in": ["a"]}},
           {"name": "m", "type": "categorical", "choices": ["a", "b"]}])",
       "not a parameter"},
  };
  for (const auto& [text, what] : cases) {
    try {
      Space::from_json(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InvalidArgument& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("parameter 'kid'"), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg << " (wanted: " << what << ")";
    }
  }
  // Through the C++ API: a parent declared later, and a second condition.
  Space s;
  s.add_float("z", 0, 1).add_categorical("m", {"a", "b"});
  EXPECT_THROW(s.set_condition("z", {"m", {"a"}, {}, {}}), InvalidArgument);
  s.add_float("w", 0, 1).set_condition("w", {"m", {"a"}, {}, {}});
  EXPECT_THROW(s.set_condition("w", {"m", {"b"}, {}, {}}), InvalidArgument);
  EXPECT_THROW(s.set_condition("ghost", {"m", {"b"}, {}, {}}), InvalidArgument);
  // The range's sides are inclusive: a one-value range on the grid is possible.
  EXPECT_NO_THROW(Space::from_json(child(R"({"parent": "s", "low": 10, "high": 10})")));
}

TEST(SpaceConditions, PointsHoldExactlyTheActiveParameters) {
  const Space s = nested_space();
  const Params svm_poly = {{"x", 0.5},
                           {"model", std::string("svm")},
                           {"C", 1.0},
                           {"kernel", std::string("poly")},
                           {"degree", std::int64_t{3}}};
  expect_exact(s, svm_poly);
  const Params rf4 = {{"x", 0.0},
                      {"model", std::string("rf")},
                      {"layers", std::int64_t{4}},
                      {"width3", std::int64_t{16}},
                      {"drop3", 0.25}};
  expect_exact(s, rf4);
  // An inactive parameter present, an active one missing: refused, naming it and why.
  Params bad = svm_poly;
  bad["layers"] = std::int64_t{2};
  try {
    s.validate(bad);
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'layers': is inactive"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model in [rf]"), std::string::npos) << e.what();
  }
  bad = svm_poly;
  bad.erase("degree");
  try {
    s.validate(bad);
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'degree': missing"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("kernel in [poly]"), std::string::npos) << e.what();
  }
  bad = rf4;
  bad["width3"] = std::int64_t{40};  // drop3 is active only up to 32
  EXPECT_THROW(s.validate(bad), InvalidArgument);
  EXPECT_THROW(s.encode(bad), InvalidArgument);
  bad = rf4;
  bad["layers"] = std::int64_t{2};  // width3 and drop3 now inactive
  EXPECT_THROW(s.canonical(bad), InvalidArgument);
  EXPECT_EQ(s.canonical(s.active_only(bad)).size(), 3u);
  // canonical types an integral double given for an int parent, and keeps the active set.
  Params loose = rf4;
  loose["layers"] = 4.0;
  EXPECT_EQ(s.canonical(loose), rf4);
}

TEST(SpaceConditions, SnapAndDecodeOfAnyVector) {
  const Space s = nested_space();
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unif(-0.2, 1.2);
  std::set<std::set<std::string>> seen;
  for (int k = 0; k < 2000; ++k) {
    Eigen::VectorXd u(s.encoded_dim());
    for (int j = 0; j < u.size(); ++j) u[j] = unif(rng);
    const Params d = s.decode(u);
    std::set<std::string> names;
    for (const auto& e : d) names.insert(e.first);
    EXPECT_EQ(names, expected_active(d));
    s.snap(u);
    expect_same_point(s.decode(u), d);
    expect_exact(s, d);
    EXPECT_LT((s.encode(d) - u).cwiseAbs().maxCoeff(), 1e-12);
    const std::vector<bool> mask = s.active_dims(u);
    for (std::size_t i = 0; i < s.size(); ++i)
      EXPECT_EQ(mask[static_cast<std::size_t>(s.offset(i))], d.count(s.params()[i].name) == 1);
    seen.insert(names);
  }
  EXPECT_EQ(seen.size(), 6u);  // every branch: lin, svm/rbf, svm/poly, rf x {<3, >32, <=32}
}

// Runs a study and checks every suggestion (with metrics, a study of two objectives).
void run_study(StudyOptions o, int q, int rounds) {
  Study study(nested_space(), o);
  const Space& space = study.space();
  std::set<std::string> models;
  for (int r = 0; r < rounds; ++r) {
    const std::vector<Trial> batch = study.ask(q);
    ASSERT_EQ(batch.size(), static_cast<std::size_t>(q));
    for (const Trial& t : batch) {
      expect_exact(space, t.params);
      models.insert(std::get<std::string>(t.params.at("model")));
    }
    for (const Trial& t : batch) {
      if (o.metrics.objectives.empty()) {
        study.tell(t.id, objective(t.params));
      } else {
        study.tell(t.id, MetricValues{{"loss", objective(t.params)},
                                      {"cost", std::abs(std::get<double>(t.params.at("x")))}});
      }
    }
  }
  EXPECT_GE(models.size(), 2u);
}

StudyOptions fast_options(std::uint64_t seed) {
  StudyOptions o;
  o.seed = seed;
  o.n_initial = 6;
  o.gp.n_starts = 1;
  o.optimizer.raw_samples = 256;
  o.optimizer.restarts = 4;
  return o;
}

TEST(SpaceConditions, EverySuggestionSatisfiesTheConditions) {
  run_study(fast_options(1), 1, 14);  // initial design then model asks (LogEI)
  StudyOptions ucb = fast_options(2);
  ucb.acquisition = AcquisitionType::kUCB;
  run_study(ucb, 1, 10);
  for (const BatchMethod m :
       {BatchMethod::kGreedy, BatchMethod::kQLogNei, BatchMethod::kThompson}) {
    StudyOptions o = fast_options(3);
    o.batch_method = m;
    SCOPED_TRACE(to_string(m));
    run_study(o, 4, 4);
  }
  StudyOptions tr = fast_options(4);
  tr.strategy = Strategy::kTrustRegion;
  tr.trust_region.n_candidates = 256;
  run_study(tr, 1, 12);
  run_study(tr, 3, 4);
  tr.trust_region.n_regions = 2;
  tr.batch_method = BatchMethod::kThompson;
  run_study(tr, 4, 4);
  StudyOptions mo = fast_options(5);
  mo.metrics.objectives = {{"loss", Direction::kMinimize}, {"cost", Direction::kMinimize}};
  run_study(with_objective_direction(mo), 2, 7);
}

// An all-discrete conditional space has exactly its distinct active points: (a, 1), (a, 2),
// (a, 3) and (b); the walk of a used-up space finds the last ones, then the space is exhausted.
TEST(SpaceConditions, FixedValuesAndConstraintsWithConditions) {
  // A constraint or a fixed value on a conditional parameter is refused either way round.
  Space space = nested_space();
  EXPECT_THROW(space.add_constraint({{{"C", 1.0}}, 10.0, false}), InvalidArgument);
  EXPECT_THROW(space.add_constraint({{{"layers", 1.0}, {"x", 1.0}}, 3.0, false}), InvalidArgument);
  EXPECT_THROW(space.with_fixed({{"kernel", std::string("poly")}}), InvalidArgument);
  Space flat;
  flat.add_categorical("m", {"a", "b"}).add_float("x", 0.0, 1.0).add_float("y", 0.0, 1.0);
  flat.add_constraint({{{"x", 1.0}, {"y", 1.0}}, 1.0, false});
  Condition on_b;
  on_b.parent = "m";
  on_b.in = {"b"};
  EXPECT_THROW(Space(flat).set_condition("x", on_b), InvalidArgument);

  // Fixing a parent decides its children: with model fixed to svm every suggestion holds C and
  // kernel, and the constraint on x holds.
  space.add_constraint({{{"x", 1.0}}, 0.5, false});
  StudyOptions o;
  o.n_initial = 5;
  Study study(space, o);
  for (int i = 0; i < 12; ++i) {
    const Trial t = study.ask(1, {{"model", std::string("svm")}}).front();
    expect_exact(space, t.params);
    EXPECT_EQ(std::get<std::string>(t.params.at("model")), "svm");
    EXPECT_LE(std::get<double>(t.params.at("x")), 0.5);
    study.tell(t.id, objective(t.params));
  }
}

TEST(SpaceConditions, DiscreteConditionalSpaceIsUsedUpExactly) {
  Space space;
  space.add_categorical("m", {"a", "b"})
      .add_int("k", 1, 3)
      .set_condition("k", {"m", {"a"}, {}, {}});
  StudyOptions o = fast_options(0);
  o.n_initial = 2;
  Study study(space, o);
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    const Trial& t = study.ask();
    std::string key = std::get<std::string>(t.params.at("m"));
    if (t.params.count("k")) key += std::to_string(std::get<std::int64_t>(t.params.at("k")));
    EXPECT_TRUE(seen.insert(key).second) << key;
    study.tell(t.id, static_cast<double>(i));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"a1", "a2", "a3", "b"}));
  EXPECT_THROW(study.ask(), Conflict);
}

TEST(SpaceConditions, EnqueueAndImportRefuseWrongActiveSets) {
  Study study(nested_space(), fast_options(0));
  const Params lin = {{"x", 0.1}, {"model", std::string("lin")}, {"C", 2.0}};
  Params extra = lin;
  extra["kernel"] = std::string("rbf");
  EXPECT_THROW(study.enqueue(extra), InvalidArgument);
  Params missing = lin;
  missing.erase("C");
  EXPECT_THROW(study.enqueue(missing), InvalidArgument);
  EXPECT_THROW(study.add_trial(extra, TrialState::kComplete, 1.0), InvalidArgument);
  EXPECT_TRUE(study.trials().empty());
  study.enqueue(lin);
  const Trial& t = study.ask();
  EXPECT_EQ(t.params, lin);
}

// The report fits its model to trials of different branches, draws slices only where they
// are defined and leaves inactive values out of the plots and the table.
TEST(SpaceConditions, ReportOfAConditionalStudy) {
  Study study(nested_space(), fast_options(6));
  for (int i = 0; i < 16; ++i) {
    const Trial& t = study.ask();
    study.tell(t.id, objective(t.params));
  }
  const std::string html = render_report(study, "cond");
  EXPECT_EQ(html.find("could not be fitted"), std::string::npos);
  EXPECT_NE(html.find("A Gaussian process"), std::string::npos);
  EXPECT_NE(html.find("id=\"slices\""), std::string::npos);
  EXPECT_NE(html.find("<figure class=\"slice\">"), std::string::npos);
}

void store_round_trip(const std::string& url) {
  std::shared_ptr<Storage> storage = Storage::open(url);
  const Space space = nested_space();
  {
    PersistentStudy study = PersistentStudy::create(storage, "cond", space, fast_options(5));
    for (int i = 0; i < 10; ++i) {
      const std::vector<Trial> got = study.ask(1);
      expect_exact(space, got[0].params);
      study.tell(got[0].id, objective(got[0].params));
    }
    Params wrong = {{"x", 0.1}, {"model", std::string("lin")}};
    EXPECT_THROW(study.enqueue(wrong), InvalidArgument);
  }
  // A memory store lives in its handle; a SQLite file is opened afresh.
  PersistentStudy again(url == "memory://" ? storage : Storage::open(url), "cond");
  EXPECT_EQ(Space::from_json(again.info().space_json), space);
  const std::vector<Trial> trials = again.trials();
  ASSERT_EQ(trials.size(), 10u);
  for (const Trial& t : trials) expect_exact(space, t.params);
  const std::vector<Trial> more = again.ask(2);
  for (const Trial& t : more) expect_exact(space, t.params);
}

TEST(SpaceConditions, RoundTripThroughTheStores) {
  const std::string path = testing::TempDir() + "gpbo_conditions_test.db";
  std::remove(path.c_str());
  store_round_trip("sqlite://" + path);
  std::remove(path.c_str());
  store_round_trip("memory://");
}

}  // namespace
}  // namespace gpbo
