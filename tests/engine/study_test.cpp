// Tests of the ask/tell Study (include/gpbo/study.hpp): determinism, the initial design,
// validity and uniqueness of suggestions, tell/enqueue validation, best(), the output warpings,
// and regret against a Sobol baseline on standard test functions.
#include "gpbo/study.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gpbo/acquisition.hpp"
#include "gpbo/error.hpp"
#include "gpbo/test_functions.hpp"
#include "numerics/sobol.hpp"

namespace gpbo {
namespace {

using Objective = std::function<double(const Params&)>;

// float x, log-float lr, int n, categorical opt: encoded dimension 1 + 1 + 1 + 3 = 6.
Space mixed_space() {
  Space s;
  s.add_float("x", -5.0, 5.0)
      .add_float("lr", 1e-4, 1e-1, /*log=*/true)
      .add_int("n", 1, 10)
      .add_categorical("opt", {"sgd", "adam", "rmsprop"});
  return s;
}

double mixed_objective(const Params& p) {
  const double x = std::get<double>(p.at("x"));
  const double lr = std::get<double>(p.at("lr"));
  const auto n = std::get<std::int64_t>(p.at("n"));
  const std::string& opt = std::get<std::string>(p.at("opt"));
  const double l = std::log10(lr) + 2.5;
  return (x - 1.0) * (x - 1.0) + l * l + 0.1 * static_cast<double>((n - 7) * (n - 7)) +
         (opt == "adam" ? 0.0 : 0.5);
}

// 2 ints x 1 categorical: 2 * 3 * 2 = 12 points.
Space small_discrete_space() {
  Space s;
  s.add_int("a", 0, 1).add_int("b", 0, 2).add_categorical("c", {"x", "y"});
  return s;
}

double discrete_objective(const Params& p) {
  const auto a = std::get<std::int64_t>(p.at("a"));
  const auto b = std::get<std::int64_t>(p.at("b"));
  const double c = std::get<std::string>(p.at("c")) == "x" ? 0.0 : 0.3;
  return static_cast<double>((a - 1) * (a - 1) + (b - 1) * (b - 1)) + c;
}

// Asks and tells `budget` times; returns the suggested params in order.
std::vector<Params> run(Study& study, const Objective& f, int budget) {
  std::vector<Params> out;
  for (int i = 0; i < budget; ++i) {
    const Trial& t = study.ask();
    out.push_back(t.params);
    study.tell(t.id, f(t.params));
  }
  return out;
}

std::string describe(const Params& p) {
  std::string s = "{";
  for (const auto& [k, v] : p) s += k + "=" + to_string(v) + " ";
  return s + "}";
}

// ------------------------------------------------------------------------------------ basics

TEST(StudyTest, SameSeedGivesIdenticalSuggestions) {
  StudyOptions o;
  o.seed = 7;
  Study a(mixed_space(), o), b(mixed_space(), o);
  const std::vector<Params> pa = run(a, mixed_objective, 25);
  const std::vector<Params> pb = run(b, mixed_objective, 25);
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i], pb[i]) << "ask " << i << ": " << describe(pa[i]) << " vs " << describe(pb[i]);
  }
  for (std::size_t i = 0; i < a.trials().size(); ++i) {
    EXPECT_EQ(a.trials()[i].source, b.trials()[i].source) << "ask " << i;
  }
}

TEST(StudyTest, FixedHyperparametersAreConditionedOnNotRefitted) {
  StudyOptions o;
  o.n_initial = 5;
  Study fitted(mixed_space(), o);
  run(fitted, mixed_objective, 6);  // one model ask
  const std::optional<GpHyperparameters> fit = fitted.fit_hyperparameters();
  ASSERT_TRUE(fit.has_value());

  // A deliberately poor choice (long lengthscales, high noise) survives every later ask.
  GpHyperparameters h = *fit;
  h.lengthscales.setConstant(7.0);
  h.noise = 0.2;
  Study fixed(mixed_space(), o);
  EXPECT_FALSE(fixed.fit_hyperparameters().has_value());  // nothing complete yet
  fixed.fix_hyperparameters(h);
  run(fixed, mixed_objective, 9);
  ASSERT_TRUE(fixed.warm_start().has_value());
  EXPECT_EQ(fixed.warm_start()->lengthscales, h.lengthscales);
  EXPECT_EQ(fixed.warm_start()->noise, h.noise);
  // ...while a fit moves away from it.
  const std::optional<GpHyperparameters> refit = fixed.fit_hyperparameters();
  ASSERT_TRUE(refit.has_value());
  EXPECT_NE(refit->lengthscales, h.lengthscales);
}

TEST(StudyTest, TheAskSplitAddsUpAndSeesNoSearchOnFixedHyperparameters) {
  StudyOptions o;
  o.n_initial = 5;
  Study fitted(mixed_space(), o);
  run(fitted, mixed_objective, 5);
  EXPECT_EQ(fitted.last_ask_split().fit, 0.0);  // the initial design: no model
  run(fitted, mixed_objective, 1);
  const gpbo::AskSplit a = fitted.last_ask_split();
  EXPECT_GT(a.fit, 0.0);
  EXPECT_GT(a.factor, 0.0);
  EXPECT_GT(a.acquisition, 0.0);
  EXPECT_DOUBLE_EQ(a.total, fitted.ask_seconds().back());
  EXPECT_NEAR(a.fit + a.factor + a.acquisition, a.total, 1e-12);

  Study fixed(mixed_space(), o);
  fixed.fix_hyperparameters(*fitted.fit_hyperparameters());
  run(fixed, mixed_objective, 6);
  EXPECT_EQ(fixed.last_ask_split().fit, 0.0);  // conditioned: no search
  EXPECT_GT(fixed.last_ask_split().factor, 0.0);
}

TEST(StudyTest, DifferentSeedsGiveDifferentSuggestions) {
  StudyOptions o;
  o.seed = 7;
  Study a(mixed_space(), o);
  o.seed = 8;
  Study b(mixed_space(), o);
  const std::vector<Params> pa = run(a, mixed_objective, 25);
  const std::vector<Params> pb = run(b, mixed_objective, 25);
  // Both start at the centre of the box; from then on the scrambled designs differ.
  EXPECT_EQ(pa[0], pb[0]);
  int differing = 0;
  for (std::size_t i = 1; i < pa.size(); ++i) differing += pa[i] != pb[i];
  EXPECT_GE(differing, 20) << "of 24 suggestions after the centre";
  EXPECT_NE(pa[1], pb[1]);
}

TEST(StudyTest, InitialDesignStartsAtTheCentreThenSwitchesToTheModel) {
  const Space space = mixed_space();
  Study study(space, StudyOptions{});
  ASSERT_EQ(space.encoded_dim(), 6);
  EXPECT_EQ(study.n_initial(), default_initial_design_size(6));
  const int n0 = study.n_initial();
  run(study, mixed_objective, n0 + 6);
  const std::vector<Trial>& trials = study.trials();
  ASSERT_EQ(static_cast<int>(trials.size()), n0 + 6);
  for (int i = 0; i < n0 + 6; ++i) {
    EXPECT_EQ(trials[i].id, i);
    EXPECT_EQ(trials[i].state, TrialState::kComplete);
    EXPECT_EQ(trials[i].source, i < n0 ? "initial" : "model") << "trial " << i;
  }
  // The first point is the centre of the box: x = 0, lr = sqrt(1e-4 * 1e-1) (log scale), n at
  // the middle of [1, 10] (5 or 6).
  const Params& first = trials[0].params;
  EXPECT_NEAR(std::get<double>(first.at("x")), 0.0, 1e-12);
  EXPECT_NEAR(std::get<double>(first.at("lr")), std::sqrt(1e-5), 1e-15);
  const auto n = std::get<std::int64_t>(first.at("n"));
  EXPECT_TRUE(n == 5 || n == 6) << n;
  EXPECT_EQ(study.ask_seconds().size(), trials.size());
}

TEST(StudyTest, ExplicitInitialDesignSizeIsUsed) {
  StudyOptions o;
  o.n_initial = 3;
  const TestFunction f = TestFunction::make("branin");
  Study study(f.space(), o);
  EXPECT_EQ(study.n_initial(), 3);
  run(
      study, [&](const Params& p) { return f(f.to_vector(p)); }, 6);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(study.trials()[i].source, i < 3 ? "initial" : "model") << "trial " << i;
  }
}

TEST(StudyTest, EverySuggestionIsValidForTheSpace) {
  const Space space = mixed_space();
  StudyOptions o;
  o.seed = 3;
  Study study(space, o);
  const std::vector<Params> ps = run(study, mixed_objective, 25);
  for (std::size_t i = 0; i < ps.size(); ++i) {
    EXPECT_NO_THROW(space.validate(ps[i])) << "ask " << i << ": " << describe(ps[i]);
    // The canonical value types: double for floats, int64 for ints, string for categoricals.
    EXPECT_TRUE(std::holds_alternative<double>(ps[i].at("x")));
    EXPECT_TRUE(std::holds_alternative<double>(ps[i].at("lr")));
    EXPECT_TRUE(std::holds_alternative<std::int64_t>(ps[i].at("n")));
    EXPECT_TRUE(std::holds_alternative<std::string>(ps[i].at("opt")));
  }
  // The model has found the region of the optimum in the float and int parameters (x = 1,
  // lr = 10^-2.5, n = 7: value 0.5 with a non-optimal choice, 0 with "adam"). Note: in 25 asks
  // it does not reliably find the best categorical choice, so that is not required here.
  ASSERT_TRUE(study.best().has_value());
  EXPECT_LT(*study.best()->value, 1.0);
}

TEST(StudyTest, AcquisitionsAndWarpingsAllRun) {
  const TestFunction f = TestFunction::make("branin");
  const auto obj = [&](const Params& p) { return f(f.to_vector(p)); };
  for (AcquisitionType acq : {AcquisitionType::kLogEI, AcquisitionType::kEI, AcquisitionType::kUCB,
                              AcquisitionType::kPI}) {
    for (OutputWarping w : {OutputWarping::kNone, OutputWarping::kHalfRank, OutputWarping::kLog}) {
      StudyOptions o;
      o.acquisition = acq;
      o.output_warping = w;
      o.seed = 1;
      Study study(f.space(), o);
      const std::vector<Params> ps = run(study, obj, 10);
      for (const Params& p : ps) EXPECT_NO_THROW(f.space().validate(p));
      std::set<Params> unique(ps.begin(), ps.end());
      EXPECT_EQ(unique.size(), ps.size()) << to_string(acq);
      EXPECT_EQ(study.trials().back().source, "model");
    }
  }
}

// ------------------------------------------------------------------- discrete spaces, pending

TEST(StudyTest, DiscreteSpaceNeverRepeatsWithoutTells) {
  const Space space = small_discrete_space();
  Study study(space, StudyOptions{});
  std::set<Params> seen;
  for (int i = 0; i < 12; ++i) {
    const Trial& t = study.ask();
    EXPECT_NO_THROW(space.validate(t.params));
    EXPECT_TRUE(seen.insert(t.params).second) << "ask " << i << " repeats " << describe(t.params);
  }
  EXPECT_EQ(seen.size(), 12u);
  try {
    study.ask();
    ADD_FAILURE() << "the 13th ask of a 12-point space did not throw";
  } catch (const Conflict& e) {
    EXPECT_NE(std::string(e.what()).find("exhausted"), std::string::npos) << e.what();
  }
  // The failed ask recorded nothing.
  EXPECT_EQ(study.trials().size(), 12u);
}

TEST(StudyTest, DiscreteSpaceNeverRepeatsWithTells) {
  const Space space = small_discrete_space();
  for (std::uint64_t seed : {0ULL, 1ULL, 2ULL}) {
    StudyOptions o;
    o.seed = seed;
    Study study(space, o);
    std::set<Params> seen;
    for (int i = 0; i < 12; ++i) {
      const Trial& t = study.ask();
      EXPECT_NO_THROW(space.validate(t.params));
      EXPECT_TRUE(seen.insert(t.params).second)
          << "seed " << seed << ", ask " << i << " repeats " << describe(t.params);
      study.tell(t.id, discrete_objective(t.params));
    }
    EXPECT_EQ(seen.size(), 12u);
    EXPECT_GT(std::count_if(study.trials().begin(), study.trials().end(),
                            [](const Trial& t) { return t.source == "model"; }),
              0);
    EXPECT_THROW(study.ask(), Conflict) << "seed " << seed;
    EXPECT_EQ(study.trials().size(), 12u);
    // Every point was evaluated, so best() is the true minimum (a = 1, b = 1, c = x).
    ASSERT_TRUE(study.best().has_value());
    EXPECT_EQ(*study.best()->value, 0.0);
  }
}

// Regression: suggest_initial used to give up after 1000 Sobol draws and report the space
// exhausted while points remained. Here n = 1 .. 1999 of a log int on [1, 2000] have been asked
// (enqueued); n = 2000's bin covers ~6e-5 of the unit interval, so random draws rarely hit it.
TEST(StudyTest, DiscreteSpaceIsOnlyExhaustedWhenEveryPointWasSuggested) {
  Space space;
  space.add_int("n", 1, 2000, /*log=*/true);
  Study study(space, StudyOptions{});
  for (std::int64_t k = 1; k < 2000; ++k) study.enqueue(Params{{"n", k}});
  for (std::int64_t k = 1; k < 2000; ++k) ASSERT_EQ(study.ask().source, "enqueued");
  try {
    const Trial& t = study.ask();
    EXPECT_EQ(t.params, (Params{{"n", std::int64_t{2000}}}));
  } catch (const Conflict& e) {
    ADD_FAILURE() << "ask() threw Conflict (\"" << e.what()
                  << "\") although n = 2000 was never suggested";
  }
  EXPECT_THROW(study.ask(), Conflict);  // now it really is exhausted
}

TEST(StudyTest, MovedStudyContinuesTheSameSequence) {
  const TestFunction f = TestFunction::make("branin");
  const auto obj = [&](const Params& p) { return f(f.to_vector(p)); };
  StudyOptions o;
  o.seed = 5;
  Study a(f.space(), o), b(f.space(), o);
  run(a, obj, 7);
  run(b, obj, 7);
  Study moved(std::move(b));
  EXPECT_EQ(run(a, obj, 3), run(moved, obj, 3));
  Study assigned(f.space(), StudyOptions{});
  assigned = std::move(moved);
  EXPECT_EQ(run(a, obj, 2), run(assigned, obj, 2));
  EXPECT_EQ(assigned.trials().size(), 12u);
}

TEST(StudyTest, AskingTwiceWithoutATellGivesDistinctPoints) {
  const TestFunction f = TestFunction::make("branin");
  const Space space = f.space();
  StudyOptions o;
  o.seed = 4;
  Study study(space, o);
  run(
      study, [&](const Params& p) { return f(f.to_vector(p)); }, study.n_initial() + 3);
  // Three pending model suggestions: running trials are fantasized, so they spread out.
  const Trial a = study.ask();
  const Trial b = study.ask();
  const Trial c = study.ask();
  for (const Trial* t : {&a, &b, &c}) {
    EXPECT_EQ(t->source, "model");
    EXPECT_EQ(t->state, TrialState::kRunning);
  }
  const Eigen::VectorXd ua = space.encode(a.params), ub = space.encode(b.params),
                        uc = space.encode(c.params);
  EXPECT_GT((ua - ub).norm(), 1e-3) << describe(a.params) << " vs " << describe(b.params);
  EXPECT_GT((ua - uc).norm(), 1e-3) << describe(a.params) << " vs " << describe(c.params);
  EXPECT_GT((ub - uc).norm(), 1e-3) << describe(b.params) << " vs " << describe(c.params);
  // And none repeats an earlier point.
  for (std::size_t i = 0; i + 3 < study.trials().size(); ++i) {
    for (const Trial* t : {&a, &b, &c}) EXPECT_NE(study.trials()[i].params, t->params);
  }
}

// ------------------------------------------------------------------------------------- tell

TEST(StudyTest, TellUnknownTrialIsNotFound) {
  Study study(mixed_space(), StudyOptions{});
  EXPECT_THROW(study.tell(0, 1.0), NotFound);
  const Trial& t = study.ask();
  const std::int64_t id = t.id;
  EXPECT_THROW(study.tell(id + 1, 1.0), NotFound);
  EXPECT_THROW(study.tell(-1, 1.0), NotFound);
  EXPECT_THROW(study.tell(1000, 1.0), NotFound);
  EXPECT_THROW(study.tell_state(id + 1, TrialState::kFailed), NotFound);
  EXPECT_THROW(study.trial(id + 1), NotFound);
  EXPECT_EQ(study.trial(id).state, TrialState::kRunning);
}

TEST(StudyTest, TellSameValueTwiceIsANoOpAndADifferentValueIsAConflict) {
  Study study(mixed_space(), StudyOptions{});
  const std::int64_t id = study.ask().id;
  study.tell(id, 1.5);
  EXPECT_NO_THROW(study.tell(id, 1.5));
  EXPECT_EQ(study.trial(id).state, TrialState::kComplete);
  EXPECT_EQ(*study.trial(id).value, 1.5);
  EXPECT_THROW(study.tell(id, 2.5), Conflict);
  EXPECT_EQ(*study.trial(id).value, 1.5);
  EXPECT_EQ(study.trial(id).state, TrialState::kComplete);
  // A complete trial cannot fail afterwards; a non-finite value is refused before anything.
  EXPECT_THROW(study.tell_state(id, TrialState::kFailed), Conflict);
  EXPECT_THROW(study.tell(id, std::numeric_limits<double>::quiet_NaN()), InvalidArgument);
  EXPECT_EQ(study.trial(id).state, TrialState::kComplete);
  EXPECT_EQ(*study.trial(id).value, 1.5);
}

TEST(StudyTest, AnyFiniteValueIsToldAndModelled) {
  // Issue 14's repro: a few values near the ends of the double range (1e300, +-1.7e308, mixed
  // signs, subnormals) once made every later ask fail; each must be accepted and the study
  // must keep suggesting from its model, in both directions.
  const TestFunction f = TestFunction::make("branin");
  const std::vector<std::vector<double>> cases = {
      {1e300}, {1, 1e300}, {1, 1.7e308}, {1, -1.7e308}, {1e300, -1e300}, {5e-324, 1}, {5e-324}};
  for (Direction direction : {Direction::kMinimize, Direction::kMaximize}) {
    for (const std::vector<double>& values : cases) {
      StudyOptions o;
      o.direction = direction;
      o.n_initial = 5;
      Study study(f.space(), o);
      for (int i = 0; i < 8; ++i) {
        const Trial& t = study.ask();
        study.tell(t.id, values[static_cast<std::size_t>(i) % values.size()]);
      }
      for (int i = 0; i < 3; ++i) {
        const std::vector<Trial> batch = study.ask(2);
        ASSERT_EQ(batch.size(), 2u);
        EXPECT_EQ(batch[0].source, "model");
        for (const Trial& t : batch) study.tell(t.id, f(f.to_vector(t.params)));
      }
      EXPECT_TRUE(study.best());
    }
  }
}

TEST(StudyTest, NonFiniteValuesAreRefusedAndFailedTrialsLetTheStudyGoOn) {
  // One tell semantics with PersistentStudy (and the CLI, the server, the C API): a non-finite
  // value is InvalidArgument and changes nothing; a trial without a value is told as FAILED.
  const TestFunction f = TestFunction::make("branin");
  Study study(f.space(), StudyOptions{});
  const double bad[] = {std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(),
                        -std::numeric_limits<double>::infinity()};
  std::vector<std::int64_t> failed;
  // Fail every third trial, through the initial design and the model phase.
  for (int i = 0; i < 18; ++i) {
    const Trial& t = study.ask();
    EXPECT_NO_THROW(f.space().validate(t.params));
    if (i % 3 == 1) {
      const std::int64_t id = t.id;
      failed.push_back(id);
      EXPECT_THROW(study.tell(id, bad[(i / 3) % 3]), InvalidArgument);
      EXPECT_EQ(study.trial(id).state, TrialState::kRunning) << "a refused tell changes nothing";
      EXPECT_EQ(study.tell_state(id, TrialState::kFailed).state, TrialState::kFailed);
      EXPECT_GT(study.trial(id).finished_at, 0.0);
    } else {
      study.tell(t.id, f(f.to_vector(t.params)));
    }
  }
  for (std::int64_t id : failed) {
    EXPECT_EQ(study.trial(id).state, TrialState::kFailed) << "trial " << id;
    EXPECT_FALSE(study.trial(id).value.has_value()) << "trial " << id;
    // A failed trial cannot be completed afterwards, unless the caller asks to skip it.
    EXPECT_THROW(study.tell(id, 1.0), Conflict);
    EXPECT_EQ(study.tell(id, 1.0, /*skip_if_finished=*/true).state, TrialState::kFailed);
    // Failing it again is a no-op; pruning it is a conflict.
    EXPECT_NO_THROW(study.tell_state(id, TrialState::kFailed));
    EXPECT_THROW(study.tell_state(id, TrialState::kPruned), Conflict);
  }
  EXPECT_THROW(study.tell_state(0, TrialState::kRunning), InvalidArgument);
  EXPECT_EQ(study.trials().back().source, "model");
  ASSERT_TRUE(study.best().has_value());
  EXPECT_EQ(study.best()->state, TrialState::kComplete);
  EXPECT_TRUE(std::isfinite(*study.best()->value));
  for (std::int64_t id : failed) EXPECT_NE(study.best()->id, id);
}

TEST(StudyTest, OnlyFailuresKeepTheStudyInItsInitialDesign) {
  Study study(mixed_space(), StudyOptions{});
  const int n = study.n_initial() + 3;
  for (int i = 0; i < n; ++i) {
    const Trial& t = study.ask();
    EXPECT_EQ(t.source, "initial") << "ask " << i << ": nothing to model yet";
    study.tell_state(t.id, TrialState::kFailed);
  }
  EXPECT_FALSE(study.best().has_value());
  // Still usable: once values come in, the study reaches its model phase within the size of
  // the initial design (whether failed points count toward the design is not fixed here).
  bool reached_model = false;
  for (int i = 0; i <= study.n_initial() && !reached_model; ++i) {
    const Trial& t = study.ask();
    EXPECT_NO_THROW(study.space().validate(t.params));
    reached_model = t.source == "model";
    study.tell(t.id, mixed_objective(t.params));
  }
  EXPECT_TRUE(reached_model);
  EXPECT_TRUE(study.best().has_value());
}

TEST(StudyTest, TellStateFailedMarksARunningTrialFailed) {
  Study study(mixed_space(), StudyOptions{});
  const std::int64_t id = study.ask().id;
  study.tell_state(id, TrialState::kFailed);
  EXPECT_EQ(study.trial(id).state, TrialState::kFailed);
  EXPECT_FALSE(study.trial(id).value.has_value());
  EXPECT_FALSE(study.best().has_value());
}

// ---------------------------------------------------------------------------------- enqueue

TEST(StudyTest, EnqueueRejectsInvalidParamsAndQueuesNothing) {
  Study study(mixed_space(), StudyOptions{});
  const Params good{{"x", 1.0}, {"lr", 1e-3}, {"n", std::int64_t{4}}, {"opt", std::string("adam")}};
  auto with = [&](const std::string& key, ParamValue v) {
    Params p = good;
    p[key] = std::move(v);
    return p;
  };
  auto without = [&](const std::string& key) {
    Params p = good;
    p.erase(key);
    return p;
  };
  EXPECT_THROW(study.enqueue(with("x", 100.0)), InvalidArgument);  // out of bounds
  EXPECT_THROW(study.enqueue(with("lr", 0.5)), InvalidArgument);   // out of bounds
  EXPECT_THROW(study.enqueue(with("n", std::int64_t{11})), InvalidArgument);
  EXPECT_THROW(study.enqueue(with("n", 2.5)), InvalidArgument);  // not integral
  EXPECT_THROW(study.enqueue(with("opt", std::string("lamb"))), InvalidArgument);
  EXPECT_THROW(study.enqueue(with("x", std::string("one"))), InvalidArgument);  // wrong type
  EXPECT_THROW(study.enqueue(with("opt", 1.0)), InvalidArgument);               // wrong type
  EXPECT_THROW(study.enqueue(without("opt")), InvalidArgument);                 // missing
  EXPECT_THROW(study.enqueue(without("x")), InvalidArgument);                   // missing
  EXPECT_THROW(study.enqueue(with("extra", 1.0)), InvalidArgument);             // unknown name
  EXPECT_THROW(study.enqueue(Params{}), InvalidArgument);
  // Nothing was queued: the next ask comes from the initial design.
  const Trial& t = study.ask();
  EXPECT_EQ(t.source, "initial");
  EXPECT_NE(t.params, good);
}

TEST(StudyTest, EnqueuedParamsAreAskedNextInOrder) {
  const Space space = mixed_space();
  Study study(space, StudyOptions{});
  run(study, mixed_objective, study.n_initial() + 1);  // into the model phase
  const Params p1{{"x", 1.0}, {"lr", 1e-3}, {"n", std::int64_t{4}}, {"opt", std::string("adam")}};
  const Params p2{{"x", -2.25}, {"lr", 0.05}, {"n", std::int64_t{10}}, {"opt", std::string("sgd")}};
  study.enqueue(p1);
  study.enqueue(p2);
  const Trial t1 = study.ask();
  const Trial t2 = study.ask();
  EXPECT_EQ(t1.params, p1);
  EXPECT_EQ(t1.source, "enqueued");
  EXPECT_EQ(t2.params, p2);
  EXPECT_EQ(t2.source, "enqueued");
  study.tell(t1.id, mixed_objective(t1.params));
  study.tell(t2.id, mixed_objective(t2.params));
  // The queue is empty again.
  EXPECT_EQ(study.ask().source, "model");
}

TEST(StudyTest, EnqueueBeforeAnyAskComesFirst) {
  Study study(mixed_space(), StudyOptions{});
  const Params p{{"x", 4.5}, {"lr", 1e-4}, {"n", std::int64_t{1}}, {"opt", std::string("rmsprop")}};
  study.enqueue(p);
  const Trial& t = study.ask();
  EXPECT_EQ(t.params, p);
  EXPECT_EQ(t.source, "enqueued");
  EXPECT_EQ(t.id, 0);
  EXPECT_EQ(study.ask().source, "initial");
}

// Regression: enqueued points used to come back with the value types they were given (an
// int64 for a float, an integral double for an int), which broke readers such as
// TestFunction::to_vector; enqueue() now stores Space::canonical(params).
TEST(StudyTest, EnqueuedParamsAreReturnedWithCanonicalValueTypes) {
  const TestFunction f = TestFunction::make("branin");
  Space space = f.space();  // x0 in [-5, 10], x1 in [0, 15]
  space.add_int("k", 0, 4);
  Study study(space, StudyOptions{});
  study.enqueue(Params{{"x0", std::int64_t{3}}, {"x1", 2.5}, {"k", 2.0}});
  const Trial t = study.ask();
  EXPECT_EQ(t.source, "enqueued");
  ASSERT_TRUE(std::holds_alternative<double>(t.params.at("x0")))
      << "float parameter x0 holds an int64";
  ASSERT_TRUE(std::holds_alternative<std::int64_t>(t.params.at("k")))
      << "int parameter k holds a double";
  EXPECT_EQ(std::get<double>(t.params.at("x0")), 3.0);
  EXPECT_EQ(std::get<double>(t.params.at("x1")), 2.5);
  EXPECT_EQ(std::get<std::int64_t>(t.params.at("k")), 2);
  EXPECT_NO_THROW(f.to_vector(t.params));
}

// ------------------------------------------------------------------------------------- best

TEST(StudyTest, BestMinimize) {
  Study study(mixed_space(), StudyOptions{});
  EXPECT_FALSE(study.best().has_value());
  const std::int64_t a = study.ask().id, b = study.ask().id, c = study.ask().id;
  const std::int64_t d = study.ask().id;
  EXPECT_FALSE(study.best().has_value()) << "running trials are not complete";
  study.tell(a, 3.0);
  study.tell(b, -1.0);
  study.tell(c, 2.0);
  study.tell_state(d, TrialState::kFailed);
  ASSERT_TRUE(study.best().has_value());
  EXPECT_EQ(study.best()->id, b);
  EXPECT_EQ(*study.best()->value, -1.0);
  EXPECT_EQ(study.best()->params, study.trial(b).params);
}

TEST(StudyTest, BestMaximize) {
  StudyOptions o;
  o.direction = Direction::kMaximize;
  Study study(mixed_space(), o);
  const std::int64_t a = study.ask().id, b = study.ask().id, c = study.ask().id;
  study.tell(a, 3.0);
  study.tell(b, -1.0);
  study.tell(c, 2.0);
  ASSERT_TRUE(study.best().has_value());
  EXPECT_EQ(study.best()->id, a);
  EXPECT_EQ(*study.best()->value, 3.0);
}

TEST(StudyTest, MaximizeFindsAGoodValueOfNegatedBranin) {
  const TestFunction f = TestFunction::make("branin");
  StudyOptions o;
  o.direction = Direction::kMaximize;
  o.seed = 2;
  Study study(f.space(), o);
  run(
      study, [&](const Params& p) { return -f(f.to_vector(p)); }, 30);
  ASSERT_TRUE(study.best().has_value());
  double max_seen = -std::numeric_limits<double>::infinity();
  for (const Trial& t : study.trials()) max_seen = std::max(max_seen, *t.value);
  EXPECT_EQ(*study.best()->value, max_seen);
  // -f* = -0.397887; Sobol with 30 points is typically ~1 away.
  EXPECT_GT(*study.best()->value, -f.optimal_value() - 0.02);
}

// --------------------------------------------------------------------------- construction

TEST(StudyTest, RejectsAnEmptySpaceAndBadOptions) {
  const auto make = [](const Space& space, const StudyOptions& o) { Study s(space, o); };
  EXPECT_THROW(make(Space{}, StudyOptions{}), InvalidArgument);
  StudyOptions o;
  o.n_initial = -1;
  EXPECT_THROW(make(mixed_space(), o), InvalidArgument);
  o = StudyOptions{};
  o.optimizer.raw_samples = 0;
  EXPECT_THROW(make(mixed_space(), o), InvalidArgument);
  o = StudyOptions{};
  o.ucb_beta = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(make(mixed_space(), o), InvalidArgument);
  o = StudyOptions{};
  o.ucb_beta = -1.0;
  EXPECT_THROW(make(mixed_space(), o), InvalidArgument);
  EXPECT_NO_THROW(make(mixed_space(), StudyOptions{}));
}

TEST(StudyTest, DefaultInitialDesignSizeGrowsWithDimensionAndIsAtLeastFive) {
  int previous = 0;
  for (int d = 1; d <= 200; ++d) {
    const int n = default_initial_design_size(d);
    EXPECT_GE(n, 5) << "d = " << d;
    EXPECT_GE(n, previous) << "d = " << d;
    previous = n;
  }
  EXPECT_GT(default_initial_design_size(30), default_initial_design_size(1));
}

// ------------------------------------------------------------------------------ parsing

TEST(StudyParseTest, Direction) {
  EXPECT_EQ(parse_direction("minimize"), Direction::kMinimize);
  EXPECT_EQ(parse_direction("MAXIMIZE"), Direction::kMaximize);
  EXPECT_EQ(parse_direction("min"), Direction::kMinimize);
  EXPECT_EQ(parse_direction("max"), Direction::kMaximize);
  EXPECT_EQ(parse_direction(to_string(Direction::kMaximize)), Direction::kMaximize);
  EXPECT_EQ(parse_direction(to_string(Direction::kMinimize)), Direction::kMinimize);
  EXPECT_THROW(parse_direction("up"), InvalidArgument);
  EXPECT_THROW(parse_direction(""), InvalidArgument);
  EXPECT_THROW(parse_direction("minimise"), InvalidArgument);
}

TEST(StudyParseTest, OutputWarping) {
  EXPECT_EQ(parse_output_warping("none"), OutputWarping::kNone);
  EXPECT_EQ(parse_output_warping("halfrank"), OutputWarping::kHalfRank);
  EXPECT_EQ(parse_output_warping("HalfRank"), OutputWarping::kHalfRank);
  EXPECT_EQ(parse_output_warping("log"), OutputWarping::kLog);
  EXPECT_THROW(parse_output_warping("sqrt"), InvalidArgument);
  EXPECT_THROW(parse_output_warping(""), InvalidArgument);
  try {
    parse_output_warping("rank");
    ADD_FAILURE() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("rank"), std::string::npos) << e.what();
  }
}

TEST(StudyParseTest, Acquisition) {
  EXPECT_EQ(parse_acquisition("logei"), AcquisitionType::kLogEI);
  EXPECT_EQ(parse_acquisition("EI"), AcquisitionType::kEI);
  EXPECT_EQ(parse_acquisition("ucb"), AcquisitionType::kUCB);
  EXPECT_EQ(parse_acquisition("pi"), AcquisitionType::kPI);
  for (AcquisitionType t : {AcquisitionType::kLogEI, AcquisitionType::kEI, AcquisitionType::kUCB,
                            AcquisitionType::kPI}) {
    EXPECT_EQ(parse_acquisition(to_string(t)), t);
  }
  EXPECT_THROW(parse_acquisition("qei"), InvalidArgument);
  EXPECT_THROW(parse_acquisition(""), InvalidArgument);
}

TEST(StudyParseTest, TrialStateNames) {
  EXPECT_EQ(to_string(TrialState::kRunning), "running");
  EXPECT_EQ(to_string(TrialState::kComplete), "complete");
  EXPECT_EQ(to_string(TrialState::kFailed), "failed");
}

// ---------------------------------------------------------------------------- warp_outputs

// Values with ties and a long bad tail, in shuffled order.
Eigen::VectorXd sample_values(int n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    const double z = normal(gen);
    y(i) = z < 0 ? -std::exp(-3.0 * z) : z;  // heavy tail of bad (low) values
  }
  y(1) = y(0);  // ties
  y(n - 1) = y(2);
  y(n - 2) = y(2);
  return y;
}

void expect_monotone(const Eigen::VectorXd& y, const Eigen::VectorXd& w, const std::string& what) {
  ASSERT_EQ(w.size(), y.size());
  EXPECT_TRUE(w.allFinite()) << what;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    for (Eigen::Index j = 0; j < y.size(); ++j) {
      if (y(i) < y(j)) {
        EXPECT_LT(w(i), w(j)) << what << ": y " << y(i) << " < " << y(j);
      } else if (y(i) == y(j)) {
        EXPECT_EQ(w(i), w(j)) << what << ": tie at " << y(i);
      }
    }
  }
}

double median(Eigen::VectorXd y) {
  std::sort(y.data(), y.data() + y.size());
  const Eigen::Index n = y.size();
  return n % 2 ? y(n / 2) : 0.5 * (y(n / 2 - 1) + y(n / 2));
}

TEST(WarpOutputsTest, HalfRankIsMonotoneAndKeepsTheUpperHalf) {
  for (int n : {2, 3, 10, 31, 64}) {
    const Eigen::VectorXd y = n < 5 ? Eigen::VectorXd::LinSpaced(n, -7.0, 2.0)
                                    : sample_values(n, static_cast<std::uint64_t>(n));
    const Eigen::VectorXd w = warp_outputs(y, OutputWarping::kHalfRank, 1000.0);
    expect_monotone(y, w, "halfrank n = " + std::to_string(n));
    const double m = median(y);
    for (Eigen::Index i = 0; i < n; ++i) {
      if (y(i) >= m) {
        EXPECT_EQ(w(i), y(i)) << "n = " << n << ", value at/above the median";
      } else {
        EXPECT_LT(w(i), m) << "n = " << n << ", value below the median stays below";
      }
    }
    Eigen::Index ay, aw;
    EXPECT_EQ(w.maxCoeff(&aw), y.maxCoeff(&ay));
    EXPECT_EQ(aw, ay);
  }
}

TEST(WarpOutputsTest, HalfRankCompressesTheBadTail) {
  // One catastrophic value: after warping it is within a few spreads of the median.
  Eigen::VectorXd y(9);
  y << 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, -1e6;
  const Eigen::VectorXd w = warp_outputs(y, OutputWarping::kHalfRank, 1000.0);
  expect_monotone(y, w, "halfrank tail");
  EXPECT_GT(w(8), -5.0);
  EXPECT_LT(w(8), w(7));
}

TEST(WarpOutputsTest, LogIsMonotoneMapsOntoMinusOneToZeroAndKeepsTheArgmax) {
  for (int n : {2, 7, 40}) {
    const Eigen::VectorXd y = n < 5 ? Eigen::VectorXd::LinSpaced(n, -3.0, 5.0)
                                    : sample_values(n, 100 + static_cast<std::uint64_t>(n));
    const Eigen::VectorXd w = warp_outputs(y, OutputWarping::kLog, 1000.0);
    expect_monotone(y, w, "log n = " + std::to_string(n));
    Eigen::Index ay, aw, iy, iw;
    w.maxCoeff(&aw);
    y.maxCoeff(&ay);
    w.minCoeff(&iw);
    y.minCoeff(&iy);
    EXPECT_EQ(aw, ay);
    EXPECT_EQ(iw, iy);
    // Documented formula: the max maps to 0, the min to -1.
    EXPECT_NEAR(w(aw), 0.0, 1e-12);
    EXPECT_NEAR(w(iw), -1.0, 1e-12);
  }
}

TEST(WarpOutputsTest, NoneIsTheIdentity) {
  const Eigen::VectorXd y = sample_values(20, 5);
  EXPECT_EQ(warp_outputs(y, OutputWarping::kNone, 1000.0), y);
}

TEST(WarpOutputsTest, ConstantAndSingleInputsAreReturnedUnchanged) {
  const Eigen::VectorXd c = Eigen::VectorXd::Constant(8, 2.5);
  const Eigen::VectorXd one = Eigen::VectorXd::Constant(1, -4.0);
  for (OutputWarping w : {OutputWarping::kNone, OutputWarping::kHalfRank, OutputWarping::kLog}) {
    EXPECT_EQ(warp_outputs(c, w, 1000.0), c);
    EXPECT_EQ(warp_outputs(one, w, 1000.0), one);
  }
}

TEST(WarpOutputsTest, AllTiedExceptOne) {
  // Seven equal bad values and one good one.
  Eigen::VectorXd y = Eigen::VectorXd::Constant(8, -2.0);
  y(3) = 1.0;
  for (OutputWarping w : {OutputWarping::kHalfRank, OutputWarping::kLog}) {
    const Eigen::VectorXd out = warp_outputs(y, w, 1000.0);
    expect_monotone(y, out, "mostly tied");
    Eigen::Index a;
    out.maxCoeff(&a);
    EXPECT_EQ(a, 3);
  }
}

// ------------------------------------------------------------------- regret versus Sobol

struct Regrets {
  std::vector<double> gpbo, sobol;
};

Regrets compare_with_sobol(const std::string& name, int budget,
                           const std::vector<std::uint64_t>& seeds) {
  const TestFunction f = TestFunction::make(name);
  Regrets r;
  for (std::uint64_t seed : seeds) {
    StudyOptions o;
    o.seed = seed;
    Study study(f.space(), o);
    for (int i = 0; i < budget; ++i) {
      const Trial& t = study.ask();
      study.tell(t.id, f(f.to_vector(t.params)));
    }
    r.gpbo.push_back(*study.best()->value - f.optimal_value());

    SobolSampler sobol(f.dim(), seed);
    const Eigen::MatrixXd U = sobol.draw(budget);
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < budget; ++i) {
      const Eigen::VectorXd x =
          f.lower().array() + (f.upper() - f.lower()).array() * U.row(i).transpose().array();
      best = std::min(best, f(x));
    }
    r.sobol.push_back(best - f.optimal_value());
  }
  return r;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void expect_gpbo_beats_sobol(const Regrets& r, double gpbo_median_below) {
  for (std::size_t s = 0; s < r.gpbo.size(); ++s) {
    EXPECT_LT(r.gpbo[s], r.sobol[s])
        << "seed " << s << ": gpbo regret " << r.gpbo[s] << ", sobol regret " << r.sobol[s];
  }
  const double g = median_of(r.gpbo), s = median_of(r.sobol);
  std::printf("regret medians over %zu seeds: gpbo %.3g, sobol %.3g\n", r.gpbo.size(), g, s);
  EXPECT_LT(g, gpbo_median_below) << "median gpbo regret";
  EXPECT_LT(g, 0.01 * s) << "median gpbo regret " << g << " vs sobol " << s;
}

TEST(StudyBenchmarkTest, BeatsSobolOnBranin) {
  const Regrets r = compare_with_sobol("branin", 30, {0, 1, 2});
  expect_gpbo_beats_sobol(r, 0.01);
}

TEST(StudyBenchmarkTest, BeatsSobolOnHartmann6) {
  const Regrets r = compare_with_sobol("hartmann6", 60, {0, 1, 2});
  expect_gpbo_beats_sobol(r, 0.05);
}

}  // namespace
}  // namespace gpbo
