// Batch suggestions of the Study (Study::ask(int q), include/gpbo/study.hpp): running trials
// are never suggested again, batch points are distinct and valid for every BatchMethod, small
// discrete spaces are used up exactly, q = 1 is the sequential path, same seed => same batch,
// and the auto batch method's resolution.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/study.hpp"
#include "gpbo/test_functions.hpp"

namespace gpbo {
namespace {

/// Two encoded points closer than this in every coordinate are the same suggestion (the
/// study's own duplicate tolerance).
constexpr double kSamePointTol = 1e-9;

const BatchMethod kAllMethods[] = {BatchMethod::kGreedy, BatchMethod::kQLogNei,
                                   BatchMethod::kThompson, BatchMethod::kAuto};

/// A cheaper acquisition optimizer than the default, so that many batches fit in a few
/// seconds; the batch logic under test is the same.
StudyOptions fast_options(BatchMethod method, std::uint64_t seed) {
  StudyOptions o;
  o.seed = seed;
  o.batch_method = method;
  o.noise = NoiseModel::kDeterministic;
  o.optimizer.raw_samples = 256;
  o.optimizer.perturbations_per_anchor = 16;
  o.optimizer.anchors = 3;
  o.optimizer.restarts = 4;
  o.optimizer.refine_iterations = 30;
  return o;
}

double objective(const TestFunction& f, const Params& p) { return f(f.to_vector(p)); }

/// Asks and tells the whole initial design one point at a time.
void tell_initial_design(Study& study, const TestFunction& f) {
  while (static_cast<int>(study.trials().size()) < study.n_initial()) {
    const Trial& t = study.ask();
    study.tell(t.id, objective(f, t.params));
  }
}

Eigen::VectorXd encoded(const Study& study, const Trial& t) {
  return study.space().encode(t.params);
}

bool same_point(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return (a - b).cwiseAbs().maxCoeff() < kSamePointTol;
}

std::string describe(const Params& p) {
  std::string s = "{";
  for (const auto& [k, v] : p) s += k + "=" + to_string(v) + " ";
  return s + "}";
}

/// Every trial from index `first` on differs (encoded, within kSamePointTol) from every earlier
/// trial, those of its own batch included.
void expect_no_repeats_from(const Study& study, std::size_t first, const std::string& what) {
  const std::vector<Trial>& trials = study.trials();
  for (std::size_t i = first; i < trials.size(); ++i) {
    const Eigen::VectorXd ui = encoded(study, trials[i]);
    for (std::size_t j = 0; j < i; ++j) {
      EXPECT_FALSE(same_point(ui, encoded(study, trials[j])))
          << what << ": trial " << i << " " << describe(trials[i].params) << " repeats trial " << j
          << " (" << to_string(trials[j].state) << ")";
    }
  }
}

/// The checks every batch must pass: size, consecutive ids, RUNNING, valid, distinct.
void expect_valid_batch(const Study& study, const std::vector<Trial>& batch, std::size_t first,
                        int q, const std::string& what) {
  ASSERT_EQ(static_cast<int>(batch.size()), q) << what;
  ASSERT_EQ(study.trials().size(), first + batch.size()) << what;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch[i].id, static_cast<std::int64_t>(first + i)) << what;
    EXPECT_EQ(batch[i].state, TrialState::kRunning) << what;
    EXPECT_FALSE(batch[i].value.has_value()) << what;
    EXPECT_NO_THROW(study.space().validate(batch[i].params)) << what << ": " << i;
    // The returned copies are the recorded trials.
    EXPECT_EQ(study.trial(batch[i].id).params, batch[i].params) << what;
    EXPECT_EQ(study.trial(batch[i].id).state, TrialState::kRunning) << what;
  }
  expect_no_repeats_from(study, first, what);
}

// ---------------------------------------------------------------------------- methods, parsing

TEST(BatchMethodTest, AutoResolvesByBatchSizeAndNoise) {
  // A single point is LogEI (against the best posterior mean when noisy), noisy or not.
  EXPECT_EQ(resolve_batch_method(BatchMethod::kAuto, 1, false), BatchMethod::kGreedy);
  EXPECT_EQ(resolve_batch_method(BatchMethod::kAuto, 1, true), BatchMethod::kGreedy);
  for (int q = 2; q <= 16; ++q) {
    EXPECT_EQ(resolve_batch_method(BatchMethod::kAuto, q, false), BatchMethod::kGreedy) << q;
    EXPECT_EQ(resolve_batch_method(BatchMethod::kAuto, q, true), BatchMethod::kQLogNei) << q;
  }
  for (int q : {17, 32, 100, 1000}) {
    EXPECT_EQ(resolve_batch_method(BatchMethod::kAuto, q, false), BatchMethod::kThompson) << q;
    EXPECT_EQ(resolve_batch_method(BatchMethod::kAuto, q, true), BatchMethod::kThompson) << q;
  }
  for (BatchMethod m : {BatchMethod::kGreedy, BatchMethod::kQLogNei, BatchMethod::kThompson}) {
    for (int q : {1, 2, 16, 17, 64}) {
      for (bool noisy : {false, true}) {
        EXPECT_EQ(resolve_batch_method(m, q, noisy), m) << to_string(m) << " q " << q;
      }
    }
  }
}

TEST(BatchMethodTest, ParseAcceptsTheFourNamesInAnyCase) {
  EXPECT_EQ(parse_batch_method("auto"), BatchMethod::kAuto);
  EXPECT_EQ(parse_batch_method("greedy"), BatchMethod::kGreedy);
  EXPECT_EQ(parse_batch_method("qlognei"), BatchMethod::kQLogNei);
  EXPECT_EQ(parse_batch_method("thompson"), BatchMethod::kThompson);
  EXPECT_EQ(parse_batch_method("AUTO"), BatchMethod::kAuto);
  EXPECT_EQ(parse_batch_method("Greedy"), BatchMethod::kGreedy);
  EXPECT_EQ(parse_batch_method("qLogNEI"), BatchMethod::kQLogNei);
  EXPECT_EQ(parse_batch_method("THOMPSON"), BatchMethod::kThompson);
  for (const char* bad : {"", "random", "q-log-nei", "qnei", "greedy ", " auto", "thompson1"}) {
    EXPECT_THROW(parse_batch_method(bad), InvalidArgument) << "'" << bad << "'";
  }
  for (BatchMethod m : kAllMethods) EXPECT_EQ(parse_batch_method(to_string(m)), m);
}

TEST(BatchMethodTest, LastBatchMethodReportsWhatTheModelUsed) {
  const TestFunction f = TestFunction::make("branin");
  Study study(f.space(), fast_options(BatchMethod::kAuto, 1));
  EXPECT_EQ(study.last_batch_method(), BatchMethod::kAuto);
  tell_initial_design(study, f);
  // Initial-design asks use no batch method.
  EXPECT_EQ(study.last_batch_method(), BatchMethod::kAuto);
  study.ask(2);
  EXPECT_EQ(study.last_batch_method(), BatchMethod::kGreedy);
  study.ask(17);
  EXPECT_EQ(study.last_batch_method(), BatchMethod::kThompson);
  study.ask();
  EXPECT_EQ(study.last_batch_method(), BatchMethod::kGreedy);

  // Noisy observations: qLogNEI for small batches, Thompson above 16.
  StudyOptions noisy = fast_options(BatchMethod::kAuto, 1);
  noisy.noise = NoiseModel::kNoisy;
  Study b(f.space(), noisy);
  tell_initial_design(b, f);
  b.ask(3);
  EXPECT_EQ(b.last_batch_method(), BatchMethod::kQLogNei);
  b.ask(20);
  EXPECT_EQ(b.last_batch_method(), BatchMethod::kThompson);

  // Explicit methods are used whatever q and the noise.
  for (BatchMethod m : {BatchMethod::kGreedy, BatchMethod::kQLogNei, BatchMethod::kThompson}) {
    StudyOptions o = fast_options(m, 2);
    o.noise = NoiseModel::kNoisy;
    Study s(f.space(), o);
    tell_initial_design(s, f);
    s.ask(1);
    EXPECT_EQ(s.last_batch_method(), m) << to_string(m);
    s.ask(3);
    EXPECT_EQ(s.last_batch_method(), m) << to_string(m);
  }
}

TEST(BatchAskTest, QOutsideOneToTheMaximumIsInvalid) {
  const TestFunction f = TestFunction::make("branin");
  Study study(f.space(), fast_options(BatchMethod::kAuto, 0));
  EXPECT_THROW(study.ask(0), InvalidArgument);
  EXPECT_THROW(study.ask(-1), InvalidArgument);
  EXPECT_TRUE(study.trials().empty());
  tell_initial_design(study, f);
  const std::size_t n = study.trials().size();
  EXPECT_THROW(study.ask(0), InvalidArgument);
  EXPECT_THROW(study.ask(-1), InvalidArgument);
  EXPECT_THROW(study.ask(kMaxAskBatch + 1), InvalidArgument);  // a typo's 100000 included
  EXPECT_EQ(study.trials().size(), n);
}

// ------------------------------------------------------------------ distinct, valid batches

TEST(BatchAskTest, BatchPointsAreDistinctValidAndRunning) {
  const TestFunction f = TestFunction::make("branin");
  for (BatchMethod m : kAllMethods) {
    for (int q : {2, 8, 32}) {
      const std::string what = to_string(m) + ", q = " + std::to_string(q);
      Study study(f.space(), fast_options(m, 3));
      tell_initial_design(study, f);
      const std::size_t first = study.trials().size();
      const std::vector<Trial> batch = study.ask(q);
      expect_valid_batch(study, batch, first, q, what);
      for (const Trial& t : batch) EXPECT_EQ(t.source, "model") << what;
      EXPECT_EQ(study.last_batch_method(), resolve_batch_method(m, q, /*noisy=*/false)) << what;
    }
  }
}

TEST(BatchAskTest, BatchPointsAreDistinctInSixDimensions) {
  const TestFunction f = TestFunction::make("hartmann6");
  for (BatchMethod m : kAllMethods) {
    const std::string what = to_string(m) + ", hartmann6, q = 8";
    Study study(f.space(), fast_options(m, 5));
    tell_initial_design(study, f);
    const std::size_t first = study.trials().size();
    const std::vector<Trial> batch = study.ask(8);
    expect_valid_batch(study, batch, first, 8, what);
  }
}

TEST(BatchAskTest, InitialDesignBatchesAreDistinctToo) {
  // A batch larger than the initial design: the design's points, then the model's (once a
  // value is known) or more design points (while none is).
  const TestFunction f = TestFunction::make("branin");
  Study study(f.space(), fast_options(BatchMethod::kAuto, 4));
  const std::vector<Trial> a = study.ask(study.n_initial() + 3);
  expect_valid_batch(study, a, 0, study.n_initial() + 3, "no values yet");
  for (const Trial& t : a) EXPECT_EQ(t.source, "initial");
  study.tell(a[0].id, objective(f, a[0].params));
  const std::size_t first = study.trials().size();
  const std::vector<Trial> b = study.ask(4);
  expect_valid_batch(study, b, first, 4, "one value known");
  for (const Trial& t : b) EXPECT_EQ(t.source, "model");
}

// ---------------------------------------------------------------- running points not repeated

TEST(BatchAskTest, RunningPointsAreNeverSuggestedAgain) {
  const TestFunction f = TestFunction::make("branin");
  for (BatchMethod m : kAllMethods) {
    const std::string what = to_string(m);
    Study study(f.space(), fast_options(m, 6));
    // Asks without tells in the initial design, then the design told.
    study.ask(2);
    study.ask();
    expect_no_repeats_from(study, 0, what + ", initial design");
    for (const Trial& t : std::vector<Trial>(study.trials())) {
      study.tell(t.id, objective(f, t.params));
    }
    tell_initial_design(study, f);
    // Single and batch asks without tells: each conditions on all the running ones.
    const std::size_t first = study.trials().size();
    study.ask();
    study.ask(3);
    study.ask();
    study.ask(5);
    ASSERT_EQ(study.trials().size(), first + 10) << what;
    expect_no_repeats_from(study, first, what + ", no tells");
    // Some tells interleaved (every other running trial), more asks.
    for (std::size_t i = first; i < study.trials().size(); i += 2) {
      study.tell(study.trials()[i].id, objective(f, study.trials()[i].params));
    }
    study.ask(4);
    study.ask();
    study.tell_state(study.trials().back().id,
                     TrialState::kFailed);  // a failed point is not suggested again either
    study.ask(3);
    expect_no_repeats_from(study, first, what + ", tells interleaved");
  }
}

TEST(BatchAskTest, EnqueuedPointsComeFirstAndTheModelDoesNotRepeatThem) {
  const TestFunction f = TestFunction::make("branin");
  for (BatchMethod m : kAllMethods) {
    Study study(f.space(), fast_options(m, 8));
    tell_initial_design(study, f);
    const Params e1{{"x0", 9.42478}, {"x1", 2.475}};  // near a minimizer of Branin
    const Params e2{{"x0", -3.0}, {"x1", 12.0}};
    study.enqueue(e1);
    study.enqueue(e2);
    const std::size_t first = study.trials().size();
    const std::vector<Trial> batch = study.ask(6);
    expect_valid_batch(study, batch, first, 6, to_string(m) + ", with enqueued points");
    EXPECT_EQ(batch[0].source, "enqueued");
    EXPECT_EQ(batch[0].params, e1);
    EXPECT_EQ(batch[1].source, "enqueued");
    EXPECT_EQ(batch[1].params, e2);
    for (std::size_t i = 2; i < batch.size(); ++i) EXPECT_EQ(batch[i].source, "model");
  }
}

// ----------------------------------------------------------------------- small discrete space

// int 1..3 x categorical {a, b}: six points.
Space six_point_space() {
  Space s;
  s.add_int("n", 1, 3).add_categorical("c", {"a", "b"});
  return s;
}

double six_point_objective(const Params& p) {
  const auto n = std::get<std::int64_t>(p.at("n"));
  return static_cast<double>((n - 2) * (n - 2)) +
         (std::get<std::string>(p.at("c")) == "a" ? 0.5 : 0.0);
}

std::set<Params> all_six_points() {
  std::set<Params> all;
  for (std::int64_t n = 1; n <= 3; ++n) {
    for (const char* c : {"a", "b"}) all.insert(Params{{"n", n}, {"c", std::string(c)}});
  }
  return all;
}

TEST(BatchAskTest, DiscreteSpaceBatchReturnsWhatRemainsThenConflicts) {
  const Space space = six_point_space();
  for (BatchMethod m : kAllMethods) {
    const std::string what = to_string(m);
    // No values yet: the whole batch comes from the initial design.
    {
      Study study(space, fast_options(m, 0));
      const std::vector<Trial> batch = study.ask(10);
      ASSERT_EQ(batch.size(), 6u) << what;
      std::set<Params> got;
      for (const Trial& t : batch) got.insert(t.params);
      EXPECT_EQ(got, all_six_points()) << what;
      expect_valid_batch(study, batch, 0, 6, what + ", initial design");
      EXPECT_THROW(study.ask(), Conflict) << what;
      EXPECT_THROW(study.ask(3), Conflict) << what;
      EXPECT_EQ(study.trials().size(), 6u) << what;
    }
    // Two points told: the model's batch takes the four that remain.
    {
      StudyOptions o = fast_options(m, 1);
      o.n_initial = 2;
      Study study(space, o);
      for (const Trial& t : study.ask(2)) study.tell(t.id, six_point_objective(t.params));
      const std::vector<Trial> batch = study.ask(10);
      ASSERT_EQ(batch.size(), 4u) << what;
      expect_valid_batch(study, batch, 2, 4, what + ", model");
      for (const Trial& t : batch) EXPECT_EQ(t.source, "model") << what;
      std::set<Params> got;
      for (const Trial& t : study.trials()) got.insert(t.params);
      EXPECT_EQ(got, all_six_points()) << what;
      EXPECT_EQ(study.last_batch_method(), resolve_batch_method(m, 10, false)) << what;
      EXPECT_THROW(study.ask(), Conflict) << what;
      EXPECT_THROW(study.ask(10), Conflict) << what;
      EXPECT_EQ(study.trials().size(), 6u) << what;
    }
    // One at a time with tells, then a batch larger than what is left.
    {
      StudyOptions o = fast_options(m, 2);
      o.n_initial = 2;
      Study study(space, o);
      for (int i = 0; i < 3; ++i) {
        const Trial& t = study.ask();
        study.tell(t.id, six_point_objective(t.params));
      }
      const std::vector<Trial> batch = study.ask(4);
      ASSERT_EQ(batch.size(), 3u) << what;
      expect_valid_batch(study, batch, 3, 3, what + ", after tells");
      EXPECT_THROW(study.ask(2), Conflict) << what;
    }
  }
}

// ------------------------------------------------------------ q = 1 and determinism

TEST(BatchAskTest, AskOneIsTheSequentialPath) {
  const TestFunction f = TestFunction::make("branin");
  for (BatchMethod m : kAllMethods) {
    StudyOptions o = fast_options(m, 11);
    o.noise = NoiseModel::kAuto;
    // 20 steps: the 5-point initial design, then 15 model steps. Thompson asks cost ~0.3 s each
    // here (a ~2100-point joint draw), so it runs 10 steps (5 model steps).
    const int steps = m == BatchMethod::kThompson ? 10 : 20;
    Study a(f.space(), o), b(f.space(), o);
    for (int step = 0; step < steps; ++step) {
      const Trial ta = a.ask();
      const std::vector<Trial> tb = b.ask(1);
      ASSERT_EQ(tb.size(), 1u);
      ASSERT_EQ(ta.params, tb[0].params) << to_string(m) << ", step " << step << ": "
                                         << describe(ta.params) << " vs " << describe(tb[0].params);
      EXPECT_EQ(ta.id, tb[0].id);
      EXPECT_EQ(ta.source, tb[0].source);
      a.tell(ta.id, objective(f, ta.params));
      b.tell(tb[0].id, objective(f, tb[0].params));
      EXPECT_EQ(a.last_batch_method(), b.last_batch_method());
    }
    EXPECT_EQ(a.trials().back().source, "model") << to_string(m);
    EXPECT_GE(a.trials().size(), static_cast<std::size_t>(a.n_initial() + 5));
  }
}

TEST(BatchAskTest, SameSeedGivesTheSameBatch) {
  const TestFunction f = TestFunction::make("branin");
  for (BatchMethod m : kAllMethods) {
    Study a(f.space(), fast_options(m, 21)), b(f.space(), fast_options(m, 21));
    tell_initial_design(a, f);
    tell_initial_design(b, f);
    const std::vector<Trial> ba = a.ask(8), bb = b.ask(8);
    ASSERT_EQ(ba.size(), bb.size()) << to_string(m);
    for (std::size_t i = 0; i < ba.size(); ++i) {
      EXPECT_EQ(ba[i].params, bb[i].params)
          << to_string(m) << ", point " << i << ": " << describe(ba[i].params) << " vs "
          << describe(bb[i].params);
    }
    // And the next one too (the state after a batch is the same).
    EXPECT_EQ(a.ask(2)[1].params, b.ask(2)[1].params) << to_string(m);
  }
}

}  // namespace
}  // namespace gpbo

namespace gpbo {
namespace {

// Stepped parameters: every suggestion of every path (initial design, each batch method,
// globally and in a trust region) lies exactly on its grid, and no point repeats.
TEST(SteppedSpaceTest, EverySuggestionIsOnTheGrid) {
  Space space;
  space.add_float("frac", 0.0, 1.0, false, 0.05).add_int("batch", 32, 256, false, 32);
  space.add_float("lr", 1e-4, 1.0, true);
  const auto f = [](const Params& p) {
    const double a = std::get<double>(p.at("frac"));
    const double b = static_cast<double>(std::get<std::int64_t>(p.at("batch")));
    const double l = std::log10(std::get<double>(p.at("lr")));
    return (a - 0.35) * (a - 0.35) + (b - 96.0) * (b - 96.0) / 1e4 + (l + 2.0) * (l + 2.0) / 4;
  };
  for (const BatchMethod method :
       {BatchMethod::kGreedy, BatchMethod::kQLogNei, BatchMethod::kThompson}) {
    for (const Strategy strategy : {Strategy::kGlobal, Strategy::kTrustRegion}) {
      SCOPED_TRACE(to_string(method) + " " + to_string(strategy));
      StudyOptions o;
      o.seed = 4;
      o.device = Device::cpu();
      o.batch_method = method;
      o.strategy = strategy;
      Study study(space, o);
      std::set<std::pair<double, std::int64_t>> seen;
      for (int round = 0; round < 5; ++round) {
        for (const Trial& t : study.ask(4)) {
          const double a = std::get<double>(t.params.at("frac"));
          const std::int64_t b = std::get<std::int64_t>(t.params.at("batch"));
          EXPECT_EQ(a, std::round(a * 20.0) / 20.0) << a;  // to the last bit
          EXPECT_EQ((b - 32) % 32, 0) << b;
          EXPECT_NO_THROW(space.validate(t.params));
          const double lr = std::get<double>(t.params.at("lr"));
          EXPECT_TRUE(seen.insert({a + 10.0 * lr, b}).second) << "a repeated point";
          study.tell(t.id, f(t.params));
        }
      }
    }
  }
}

}  // namespace
}  // namespace gpbo
